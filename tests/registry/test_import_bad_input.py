"""Bad input to the register that used to leave a job retried forever, a 500, or text PostgreSQL cannot hold.

- a CSV cell longer than the csv module's field limit (or an unclosed quote swallowing the rest of the file)
  made the worker raise on every attempt, so the job stayed "validating" and was taken up again forever;
- an XLSX whose parts unpack to gigabytes (a zip bomb) was unpacked in the worker's memory;
- a NUL character (U+0000) in a name or address was stored by SQLite and made PostgreSQL answer 500 (and,
  through an import, made the worker fail on every attempt).
"""

from __future__ import annotations

import io
import zipfile

from services.registry.imports.rules import MAX_XLSX_UNPACKED_BYTES, read_table
from tests.registry.test_imports import counts, finished, register_rows, registrar, to_csv, to_xlsx, upload
from tests.registry.test_imports import registry as registry  # the fixture
from tests.support.services import RunningService

HEADER = b"kind,name_kk,name_ru\n"


def test_a_runaway_csv_cell_is_a_problem_not_an_exception() -> None:
    rows, problems = read_table(HEADER + b'sectoral_union,"never closed,name\n' + b"a" * 140_000 + b"\n")
    assert rows == []
    assert [(p.rule, p.column) for p in problems] == [("csv_readable", "")]
    assert "field limit" in problems[0].detail


def zip_bomb() -> bytes:
    """A real workbook with one extra part that unpacks to more than the limit (it compresses to ~64 KiB)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(to_xlsx(register_rows(1)))) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in source.infolist():
            bomb.writestr(info, source.read(info))
        bomb.writestr("xl/media/padding.bin", bytes(MAX_XLSX_UNPACKED_BYTES + 1))
    return out.getvalue()


def test_a_zip_bomb_workbook_is_refused_before_it_is_unpacked() -> None:
    content = zip_bomb()
    assert len(content) < 1_048_576
    rows, problems = read_table(content)
    assert rows == []
    assert [(p.rule, p.row) for p in problems] == [("xlsx_size", 0)]


async def test_an_import_with_a_runaway_cell_fails_with_its_report(registry: RunningService) -> None:
    before = await counts(registry)
    posted = await upload(registry, HEADER + b"sectoral_union," + b"a" * 140_000 + b",b\n")
    assert posted.status_code == 202, posted.text
    job = await finished(registry, posted.json()["id"])
    assert job["status"] == "failed"
    assert [p["rule"] for p in job["report"]["problems"]] == ["csv_readable"]
    assert job["attempts"] == 1
    assert await counts(registry) == before


async def test_a_nul_character_in_a_name_is_refused_naming_the_field(registry: RunningService) -> None:
    before = await counts(registry)
    answer = await registry.client.post("/organisations", headers=registrar(registry), json={
        "kind": "sectoral_union", "name_kk": "Кәсіп\u0000одақ", "name_ru": "Профсоюз",
        "legal_address": "Астана,\u0000 ул. Абая 1"})
    assert answer.status_code == 422, answer.text
    assert {(e["pointer"], e["rule"]) for e in answer.json()["errors"]} == {
        ("/name_kk", "no_nul_character"), ("/legal_address", "no_nul_character")}
    assert await counts(registry) == before


async def test_an_import_with_a_nul_character_names_the_row_and_column(registry: RunningService) -> None:
    before = await counts(registry)
    rows = register_rows(2)
    rows[1]["name_ru"] = "Профсоюз\u0000 металлургов"
    job = await finished(registry, (await upload(registry, to_csv(rows))).json()["id"])
    assert job["status"] == "failed", job
    assert [(p["row"], p["column"], p["rule"]) for p in job["report"]["problems"]] == [
        (3, "name_ru", "no_nul_character")]
    assert await counts(registry) == before


async def test_an_import_of_a_zip_bomb_fails_with_its_report(registry: RunningService) -> None:
    job = await finished(registry, (await upload(registry, zip_bomb(), name="register.xlsx")).json()["id"])
    assert job["status"] == "failed"
    assert [p["rule"] for p in job["report"]["problems"]] == ["xlsx_size"]
