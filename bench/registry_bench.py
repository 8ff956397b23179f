"""The public register at national scale: name-fragment search and statistics through the gateway.

    python -m bench.registry_bench [--organisations 100000] [--duration 10] [--connections 4] [--postgres [URL]]

Loads ``--organisations`` organisations (every tier and kind, all 20 regions, classifier
sectors; 2 % applicants and 3 % refusals, which the register must hide), five years of
membership reports for every union (about 410,000 at 100,000 organisations, a third of them
split by region), registration applications with decisions and grounds, and labour-force
figures, straight into a fresh SQLite registry database with bulk SQL (not through HTTP).
Then it starts a nats-server, the registry and the gateway in front of it — each a uvicorn
process with one worker, as in bench/gateway_bench.py — and asks, anonymously through the
gateway, as the public does:

    search:      GET /api/v1/registry/organisations?q=<fragment>[&kind=..][&region_code=..]
                 with fragments in Russian and Kazakh, in either case, rotating over filters
    statistics:  GET /api/v1/registry/statistics
    baseline:    GET /healthz on the gateway (nothing forwarded), in the same run

from ``--connections`` concurrent clients (1, then 4; a Python aiohttp load generator in this process),
and prints p50/p95/p99 and requests/s beside the targets (search p95 <= 50 ms, statistics
p95 <= 200 ms) with PASS/FAIL. The statistics figure also shows the first (uncached)
computation on its own. The anonymous per-address rate limit is raised so that the load is
never answered 429; the limiter itself stays on.
This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from bench.gateway_bench import (
    BIN,
    Processes,
    free_port,
    machine_busy_fraction,
    uvicorn_command,
    wait_for,
    wait_for_port,
)
from kernel.identity import generate_keypair

TARGETS_MS = {"search": 50.0, "statistics": 200.0}

# --- a synthetic national register -------------------------------------------------------------

REGIONS = ["100000000", "110000000", "150000000", "190000000", "230000000", "270000000", "310000000", "330000000",
           "350000000", "390000000", "430000000", "470000000", "550000000", "590000000", "610000000", "620000000",
           "630000000", "710000000", "750000000", "790000000"]
DIVISIONS = ["01", "05", "06", "07", "08", "10", "16", "19", "20", "24", "25", "28", "35", "36", "41", "42", "43",
             "46", "47", "49", "50", "51", "52", "53", "55", "56", "61", "62", "64", "68", "71", "72", "84", "85",
             "86", "87", "88", "90", "93"]
# (kind, share of the register, Kazakh and Russian name patterns)
KINDS = [
    ("primary_union_organisation", 0.60, "{place} {trade} бастауыш кәсіподақ ұйымы",
     "Первичная профсоюзная организация {trade_ru} {place_ru}"),
    ("local_union", 0.20, "{place} {trade} кәсіподағы", "Профсоюз {trade_ru} {place_ru}"),
    ("territorial_union_association", 0.015, "{place} кәсіподақтар бірлестігі",
     "Территориальное объединение профсоюзов {place_ru}"),
    ("sectoral_union", 0.004, "{trade} салалық кәсіподағы", "Отраслевой профсоюз {trade_ru}"),
    ("republican_union_association", 0.001, "Республикалық {trade} кәсіподақтар бірлестігі",
     "Республиканское объединение профсоюзов {trade_ru}"),
    ("employer", 0.14, "{place} {trade} ЖШС", "ТОО {place_ru} {trade_ru}"),
    ("regional_employer_association", 0.01, "{place} жұмыс берушілер бірлестігі",
     "Объединение работодателей {place_ru}"),
    ("government_body", 0.03, "{place} еңбек басқармасы", "Управление труда {place_ru}"),
]
PLACES = [("Алматы", "Алматы"), ("Астана", "Астаны"), ("Шымкент", "Шымкента"), ("Қарағанды", "Караганды"),
          ("Ақтөбе", "Актобе"), ("Тараз", "Тараза"), ("Павлодар", "Павлодара"), ("Өскемен", "Усть-Каменогорска"),
          ("Семей", "Семея"), ("Атырау", "Атырау"), ("Қостанай", "Костаная"), ("Қызылорда", "Кызылорды"),
          ("Орал", "Уральска"), ("Петропавл", "Петропавловска"), ("Ақтау", "Актау"), ("Теміртау", "Темиртау"),
          ("Түркістан", "Туркестана"), ("Көкшетау", "Кокшетау"), ("Талдықорған", "Талдыкоргана"),
          ("Екібастұз", "Экибастуза"), ("Жезқазған", "Жезказгана"), ("Балқаш", "Балхаша")]
TRADES = [("мұнайшылар", "нефтяников"), ("кеншілер", "горняков"), ("металлургтер", "металлургов"),
          ("мұғалімдер", "учителей"), ("дәрігерлер", "медиков"), ("теміржолшылар", "железнодорожников"),
          ("құрылысшылар", "строителей"), ("энергетиктер", "энергетиков"), ("көлікшілер", "транспортников"),
          ("байланысшылар", "связистов"), ("ауыл шаруашылығы", "работников села"), ("мәдениет", "культуры"),
          ("химиктер", "химиков"), ("тоқыма", "текстильщиков"), ("газшылар", "газовиков"),
          ("ғалымдар", "научных работников"), ("қызметкерлер", "служащих"), ("су шаруашылығы", "водников")]
# Fragments the public types: Russian and Kazakh, upper and lower case, some rare, some common.
FRAGMENTS = ["нефтян", "ГОРНЯК", "учител", "Медик", "железнодорож", "строит", "энергет", "химик",
             "мұнайшы", "КЕНШІЛЕР", "мұғалім", "дәрігер", "теміржол", "құрылысшы", "газшы", "ғалым",
             "Караганд", "алматы", "ПАВЛОДАР", "өскемен", "Шымкент", "теміртау", "ақтау", "экибастуз"]
UNION_KINDS = {"primary_union_organisation", "local_union", "territorial_union_association", "sectoral_union",
               "republican_union_association"}
YEARS = [2020, 2021, 2022, 2023, 2024]
GROUNDS = [("min_founders", "Закон о профсоюзах, ст. 10 п. 2"), ("founding_documents", "Закон о профсоюзах, ст. 10"),
           ("false_information", "Закон о государственной регистрации, ст. 11")]


async def load_register(url: str, organisations: int, seed: int = 20260) -> dict[str, int]:
    """Bulk inserts through SQLAlchemy Core (types as the service stores them), in one transaction."""
    from services.registry.register.rules import search_text

    rng = random.Random(seed)
    from services.registry.organisations.models import MembershipReport, Organisation, OrganisationSector
    from services.registry.registrations.models import RegistrationApplication
    from services.registry.statistics.models import LabourForce

    engine = create_async_engine(url)
    if url.startswith("sqlite"):
        fast_sqlite(engine.sync_engine)
    t = {m.__tablename__: m.__table__ for m in (Organisation, OrganisationSector, MembershipReport,
                                                RegistrationApplication, LabourForce)}
    now = datetime.now(UTC)
    kinds = [k[0] for k in KINDS]
    weights = [k[1] for k in KINDS]
    patterns = {k[0]: (k[2], k[3]) for k in KINDS}
    org_rows: list[dict[str, Any]] = []
    sector_rows: list[dict[str, Any]] = []
    report_rows: list[dict[str, Any]] = []
    application_rows: list[dict[str, Any]] = []
    for n in range(organisations):
        kind = rng.choices(kinds, weights)[0]
        place, place_ru = rng.choice(PLACES)
        trade, trade_ru = rng.choice(TRADES)
        kk_pattern, ru_pattern = patterns[kind]
        name_kk = f"{kk_pattern.format(place=place, trade=trade)} №{n}"
        name_ru = f"{ru_pattern.format(place_ru=place_ru, trade_ru=trade_ru)} №{n}"
        status = rng.choices(["registered", "confirmed", "lapsed", "liquidated", "applicant", "refused"],
                             [60, 30, 3, 2, 2, 3])[0]
        organisation_id = uuid.uuid4()
        org_rows.append({
            "id": organisation_id, "kind": kind, "name_kk": name_kk, "name_ru": name_ru, "name_en": None,
            "search_name": search_text(name_kk, name_ru, None), "bin": None, "region_code": rng.choice(REGIONS),
            "legal_address": f"{place}, көше {rng.randint(1, 300)}", "officers": [{"role": "chair", "name": "А. Б."}],
            "status": status, "parent_id": None,
            "registered_at": (None if status in ("applicant", "refused")
                              else now - timedelta(days=rng.randint(30, 4000))),
            "status_confirmation_due": None, "confirmed_on": None, "lapsed_on": None, "liquidated_on": None,
            "updated_at": now, "version": 1})
        for code in rng.sample(DIVISIONS, rng.choice([1, 1, 2])):
            sector_rows.append({"organisation_id": organisation_id, "division_code": code})
        if kind in UNION_KINDS and status not in ("applicant", "refused"):
            base = rng.randint(5, 120)
            for year in YEARS:
                total = max(1, int(base * rng.uniform(0.9, 1.1)))
                women = int(total * rng.uniform(0.3, 0.7))
                under_35 = int(total * rng.uniform(0.15, 0.45))
                by_region: dict[str, int] = {}
                if rng.random() < 0.33:
                    first = int(total * rng.uniform(0.5, 0.9))
                    a, b = rng.sample(REGIONS, 2)
                    by_region = {a: first, b: total - first}
                report_rows.append({"id": uuid.uuid4(), "organisation_id": organisation_id, "year": year,
                                    "total": total, "women": women, "under_35": under_35, "by_region": by_region,
                                    "reported_at": now, "reported_by": "bench"})
        if kind in UNION_KINDS and rng.random() < 0.08:
            filed = date(2021, 1, 1) + timedelta(days=rng.randint(0, 1400))
            outcome = ("refused" if status == "refused" else "submitted" if status == "applicant" else "registered")
            decided = filed + timedelta(days=rng.randint(1, 45)) if outcome != "submitted" else None
            cited = rng.sample(GROUNDS, rng.randint(1, 2)) if outcome == "refused" else []
            grounds = [{"rule": r, "article": a, "detail": "bench"} for r, a in cited]
            application_rows.append({
                "id": uuid.uuid4(), "organisation_id": organisation_id, "status": outcome, "attempt": 1,
                "founders": 12, "documents": ["charter"], "filed_on": filed, "first_filed_on": filed,
                "correction_due": None, "decided_on": decided, "rule_set_code": None, "rule_set_revision": None,
                "grounds": grounds, "updated_at": now, "version": 1})
    labour_rows = []
    for year in YEARS:
        labour_rows.append({"id": uuid.uuid4(), "year": year, "region_code": None, "employees": 6_800_000 + year,
                            "source": "bench", "recorded_at": now, "recorded_by": "bench"})
        labour_rows += [{"id": uuid.uuid4(), "year": year, "region_code": code,
                         "employees": rng.randint(150_000, 800_000), "source": "bench", "recorded_at": now,
                         "recorded_by": "bench"} for code in REGIONS]
    async with engine.begin() as connection:
        for table, rows in (("organisation", org_rows), ("organisation_sector", sector_rows),
                            ("membership_report", report_rows), ("registration_application", application_rows),
                            ("labour_force", labour_rows)):
            for start in range(0, len(rows), 20_000):
                await connection.execute(t[table].insert(), rows[start:start + 20_000])
    async with engine.connect() as connection:
        await connection.execute(sa.text("ANALYZE"))
        await connection.commit()
    await engine.dispose()
    return {"organisations": len(org_rows), "sectors": len(sector_rows), "membership reports": len(report_rows),
            "applications": len(application_rows), "labour-force rows": len(labour_rows)}


def fast_sqlite(engine: sa.Engine) -> None:
    """Bulk loading only: the bench's data is thrown away, so durability is not needed while loading."""

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA synchronous=OFF")
        dbapi_connection.execute("PRAGMA journal_mode=MEMORY")


# --- load -------------------------------------------------------------------------------------


@dataclass
class Latencies:
    label: str
    seconds: list[float]
    elapsed: float
    errors: int

    def percentile(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))] * 1e3 if ordered else float("nan")

    @property
    def rate(self) -> float:
        return len(self.seconds) / self.elapsed if self.elapsed else 0.0


async def run_load(label: str, urls: list[str], *, duration: float, connections: int) -> Latencies:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(10**12))
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        deadline = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal errors
            while (started := time.perf_counter()) < deadline:
                url = urls[next(counter) % len(urls)]
                try:
                    async with session.get(url) as response:
                        await response.read()
                        if response.status != 200:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    return Latencies(label, latencies, elapsed, errors)


def search_urls(base: str, seed: int = 7) -> list[str]:
    """Fragments alone and with the filters the public uses most: kind (one or two) and region."""
    rng = random.Random(seed)
    urls = []
    for n in range(240):
        fragment = FRAGMENTS[n % len(FRAGMENTS)]
        params: list[tuple[str, str]] = [("q", fragment)]
        variant = n % 4
        if variant == 1:
            params.append(("kind", rng.choice(["local_union", "primary_union_organisation", "employer"])))
        elif variant == 2:
            params.append(("region_code", rng.choice(REGIONS)))
        elif variant == 3:
            params += [("kind", "local_union"), ("kind", "sectoral_union"), ("region_code", rng.choice(REGIONS))]
        urls.append(str(httpx.URL(f"{base}/api/v1/registry/organisations", params=params)))
    return urls


def print_table(results: list[Latencies], *, connections: int, duration: float) -> None:
    print()
    print(f"{connections} connections, {duration:g} s each, anonymous, through the gateway (load generator: "
          "Python aiohttp, in the bench process)")
    print(f"{'':12} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>7} "
          f"{'target p95':>11} {'':>6}")
    for result in results:
        target = TARGETS_MS.get(result.label)
        verdict = "" if target is None else ("PASS" if result.percentile(95) <= target and not result.errors
                                             else "FAIL")
        print(f"{result.label:12} {result.rate:>8.0f} {result.percentile(50):>8.2f} {result.percentile(95):>8.2f} "
              f"{result.percentile(99):>8.2f} {len(result.seconds):>9} {result.errors:>7} "
              f"{'' if target is None else f'<= {target:g} ms':>11} {verdict:>6}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.registry_bench")
    parser.add_argument("--organisations", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", default="1,4", help="concurrent clients; a comma-separated list runs each "
                        "(SQLite answers one query at a time, so latency grows with the queue)")
    parser.add_argument("--postgres", metavar="URL", nargs="?", const="postgresql+asyncpg://postgres@127.0.0.1:5432",
                        help="load and serve the registry from PostgreSQL (a fresh database on this server, "
                        "dropped afterwards) instead of SQLite")
    parser.add_argument("--keep", action="store_true", help="load and start, measure nothing, keep running "
                        "until Ctrl-C (for profiling)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    from kernel.db import create_engine
    from kernel.migrations import upgrade

    nats_server = BIN / "nats-server"
    workdir = Path(tempfile.mkdtemp(prefix="ntc-registry-bench-"))
    database_url = f"sqlite+aiosqlite:///{workdir / 'registry.db'}"
    pg_database = f"ntc_registry_bench_{uuid.uuid4().hex[:8]}"
    if args.postgres:
        database_url = f"{args.postgres.rstrip('/')}/{pg_database}"
        asyncio.run(_postgres_database(args.postgres, pg_database, create=True))
    processes = Processes(workdir)
    try:
        began = time.perf_counter()

        async def migrate() -> None:
            engine = create_engine(database_url)
            await upgrade(engine, ROOT_MIGRATIONS)
            await engine.dispose()

        asyncio.run(migrate())
        counts = asyncio.run(load_register(database_url, args.organisations))
        print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}", flush=True)
        print("loaded " + ", ".join(f"{n:,} {what}" for what, n in counts.items())
              + f" in {time.perf_counter() - began:.0f} s", flush=True)

        private_pem, public_pem = generate_keypair()
        nats_port, registry_port, gateway_port = free_port(), free_port(), free_port()
        registry_url = f"http://127.0.0.1:{registry_port}"
        gateway_url = f"http://127.0.0.1:{gateway_port}"
        processes.start("nats", [str(nats_server), "-a", "127.0.0.1", "-p", str(nats_port), "-js",
                                 "-sd", str(workdir / "nats")])
        wait_for_port(nats_port)
        registry = processes.start("registry", uvicorn_command("services.registry.app:create_app", registry_port), {
            "REGISTRY_DATABASE_URL": database_url,
            "REGISTRY_IDENTITY_PUBLIC_KEY": public_pem,
            "REGISTRY_NATS_URL": f"nats://127.0.0.1:{nats_port}",
            "REGISTRY_LOG_LEVEL": "WARNING",
        })
        gateway = processes.start("gateway", uvicorn_command("gateway.app:create_app", gateway_port), {
            "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/gateway.db",
            "GATEWAY_IDENTITY_PRIVATE_KEY": private_pem,
            "GATEWAY_SERVICE_URLS": json.dumps({"registry": registry_url}),
            "GATEWAY_LOG_LEVEL": "WARNING",
            # The public reads anonymously: the per-address budget is raised so that the load is never a 429.
            "GATEWAY_RATE_LIMIT_PER_ADDRESS": "1000000000/minute",
        })
        wait_for(f"{registry_url}/readyz", process=registry, deadline_seconds=120)
        wait_for(f"{gateway_url}/readyz", process=gateway)
        if args.keep:
            print(f"registry {registry_url}, gateway {gateway_url}; Ctrl-C to stop", flush=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                return 0

        statistics_url = f"{gateway_url}/api/v1/registry/statistics"
        started = time.perf_counter()
        first = httpx.get(statistics_url, timeout=600)
        cold_ms = (time.perf_counter() - started) * 1e3
        first.raise_for_status()
        figures = first.json()
        sample = httpx.get(search_urls(gateway_url)[0], timeout=60)
        sample.raise_for_status()

        busy = machine_busy_fraction()
        if busy is not None and busy > 0.15:
            print(f"warning: {busy:.0%} of the CPU is busy before the bench starts; read the figures against "
                  "the baseline", file=sys.stderr)
        plan = [("baseline", [f"{gateway_url}/healthz"]), ("search", search_urls(gateway_url)),
                ("statistics", [statistics_url])]
        for connections in (int(c) for c in args.connections.split(",")):
            results = []
            for label, urls in plan:
                if args.warmup > 0:
                    asyncio.run(run_load(label, urls, duration=args.warmup, connections=connections))
                results.append(asyncio.run(run_load(label, urls, duration=args.duration, connections=connections)))
            print_table(results, connections=connections, duration=args.duration)
        print(f"statistics, first (uncached) computation: {cold_ms:.0f} ms; afterwards served from the cache "
              f"until a write or {CACHE_NOTE}")
        print(f"sample search {sample.url.params}: {sample.json()['total']} matches; national members "
              f"{figures['membership'][-1]['year']}: {figures['membership'][-1]['members']:,}, density "
              f"{figures['density'][0]['density'] if figures['density'] else '-'} %", flush=True)
    except Exception:
        for name, _ in processes.running:
            tail = processes.log_tail(name)
            if tail:
                print(f"--- {name} log ---\n{tail}", file=sys.stderr)
        raise
    finally:
        processes.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)
        if args.postgres:
            asyncio.run(_postgres_database(args.postgres, pg_database, create=False))
    return 0


async def _postgres_database(server_url: str, name: str, *, create: bool) -> None:
    engine = create_async_engine(f"{server_url.rstrip('/')}/postgres", isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        if create:
            await connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        else:
            await connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await engine.dispose()


ROOT_MIGRATIONS = Path(__file__).resolve().parent.parent / "services" / "registry" / "migrations"
CACHE_NOTE = "60 s (services/registry/statistics/service.py CACHE_SECONDS)"

if __name__ == "__main__":
    raise SystemExit(main())
