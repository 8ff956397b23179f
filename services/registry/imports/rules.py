"""Reading a register file and checking every row: plain code, no database, no HTTP.

The checks are those of the API: each organisation row is validated by ``OrganisationCreate``
(names, BIN check digit, region and division codes), affiliations by ``affiliation_problem``
and membership counts by ``membership_problems``. Facts that live in the database (BINs and ids
already registered, reports already filed) are handed in as ``RegisterFacts``, so that every
problem of every row is found in one pass and reported together.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from contracts.registry import OrganisationKind, OrganisationStatus
from services.registry.organisations.rules import MembershipCounts, affiliation_problem, membership_problems
from services.registry.organisations.schemas import MembershipReportWrite, OrganisationCreate

# The columns of a register file, in the order of the template. Only kind, name_kk and name_ru
# are needed for an organisation row; a row without a kind adds a membership report.
COLUMNS: tuple[str, ...] = (
    "kind", "name_kk", "name_ru", "name_en", "bin", "region_code", "legal_address", "sectors",
    "parent_ref", "ref", "status", "registered_on",
    "membership_year", "members_total", "members_women", "members_under_35",
)
REQUIRED_COLUMNS = ("kind", "name_kk", "name_ru")
MEMBERSHIP_COLUMNS = ("membership_year", "members_total", "members_women", "members_under_35")
ORGANISATION_ONLY = ("name_kk", "name_ru", "name_en", "region_code", "legal_address", "sectors", "parent_ref",
                     "status", "registered_on")
IMPORTABLE_STATUSES = (OrganisationStatus.registered, OrganisationStatus.confirmed)
_IMPORTABLE_VALUES = frozenset(s.value for s in IMPORTABLE_STATUSES)
# The register cannot hold a registration before independence-era law existed.
EARLIEST_REGISTRATION = date(1991, 1, 1)
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_ZIP_MAGIC = b"PK\x03\x04"
# What the parts of an uploaded workbook may unpack to: a register sheet of the largest accepted upload
# (1 MiB) unpacks to a few tens of MiB at most; a zip bomb unpacks to gigabytes.
MAX_XLSX_UNPACKED_BYTES = 64 * 1024 * 1024
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_BIN = re.compile(r"^[0-9]{12}$")


@dataclass(frozen=True)
class RowProblem:
    """One failing check: the row (the header is row 1, as a spreadsheet numbers it), the column,
    the rule, and the problem in words."""

    row: int
    column: str
    rule: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "rule": self.rule, "detail": self.detail}


@dataclass(frozen=True)
class SourceRow:
    number: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "")


# --- reading -------------------------------------------------------------------------------


def read_table(content: bytes) -> tuple[list[SourceRow], list[RowProblem]]:
    """The data rows of a CSV or XLSX file (told apart by content, not by name), or the problems
    that stop it being read at all (encoding, header)."""
    if content.startswith(_ZIP_MAGIC):
        return _read_xlsx(content)
    return _read_csv(content)


def _read_csv(content: bytes) -> tuple[list[SourceRow], list[RowProblem]]:
    try:
        text = content.decode("utf-8-sig")  # Excel writes a byte-order mark
    except UnicodeDecodeError as exc:
        return [], [RowProblem(0, "", "utf8_encoding", f"the file is not UTF-8 text (byte {exc.start})")]
    first_line = text.split("\n", 1)[0]
    # Spreadsheets in a Kazakh or Russian locale save CSV with semicolons.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = list(reader)
    except csv.Error as exc:
        # A cell longer than the csv module's field limit (an unclosed quote swallowing the rest of the
        # file, or a runaway cell): a problem to report, not an exception that leaves the job retried forever.
        return [], [RowProblem(reader.line_num, "", "csv_readable", f"line {reader.line_num} cannot be read as "
                                                                    f"CSV ({exc})")]
    return _rows(records)


def _xlsx_expansion_problem(content: bytes) -> RowProblem | None:
    """A workbook whose parts unpack to more than MAX_XLSX_UNPACKED_BYTES (a zip bomb: a small upload
    that would fill the memory of the worker that reads it). Python's zip reader never unpacks a part
    beyond the size its directory declares, so the declared sizes bound what is read."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        return RowProblem(0, "", "xlsx_readable", f"the file is not a readable XLSX workbook ({exc})")
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        return RowProblem(0, "", "xlsx_size", f"the workbook unpacks to {unpacked} bytes, more than the limit of "
                                              f"{MAX_XLSX_UNPACKED_BYTES}; save it as CSV or split it")
    return None


def _read_xlsx(content: bytes) -> tuple[list[SourceRow], list[RowProblem]]:
    import openpyxl

    if (problem := _xlsx_expansion_problem(content)) is not None:
        return [], [problem]
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # a damaged or foreign zip: openpyxl raises many kinds
        return [], [RowProblem(0, "", "xlsx_readable", f"the file is not a readable XLSX workbook ({exc})")]
    try:
        sheet = workbook.worksheets[0]
        records = [list(values) for values in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    header = [_cell_text(v, "") for v in records[0]] if records else []
    return _rows([[_cell_text(v, header[i] if i < len(header) else "") for i, v in enumerate(record)]
                  for record in records])


def _cell_text(value: Any, column: str) -> str:
    """A spreadsheet cell as the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        # A spreadsheet turns "050340001235" into a number and drops the leading zero.
        if column == "bin":
            return f"{value:012d}"
        if column == "sectors":
            return f"{value:02d}"
    return str(value)


def _rows(records: list[list[str]]) -> tuple[list[SourceRow], list[RowProblem]]:
    if not records:
        return [], [RowProblem(1, "", "header_row", "the file is empty; the first row must name the columns")]
    header = [h.strip().lower() for h in records[0]]
    problems = [RowProblem(1, name, "known_column", f"{name!r} is not a column of the register file")
                for name in header if name and name not in COLUMNS]
    problems += [RowProblem(1, name, "required_column", f"the column {name!r} is missing")
                 for name in REQUIRED_COLUMNS if name not in header]
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            problems.append(RowProblem(1, name, "unique_column", f"the column {name!r} appears twice"))
        seen.add(name)
    if problems:
        return [], problems
    rows = []
    for offset, record in enumerate(records[1:], start=2):
        values = {name: (record[i] or "").strip() for i, name in enumerate(header) if name and i < len(record)}
        if any(values.values()):
            rows.append(SourceRow(offset, values))
    return rows, []


def template_csv() -> str:
    return ",".join(COLUMNS) + "\r\n"


# --- what the database already knows ---------------------------------------------------------


@dataclass(frozen=True)
class KnownOrganisation:
    id: uuid.UUID
    kind: str
    status: str


@dataclass
class RegisterFacts:
    """What the register holds about the BINs and ids a file names."""

    by_bin: dict[str, KnownOrganisation] = field(default_factory=dict)
    by_id: dict[uuid.UUID, KnownOrganisation] = field(default_factory=dict)
    reported: set[tuple[uuid.UUID, int]] = field(default_factory=set)


def referenced_keys(rows: Iterable[SourceRow]) -> tuple[set[str], set[uuid.UUID]]:
    """The BINs and organisation ids a file names, for looking them up in the register."""
    bins: set[str] = set()
    ids: set[uuid.UUID] = set()
    for row in rows:
        for column in ("bin", "parent_ref"):
            value = row.get(column)
            if _BIN.match(value):
                bins.add(value)
            elif column == "parent_ref" and _UUID.match(value):
                ids.add(uuid.UUID(value))
    return bins, ids


# --- checking ------------------------------------------------------------------------------


@dataclass
class PlannedOrganisation:
    row: int
    create: OrganisationCreate
    status: OrganisationStatus
    registered_on: date
    ref: str
    parent_text: str
    parent_row: int | None = None  # index into the plan's organisations
    parent_existing: KnownOrganisation | None = None


@dataclass
class PlannedReport:
    row: int
    year: int
    counts: MembershipCounts
    organisation_index: int | None = None  # a row of this file ...
    existing: KnownOrganisation | None = None  # ... or an organisation already registered
    target_text: str = ""


@dataclass
class ImportPlan:
    organisations: list[PlannedOrganisation]
    reports: list[PlannedReport]


@dataclass
class RowValidator:
    """Checks rows as they come (so progress can be shown), then the links between them."""

    facts: RegisterFacts
    today: date
    problems: list[RowProblem] = field(default_factory=list)
    organisations: list[PlannedOrganisation] = field(default_factory=list)
    reports: list[PlannedReport] = field(default_factory=list)
    _by_ref: dict[str, int] = field(default_factory=dict)
    _by_bin: dict[str, int] = field(default_factory=dict)
    _broken_rows: set[int] = field(default_factory=set)

    def _problem(self, row: int, column: str, rule: str, detail: str) -> None:
        self.problems.append(RowProblem(row, column, rule, detail))

    def check(self, rows: Iterable[SourceRow]) -> None:
        for row in rows:
            if row.get("kind"):
                self._organisation_row(row)
            else:
                self._membership_only_row(row)

    def _organisation_row(self, row: SourceRow) -> None:
        n = row.number
        before = len(self.problems)
        candidate = {
            "kind": row.get("kind"), "name_kk": row.get("name_kk"), "name_ru": row.get("name_ru"),
            "name_en": row.get("name_en") or None, "bin": row.get("bin") or None,
            "region_code": row.get("region_code") or None, "legal_address": row.get("legal_address") or None,
            "sectors": [code for code in re.split(r"[;\s]+", row.get("sectors")) if code],
        }
        create: OrganisationCreate | None = None
        try:
            create = OrganisationCreate.model_validate(candidate)
        except ValidationError as exc:
            for error in exc.errors():
                column = str(error["loc"][0]) if error["loc"] else ""
                where = f" (sector {candidate['sectors'][error['loc'][1]]!r})" if (
                    column == "sectors" and len(error["loc"]) > 1 and isinstance(error["loc"][1], int)) else ""
                self._problem(n, column, str(error["type"]), str(error["msg"]) + where)
        kind = candidate["kind"]
        bin_value = row.get("bin")
        if kind == OrganisationKind.employer and not bin_value:
            self._problem(n, "bin", "required_for_employer", "an employer must give its 12-digit BIN")
        if bin_value:
            if bin_value in self._by_bin:
                other = self.organisations[self._by_bin[bin_value]].row
                self._problem(n, "bin", "unique_in_file", f"BIN {bin_value} is also on row {other}")
            elif (known := self.facts.by_bin.get(bin_value)) is not None:
                self._problem(n, "bin", "unique", f"an organisation with BIN {bin_value} is already registered "
                                                  f"(id {known.id})")
        ref = row.get("ref")
        if ref and ref in self._by_ref:
            self._problem(n, "ref", "unique_in_file", f"ref {ref!r} is also on row "
                                                      f"{self.organisations[self._by_ref[ref]].row}")
        status_text = row.get("status") or OrganisationStatus.registered.value
        if status_text not in _IMPORTABLE_VALUES:
            self._problem(n, "status", "importable_status",
                          f"{status_text!r}: an imported organisation is 'registered' or 'confirmed'")
        registered_on = self._date(n, "registered_on", row.get("registered_on")) or self.today
        report = self._membership_columns(row, required=False)
        if len(self.problems) > before or create is None:
            self._broken_rows.add(n)
        index = len(self.organisations)
        # Kept even when broken, so that rows naming it as parent are not reported twice over.
        self.organisations.append(PlannedOrganisation(
            row=n, create=create or OrganisationCreate.model_construct(kind=kind), ref=ref,
            status=OrganisationStatus(status_text) if status_text in _IMPORTABLE_VALUES
            else OrganisationStatus.registered,
            registered_on=registered_on, parent_text=row.get("parent_ref")))
        if ref and ref not in self._by_ref:
            self._by_ref[ref] = index
        if bin_value and bin_value not in self._by_bin:
            self._by_bin[bin_value] = index
        if report is not None:
            report.organisation_index = index
            self.reports.append(report)

    def _membership_only_row(self, row: SourceRow) -> None:
        n = row.number
        stray = [c for c in ORGANISATION_ONLY if row.get(c)]
        if stray:
            self._problem(n, "kind", "required", "a row with organisation particulars "
                                                 f"({', '.join(stray)}) must give the organisation's kind")
            return
        if not row.get("ref") and not row.get("bin"):
            self._problem(n, "ref", "required", "a membership row names its organisation by ref or by BIN")
        report = self._membership_columns(row, required=True)
        if report is not None:
            report.target_text = row.get("ref") or row.get("bin")
            self.reports.append(report)

    def _date(self, n: int, column: str, text: str) -> date | None:
        if not text:
            return None
        try:
            value = date.fromisoformat(text) if "-" in text else datetime.strptime(text, "%d.%m.%Y").date()
        except ValueError:
            self._problem(n, column, "date", f"{text!r} is not a date (YYYY-MM-DD or DD.MM.YYYY)")
            return None
        if value > self.today:
            self._problem(n, column, "not_in_future", f"{value.isoformat()} is in the future")
        elif value < EARLIEST_REGISTRATION:
            self._problem(n, column, "not_before_1991", f"{value.isoformat()} is before 1991")
        return value

    def _membership_columns(self, row: SourceRow, *, required: bool) -> PlannedReport | None:
        n = row.number
        given = {c: row.get(c) for c in MEMBERSHIP_COLUMNS}
        if not any(given.values()) and not required:
            return None
        numbers: dict[str, int] = {}
        for column, text in given.items():
            if not text:
                self._problem(n, column, "required", "a membership report needs the year, the total, "
                                                     "the women and the members under 35")
                continue
            try:
                numbers[column] = int(text)
            except ValueError:
                self._problem(n, column, "integer", f"{text!r} is not a whole number")
        if len(numbers) < len(MEMBERSHIP_COLUMNS):
            return None
        year = numbers["membership_year"]
        broken = False
        if not 1991 <= year <= self.today.year:
            self._problem(n, "membership_year", "reporting_year", f"a report is for a year from 1991 to "
                                                                  f"{self.today.year}")
            broken = True
        try:
            write = MembershipReportWrite(total=numbers["members_total"], women=numbers["members_women"],
                                          under_35=numbers["members_under_35"])
        except ValidationError as exc:
            columns = {"total": "members_total", "women": "members_women", "under_35": "members_under_35"}
            for error in exc.errors():
                self._problem(n, columns.get(str(error["loc"][0]), ""), str(error["type"]), str(error["msg"]))
            return None
        counts = MembershipCounts(write.total, write.women, write.under_35)
        columns = {"/women": "members_women", "/under_35": "members_under_35", "/by_region": "members_total"}
        for pointer, rule, detail in membership_problems(counts):
            self._problem(n, columns.get(pointer, ""), rule, detail)
            broken = True
        return None if broken else PlannedReport(row=n, year=year, counts=counts)

    def finish(self) -> tuple[ImportPlan, list[RowProblem]]:
        """Resolve parents and report targets, now that every row has been seen."""
        for organisation in self.organisations:
            if organisation.parent_text:
                self._resolve_parent(organisation)
        seen_years: dict[tuple[object, int], int] = {}
        for report in self.reports:
            if report.organisation_index is None:
                self._resolve_report_target(report)
            target = (report.organisation_index if report.organisation_index is not None
                      else report.existing.id if report.existing else None)
            if target is None:
                continue
            key = (target, report.year)
            if key in seen_years:
                self._problem(report.row, "membership_year", "one_report_per_year",
                              f"row {seen_years[key]} already reports {report.year} for this organisation")
            elif report.existing is not None and (report.existing.id, report.year) in self.facts.reported:
                self._problem(report.row, "membership_year", "one_report_per_year",
                              f"the organisation has already reported {report.year}; a correction is made "
                              "through the API, not by import")
            else:
                seen_years[key] = report.row
        self.problems.sort(key=lambda p: (p.row, COLUMNS.index(p.column) if p.column in COLUMNS else -1))
        return ImportPlan(self.organisations, self.reports), self.problems

    def _resolve_parent(self, organisation: PlannedOrganisation) -> None:
        text, n = organisation.parent_text, organisation.row
        parent_kind: str | None = None
        if text in self._by_ref:
            organisation.parent_row = self._by_ref[text]
        elif text in self._by_bin:
            organisation.parent_row = self._by_bin[text]
        elif _BIN.match(text) and text in self.facts.by_bin:
            organisation.parent_existing = self.facts.by_bin[text]
        elif _UUID.match(text) and uuid.UUID(text) in self.facts.by_id:
            organisation.parent_existing = self.facts.by_id[uuid.UUID(text)]
        else:
            self._problem(n, "parent_ref", "known_organisation",
                          f"{text!r} is neither the ref or BIN of a row of this file nor the BIN or id of a "
                          "registered organisation")
            return
        if organisation.parent_row is not None:
            parent = self.organisations[organisation.parent_row]
            if parent.row in self._broken_rows and parent.create.kind not in set(OrganisationKind):
                return  # the parent's kind is itself wrong: that row's problem says so
            parent_kind = parent.create.kind
        else:
            assert organisation.parent_existing is not None
            if organisation.parent_existing.status not in (OrganisationStatus.registered, OrganisationStatus.confirmed,
                                                           OrganisationStatus.lapsed):
                self._problem(n, "parent_ref", "registered_organisation",
                              f"the higher-tier organisation is not in the register as an active organisation "
                              f"(status {organisation.parent_existing.status})")
                return
            parent_kind = organisation.parent_existing.kind
        if organisation.create.kind in set(OrganisationKind) and parent_kind is not None:
            if problem := affiliation_problem(organisation.create.kind, parent_kind):
                self._problem(n, "parent_ref", "allowed_tier", problem)

    def _resolve_report_target(self, report: PlannedReport) -> None:
        text = report.target_text
        if text in self._by_ref:
            report.organisation_index = self._by_ref[text]
        elif text in self._by_bin:
            report.organisation_index = self._by_bin[text]
        elif text in self.facts.by_bin:
            known = self.facts.by_bin[text]
            if known.status not in (OrganisationStatus.registered, OrganisationStatus.confirmed):
                self._problem(report.row, "bin", "registered_organisation",
                              f"an organisation with status {known.status} does not report membership")
                return
            report.existing = known
        else:
            self._problem(report.row, "ref", "known_organisation",
                          f"{text!r} is neither the ref or BIN of a row of this file nor the BIN of a "
                          "registered organisation")


def validate(rows: list[SourceRow], facts: RegisterFacts, today: date) -> tuple[ImportPlan, list[RowProblem]]:
    """Every problem of every row, or the plan of what to write when there is none."""
    validator = RowValidator(facts, today)
    validator.check(rows)
    return validator.finish()
