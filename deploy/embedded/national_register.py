"""A realistic (synthetic) national register for the demo, written as register-import CSV files.

Some 3,500 organisations in all 20 regions and every tier: the Federation of Trade Unions and a
second republican association, sectoral unions, a territorial association per region, regional
branches (local unions), primary organisations at employers; the two republican employers'
associations, sectoral and regional employers' associations, employers; the labour inspectorates.
Membership of the primary organisations for 2021-2025 adds up to about 1.6 million members of the
Federation, some 52 % of them women, the share under 35 falling from about 30 % to 25 %.

Everything is drawn from a fixed seed, so the same files come out every time; names are built from
the region and classifier names of the registry's reference data. All BINs are synthetic with a
valid check digit. The files go through the registry's bulk import like any registrar's would.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from services.registry.imports.rules import COLUMNS
from services.registry.organisations.rules import make_bin
from services.registry.reference import catalogue

SEED = 20_251_127
YEARS = range(2021, 2026)
FEDERATION_MEMBERS_2021 = 1_640_000
SECOND_ASSOCIATION_MEMBERS_2021 = 120_000
UNDER_35_SHARE = {2021: 0.30, 2022: 0.29, 2023: 0.275, 2024: 0.262, 2025: 0.25}

# Sectoral unions: (slug, main division, other divisions, share of women members, second association?).
# The first is the hand-written demo's mining and metallurgy union.
SECTORAL_UNIONS: tuple[tuple[str, str, tuple[str, ...], float, bool], ...] = (
    ("mining-metallurgy-union", "24", ("07", "08"), 0.24, False),
    ("oil-gas", "06", ("09", "19"), 0.28, False),
    ("coal", "05", (), 0.22, False),
    ("energy", "35", (), 0.34, False),
    ("agriculture", "01", ("02", "03", "10"), 0.45, False),
    ("education", "85", (), 0.80, False),
    ("health", "86", ("87", "88"), 0.82, False),
    ("culture", "90", ("91", "93"), 0.68, False),
    ("public-administration", "84", (), 0.60, False),
    ("construction", "41", ("42", "43", "23"), 0.26, False),
    ("rail", "49", ("52",), 0.35, False),
    ("aviation", "51", (), 0.42, False),
    ("communications", "61", ("53", "60"), 0.55, False),
    ("trade", "47", ("46", "56"), 0.66, False),
    ("finance", "64", ("65", "66"), 0.70, False),
    ("utilities", "36", ("37", "38"), 0.40, False),
    ("chemical", "20", ("21", "22"), 0.44, False),
    ("machine-building", "28", ("25", "27", "29"), 0.30, True),
    ("light-industry", "13", ("14", "15"), 0.74, True),
    ("science", "72", ("71",), 0.58, True),
)
# Sectoral employers' associations exist for these unions' sectors (and mining: the hand-written one).
EMPLOYER_SECTORS = ("oil-gas", "coal", "energy", "agriculture", "construction", "rail", "aviation",
                    "communications", "trade", "finance", "utilities", "chemical", "machine-building", "light-industry")
PUBLIC_SECTORS = ("education", "health", "culture", "public-administration", "science")

COMPANY_WORDS = ("Алтын", "Жұлдыз", "Сарыарқа", "Көктем", "Нұр", "Береке", "Қазына", "Ақжол", "Тұлпар", "Самал",
                 "Шұғыла", "Арай", "Бәйтерек", "Ордабасы", "Жайық", "Ертіс", "Тараз", "Атамұра", "Кемел", "Дәулет")
COMPANY_SUFFIXES = {"24": "Металл", "06": "Ойл", "05": "Көмір", "35": "Энерго", "01": "Агро", "41": "Құрылыс",
                    "49": "Транс", "51": "Авиа", "61": "Телеком", "47": "Сауда", "64": "Финанс", "36": "Су",
                    "20": "Химия", "28": "Маш", "13": "Текстиль", "72": "Ғылым"}


@dataclass
class Row:
    values: dict[str, str]
    tier: int  # parents come in earlier tiers, so a file may be split between tiers

    @property
    def bin(self) -> str:
        return self.values["bin"]


@dataclass
class NationalRegister:
    rows: list[Row] = field(default_factory=list)
    membership: list[dict[str, str]] = field(default_factory=list)

    def csv_files(self, max_bytes: int = 900_000) -> list[bytes]:
        """The register as CSV files of at most ``max_bytes`` each, in an order in which each file's
        parents are registered already (a later file names them by BIN)."""
        records = [r.values for r in sorted(self.rows, key=lambda r: r.tier)] + self.membership
        header = _csv_line(list(COLUMNS))
        files: list[bytes] = []
        current = bytearray(header)
        for record in records:
            line = _csv_line([record.get(c, "") for c in COLUMNS])
            if len(current) + len(line) > max_bytes:
                files.append(bytes(current))
                current = bytearray(header)
            current += line
        if len(current) > len(header):
            files.append(bytes(current))
        return files

    def count(self, kind: str) -> int:
        return sum(1 for r in self.rows if r.values["kind"] == kind)


def _csv_line(values: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(values)
    return out.getvalue().encode()


class _Bins:
    """Synthetic BINs: registration year and month, 4 (a legal entity), a serial, the check digit."""

    def __init__(self) -> None:
        self.serial = 200_000  # clear of the hand-written demo's BIN

    def __call__(self, registered_on: date) -> str:
        while True:
            self.serial += 1
            value = make_bin(f"{registered_on.year % 100:02d}{registered_on.month:02d}4{self.serial:06d}")
            if value is not None:
                return value


def generate(anchors: Mapping[str, str] | None = None, *, seed: int = SEED) -> NationalRegister:
    """The register. ``anchors`` maps the hand-written demo organisations' slugs (fprk, atameken, paryz,
    mining-metallurgy-union, mining-employers) to their ids: the register hangs below them instead
    of entering them again."""
    anchors = dict(anchors or {})
    rng = random.Random(seed)
    bins = _Bins()
    register = NationalRegister()
    regions = catalogue.regions()
    divisions = {d.code: d for d in catalogue.divisions()}

    def day(first: int, last: int) -> date:
        start = date(first, 1, 1)
        return start + timedelta(days=rng.randrange((date(last, 12, 31) - start).days + 1))

    def add(tier: int, kind: str, name_kk: str, name_ru: str, region: str, registered_on: date, *,
            parent: str = "", sectors: tuple[str, ...] = (), ref: str = "", name_en: str = "",
            address: str = "") -> str:
        bin_value = bins(registered_on)
        status = "confirmed" if kind.endswith(("union", "organisation", "association")) and rng.random() < 0.4 \
            else "registered"
        register.rows.append(Row({
            "kind": kind, "name_kk": name_kk, "name_ru": name_ru, "name_en": name_en, "bin": bin_value,
            "region_code": region, "legal_address": address, "sectors": " ".join(sectors), "parent_ref": parent,
            "ref": ref, "status": status, "registered_on": registered_on.isoformat()}, tier))
        return bin_value

    def anchor(slug: str, kind: str, name_kk: str, name_ru: str, name_en: str, region: str, registered: date,
               sectors: tuple[str, ...] = ()) -> str:
        if slug in anchors:
            return anchors[slug]
        return add(0, kind, name_kk, name_ru, region, registered, sectors=sectors, ref=slug, name_en=name_en)

    astana = "710000000"
    federation = anchor("fprk", "republican_union_association", "Қазақстан Республикасы Кәсіподақтар Федерациясы",
                        "Федерация профсоюзов Республики Казахстан",
                        "Federation of Trade Unions of the Republic of Kazakhstan", astana, date(1992, 3, 20))
    second = add(0, "republican_union_association", "«Бірлік» кәсіподақтар республикалық бірлестігі",
                 "Республиканское объединение профсоюзов «Бірлік»", astana, date(2005, 4, 12), ref="birlik",
                 name_en="Birlik Republican Association of Trade Unions")
    atameken = anchor("atameken", "republican_employer_association",
                      "«Атамекен» Қазақстан Республикасының Ұлттық кәсіпкерлер палатасы",
                      "Национальная палата предпринимателей Республики Казахстан «Атамекен»",
                      'National Chamber of Entrepreneurs "Atameken"', astana, date(2013, 11, 1))
    paryz = anchor("paryz", "republican_employer_association",
                   "«ПАРЫЗ» Қазақстан Республикасы жұмыс берушілерінің (кәсіпкерлерінің) конфедерациясы",
                   "Конфедерация работодателей (предпринимателей) Республики Казахстан «ПАРЫЗ»",
                   'Confederation of Employers "PARYZ"', astana, date(1999, 6, 1))

    # Tier 1: sectoral unions, territorial associations, employers' associations, inspectorates.
    sectoral: dict[str, str] = {}
    for slug, main, others, _women, in_second in SECTORAL_UNIONS:
        division = divisions[main]
        parent = second if in_second else federation
        if slug == "mining-metallurgy-union" and slug in anchors:
            sectoral[slug] = anchors[slug]
            continue
        sectoral[slug] = add(1, "sectoral_union", f"«{division.name.kk}» салалық кәсіподағы",
                             f"Отраслевой профсоюз работников: {division.name.ru}", rng.choice(regions[-3:]).code,
                             day(1992, 2002), parent=parent, sectors=(main, *others), ref=f"union-{slug}")
    territorial: dict[str, str] = {}
    regional_employers: dict[str, str] = {}
    for region in regions:
        territorial[region.code] = add(
            1, "territorial_union_association", f"{region.name.kk} кәсіподақтар бірлестігі",
            f"Объединение профсоюзов: {region.name.ru}", region.code, day(1992, 1999), parent=federation,
            ref=f"territorial-{region.short_code}")
        regional_employers[region.code] = add(
            1, "regional_employer_association", f"{region.name.kk} жұмыс берушілер қауымдастығы",
            f"Региональная ассоциация работодателей: {region.name.ru}", region.code, day(2000, 2015),
            parent=atameken, ref=f"employers-{region.short_code}")
        add(1, "government_body", f"{region.name.kk} еңбек инспекциясы басқармасы",
            f"Управление государственной инспекции труда: {region.name.ru}", region.code, day(1997, 2019),
            ref=f"inspectorate-{region.short_code}")
    sector_employers: dict[str, str] = {}
    mining_main = dict((s[0], s[1]) for s in SECTORAL_UNIONS)
    if "mining-employers" in anchors:
        sector_employers["mining-metallurgy-union"] = anchors["mining-employers"]
    else:
        sector_employers["mining-metallurgy-union"] = add(
            1, "sectoral_employer_association", "Тау-кен өндіру және тау-кен металлургия кәсіпорындарының қауымдастығы",
            "Ассоциация горнодобывающих и горно-металлургических предприятий", astana, date(2001, 2, 1),
            parent=atameken, sectors=("07", "24"), ref="mining-employers")
    for slug in EMPLOYER_SECTORS:
        division = divisions[mining_main[slug]]
        sector_employers[slug] = add(1, "sectoral_employer_association", f"«{division.name.kk}» салалық "
                                     "жұмыс берушілер қауымдастығы", f"Отраслевая ассоциация работодателей: "
                                     f"{division.name.ru}", astana, day(2000, 2016),
                                     parent=paryz if rng.random() < 0.3 else atameken, sectors=(division.code,),
                                     ref=f"employers-{slug}")

    # Tier 2: a regional branch (local union) of each sectoral union in about half the regions.
    primaries: list[_Primary] = []
    for slug, main, _others, women_share, in_second in SECTORAL_UNIONS:
        division = divisions[main]
        weight_of_sector = 2.0 if slug in PUBLIC_SECTORS else 1.0
        for region in rng.sample(regions, rng.randint(9, 13)):
            local = add(2, "local_union", f"«{division.name.kk}» кәсіподағы: {region.name.kk}",
                        f"Профсоюз работников: {division.name.ru} — {region.name.ru}", region.code,
                        day(1995, 2012), parent=sectoral[slug], sectors=(main,),
                        ref=f"local-{slug}-{region.short_code}")
            # Tier 3 and 4: employers of the sector in the region, most with a primary organisation.
            for _ in range(rng.randint(5, 10)):
                word = rng.choice(COMPANY_WORDS)
                suffix = COMPANY_SUFFIXES.get(main, "")
                form_kk, form_ru = ("КММ", "КГУ") if slug in PUBLIC_SECTORS else ("ЖШС", "ТОО")
                company_kk = f"«{word}{suffix}-{rng.randint(1, 99)}» {form_kk}"
                company_ru = f"{form_ru} «{word}{suffix}-{rng.randint(1, 99)}»"
                registered = day(1993, 2019)
                employer_parent = ""
                if rng.random() < 0.7:
                    employer_parent = sector_employers.get(slug) or regional_employers[region.code]
                    if rng.random() < 0.4:
                        employer_parent = regional_employers[region.code]
                add(3, "employer", company_kk, company_ru, region.code, registered, parent=employer_parent,
                    sectors=(main,), address=f"{region.centre.ru if region.centre else region.name.ru}, "
                    f"ул. {rng.choice(('Абая', 'Достык', 'Сатпаева', 'Кунаева', 'Толе би', 'Республики'))}, "
                    f"{rng.randint(1, 200)}")
                if rng.random() < 0.85:
                    union_registered = max(registered, date(1995, 1, 1)) + timedelta(days=rng.randint(30, 2000))
                    union_registered = min(union_registered, date(2024, 6, 30))
                    primary = add(4, "primary_union_organisation", f"{company_kk} бастауыш кәсіподақ ұйымы",
                                  f"Первичная профсоюзная организация {company_ru}", region.code, union_registered,
                                  parent=local, sectors=(main,))
                    primaries.append(_Primary(primary, rng.lognormvariate(0, 0.9) * weight_of_sector, in_second,
                                              union_registered, women_share))
    # Tier 3: primary organisations of small enterprises, directly in their region's territorial association.
    for region in regions:
        for _ in range(rng.randint(6, 12)):
            registered = day(1996, 2023)
            primary = add(3, "primary_union_organisation", f"{region.name.kk}: шағын кәсіпорындар кәсіподақ ұйымы "
                          f"№{rng.randint(1, 400)}", f"Профсоюзная организация малых предприятий №"
                          f"{rng.randint(1, 400)}: {region.name.ru}", region.code, registered,
                          parent=territorial[region.code])
            primaries.append(_Primary(primary, rng.lognormvariate(0, 0.7) * 0.5, False, registered, 0.55))
    _membership(register, primaries, rng)
    return register


@dataclass(frozen=True)
class _Primary:
    bin: str
    weight: float  # relative size
    in_second_association: bool
    registered_on: date
    women_share: float


def _membership(register: NationalRegister, primaries: list[_Primary], rng: random.Random) -> None:
    """Counts per primary organisation and year, scaled so each association's 2021 total is as intended."""
    for in_second, target in ((False, FEDERATION_MEMBERS_2021), (True, SECOND_ASSOCIATION_MEMBERS_2021)):
        group = [p for p in primaries if p.in_second_association == in_second]
        scale = target / sum(p.weight for p in group)
        for primary in group:
            size = max(8, round(primary.weight * scale))
            for year in YEARS:
                if year < primary.registered_on.year:
                    continue
                # Membership drifts down about 1 % a year, with each organisation's own ups and downs.
                total = max(5, round(size * (1 - 0.012 * (year - 2021)) * rng.uniform(0.97, 1.03)))
                women = min(total, round(total * min(0.95, max(0.05, rng.gauss(primary.women_share, 0.04)))))
                under_35 = min(total, round(total * max(0.0, rng.gauss(UNDER_35_SHARE[year], 0.03))))
                register.membership.append({"bin": primary.bin, "membership_year": str(year),
                                            "members_total": str(total), "members_women": str(women),
                                            "members_under_35": str(under_35)})
