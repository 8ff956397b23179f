"""What the event pipeline costs: an HTTP write in one service applied by a consumer in
another (outbox -> relay -> JetStream -> idempotent consumer), beside raw nats-py
JetStream publish -> consume measured in the same run.

    python -m bench.pipeline_bench [--events 3000] [--connections 8] [--imports 5] [--postgres [DSN]]

Raw baseline: one process publishes N events with `publish_async` (256 in flight, each
with a Nats-Msg-Id), a consumer in another process pulls them in batches of 256 and
acks each one; both on uvloop when it is installed, like the services. Measured three
times; the ratios use the run with the median rate (the spread is printed).

The platform, in one set of processes (registry and bargaining, each its own uvicorn
worker and its own database; SQLite by default, PostgreSQL with --postgres):

- single writes: N `POST /organisations` to the registry from `--connections`
  concurrent clients, one organisation (one outbox event) per request; the bargaining
  service applies each event through its idempotent consumer. This figure is bound by
  how many HTTP writes one registry process commits per second (each its own
  transaction, on SQLite one writer at a time), not by the event pipeline behind it.
- outbox backlog: N events already written with the relay switched off, then drained by
  a registry with its relay on - relay, JetStream and consumer with the HTTP edge out of
  the way (throughput only).
- bulk write: one `POST /imports` carrying a CSV of N new local unions; the registry's
  import worker (woken by the request) checks the file and writes all N organisations
  and their N outbox events in one transaction; the bargaining consumer applies them.
  One HTTP write carries N events, so this is the pipeline at a write rate that a single
  service can actually reach. Its throughput is N over the time from just before the
  POST to the last apply; the time from the POST to the import's events (outbox rows
  written, inside the transaction) and to the job's commit is printed beside it: when
  the commit comes early and the bulk figure is close to the backlog's, the time goes to
  relay, JetStream and consumer, not to the write.
- sustained bulk writes: `--imports` (default 5) such imports of N organisations each, posted
  one after the other without waiting for any to finish; the worker checks and writes one
  while the relay and the consumer carry the one before. Throughput over the first POST to
  the last apply: what the pipeline carries under a steady load of bulk writes rather than
  the fill-and-drain of a single one.

Latency is from the moment an event was written (outbox row `created_at`) to the moment
the consumer committed it (inbox row `applied_at`); for the live and bulk figures
throughput is N over the first write (or the POST) to the last apply. The ratios divide
each figure's events/s by raw JetStream's for as many events: N, and N x imports for the
sustained figure (raw's own rate grows with the count, its start spread over more events;
on 28 November 2026 ~9,000/s for 3,000 events and ~10,000-12,000/s for 15,000).
This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import nats

from bench.gateway_bench import BIN, ROOT, Processes, free_port, uvicorn_command, wait_for, wait_for_port
from kernel.identity import IDENTITY_HEADER, Identity, IdentitySigner, generate_keypair
from services.registry.imports.rules import COLUMNS

T = TypeVar("T")
READY = "raw consumer bound"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# --- raw JetStream ---------------------------------------------------------------------------

def run_fast(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop where it is installed, as the services do under uvicorn, so that the baseline
    and the platform run on the same event loop (on 28 November the two loops' raw figures were
    within the run-to-run spread of 2,200-4,900 events/s, so this is for like with like, not speed)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


async def raw_consume(url: str, expected: int) -> dict[str, float]:
    nc = await nats.connect(url)
    js = nc.jetstream()
    sub = await js.pull_subscribe("raw.>", durable="raw-consumer", stream="RAW")
    print(READY, flush=True)  # the publisher starts only now: the figure must not include this process's start
    latencies: list[float] = []
    first = last = 0.0
    while len(latencies) < expected:
        try:
            messages = await sub.fetch(256, timeout=5)
        except nats.errors.TimeoutError:
            continue
        for message in messages:
            now = time.time()
            sent = json.loads(message.data)["sent"]
            latencies.append((now - sent) * 1000)
            first = first or sent
            last = now
            await message.ack()
    await nc.close()
    return {"count": len(latencies), "seconds": last - first, "p50": percentile(latencies, 0.5),
            "p99": percentile(latencies, 0.99)}


async def raw_publish(url: str, count: int) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream(publish_async_max_pending=256)
    futures = []
    for _ in range(count):
        event_id = str(uuid.uuid4())
        payload = json.dumps({"id": event_id, "sent": time.time(), "data": {"audience": [event_id]}}).encode()
        futures.append(await js.publish_async("raw.event", payload, headers={"Nats-Msg-Id": event_id}))
    await asyncio.gather(*futures)
    await nc.close()


async def prepare_raw_stream(url: str) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    await js.add_stream(name="RAW", subjects=["raw.>"])
    await js.add_consumer("RAW", durable_name="raw-consumer", ack_policy="explicit")
    await nc.close()


def steady_raw(url: str, count: int, runs: int = 3) -> dict[str, float]:
    """Raw JetStream measured ``runs`` times: the run with the median rate, and the spread of all of them.
    One raw run moves by +-20 % from one minute to the next on this machine, as much as any change measured."""
    results = sorted((measure_raw(url, count) for _ in range(runs)), key=lambda r: r["rate"])
    median = dict(results[len(results) // 2])
    median["spread"] = (results[0]["rate"], results[-1]["rate"])
    return median


def measure_raw(url: str, count: int) -> dict[str, float]:
    asyncio.run(prepare_raw_stream(url))
    consumer = subprocess.Popen([sys.executable, "-m", "bench.pipeline_bench", "--raw-consumer", url,
                                 "--events", str(count)], stdout=subprocess.PIPE, cwd=ROOT)
    assert consumer.stdout is not None
    if consumer.stdout.readline().decode().strip() != READY:
        raise RuntimeError("the raw consumer did not start")
    run_fast(raw_publish(url, count))
    out, _ = consumer.communicate(timeout=300)
    figures = json.loads(out.decode().strip().splitlines()[-1])
    figures["rate"] = figures["count"] / figures["seconds"]
    return figures


# --- the platform's pipeline -----------------------------------------------------------------

class FreshToken:
    """The registrar's identity token, signed again before it can expire (a slow or profiled run outlives one)."""

    def __init__(self, private_pem: str) -> None:
        self.signer = IdentitySigner(private_pem)
        self.signed_at = 0.0
        self.value = ""

    def __call__(self) -> str:
        if time.monotonic() - self.signed_at > 20:
            self.value = self.signer.sign(Identity(subject="bench", kind="staff", roles=frozenset({"registrar"})))
            self.signed_at = time.monotonic()
        return self.value


async def write_organisations(url: str, count: int, connections: int, token: FreshToken) -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)

    async def writer(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            body = {"kind": "local_union", "name_kk": f"Кәсіподақ {n}", "name_ru": f"Профсоюз {n}"}
            async with session.post(f"{url}/organisations", json=body, headers={IDENTITY_HEADER: token()}) as response:
                if response.status != 201:
                    raise RuntimeError(f"write failed: {response.status} {await response.text()}")

    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(writer(session) for _ in range(connections)))


async def stream_time(nats_url: str, stream: str, sequence: int) -> float:
    """When the stream took in its message number ``sequence`` (the server's clock, this machine's)."""
    nc = await nats.connect(nats_url)
    try:
        message = await nc.jetstream().get_msg(stream, sequence)
        return message.time.timestamp() if message.time else float("inf")
    finally:
        await nc.close()


# PostgreSQL databases this run created, dropped when it ends (drop_databases).
CREATED_DATABASES: list[tuple[str, str]] = []


def database_url(workdir: Path, name: str, postgres: str | None) -> str:
    if postgres is None:
        return f"sqlite+aiosqlite:///{workdir}/{name}.db"
    database = f"ntc_bench_{name}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg(f"{postgres}/postgres", f'CREATE DATABASE "{database}"'))
    CREATED_DATABASES.append((postgres, database))
    return f"postgresql+asyncpg://{postgres.removeprefix('postgresql://')}/{database}"


def drop_databases() -> None:
    """Drop what ``database_url`` created (call once the services using them have stopped)."""
    while CREATED_DATABASES:
        postgres, database = CREATED_DATABASES.pop()
        asyncio.run(_pg(f"{postgres}/postgres", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


async def _pg(dsn: str, statement: str) -> list[tuple]:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        return [tuple(r) for r in await connection.fetch(statement)]
    finally:
        await connection.close()


def rows(url: str, statement: str) -> list[tuple]:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite+aiosqlite:///")) as db:
            return list(db.execute(statement))
    return asyncio.run(_pg(url.replace("postgresql+asyncpg", "postgresql"), statement))


def applied(url: str) -> int:
    return rows(url, "SELECT count(*) FROM inbox_record WHERE consumer = 'bargaining-registry'")[0][0]


def _ts(value: str | datetime) -> float:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value.replace(" ", "T"))
    # SQLite keeps UTC timestamps without a zone: read them as UTC, so they compare with time.time().
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def wait_applied(url: str, expected: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while applied(url) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {applied(url)} of {expected} events applied after {timeout}s")
        time.sleep(0.05)


def union_register(count: int, first: int = 0) -> bytes:
    """A register file (the import's CSV) of ``count`` new local unions, names unlike the single writes'."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({"kind": "local_union", "name_kk": f"Жергілікті кәсіподақ {n}",
                      "name_ru": f"Местный профсоюз {n}"} for n in range(first, first + count))
    return out.getvalue().encode("utf-8")


async def import_register(url: str, content: bytes, token: FreshToken) -> str:
    form = aiohttp.FormData()
    form.add_field("file", content, filename="unions.csv", content_type="text/csv")
    async with aiohttp.ClientSession() as session, \
            session.post(f"{url}/imports", data=form, headers={IDENTITY_HEADER: token()}) as response:
        if response.status != 202:
            raise RuntimeError(f"import refused: {response.status} {await response.text()}")
        return (await response.json())["id"]


async def import_job(url: str, job_id: str, token: FreshToken) -> dict:
    async with aiohttp.ClientSession() as session, \
            session.get(f"{url}/imports/{job_id}", headers={IDENTITY_HEADER: token()}) as response:
        return await response.json()


def measure_pipeline(workdir: Path, nats_url: str, count: int, connections: int, processes: Processes,
                     postgres: str | None, imports: int) -> tuple[dict, dict, dict, dict]:
    """Three figures: the live pipeline (HTTP writes to applied events), the drain of an
    outbox backlog (relay -> JetStream -> consumer, with the HTTP edge out of the way), and
    one bulk HTTP write (an import of N organisations) to applied events."""
    private_pem, public_pem = generate_keypair()
    ports = {"registry": free_port(), "bargaining": free_port()}
    databases = {name: database_url(workdir, name, postgres) for name in ports}

    def start(name: str, **extra: str) -> subprocess.Popen[bytes]:
        prefix = name.upper()
        env = {f"{prefix}_DATABASE_URL": databases[name], f"{prefix}_IDENTITY_PUBLIC_KEY": public_pem,
               f"{prefix}_NATS_URL": nats_url, f"{prefix}_LOG_LEVEL": "WARNING",
               **{f"{prefix}_{key.upper()}": value for key, value in extra.items()}}
        process = processes.start(name, uvicorn_command(f"services.{name}.app:create_app", ports[name]), env)
        wait_for(f"http://127.0.0.1:{ports[name]}/readyz", process=process)
        return process

    registry = start("registry")
    start("bargaining")
    token = FreshToken(private_pem)
    registry_url = f"http://127.0.0.1:{ports['registry']}"

    # Warm up both services and the consumer binding, then measure from a clean count.
    asyncio.run(write_organisations(registry_url, 50, connections, token))
    wait_applied(databases["bargaining"], 50)
    before = {row[0] for row in rows(databases["registry"], "SELECT id FROM outbox_message")}

    write_started = time.monotonic()
    asyncio.run(write_organisations(registry_url, count, connections, token))
    write_seconds = time.monotonic() - write_started
    wait_applied(databases["bargaining"], count + 50)

    written = {i: _ts(t) for i, t in rows(databases["registry"], "SELECT id, created_at FROM outbox_message")
               if i not in before}
    done = {i: _ts(t) for i, t in rows(databases["bargaining"], "SELECT event_id, applied_at FROM inbox_record")}
    latencies = [(done[i] - t) * 1000 for i, t in written.items() if i in done]
    first, last = min(written.values()), max(done[i] for i in written if i in done)
    live = {"count": len(latencies), "seconds": last - first, "rate": len(latencies) / (last - first),
            "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
            "writes_per_second": count / write_seconds}

    # Backlog: the same writes with the relay switched off, then a registry with its relay on.
    registry.terminate()
    registry.wait(timeout=20)
    registry = start("registry", relay_enabled="false")
    before = {row[0] for row in rows(databases["registry"], "SELECT id FROM outbox_message")}
    asyncio.run(write_organisations(registry_url, count, connections, token))
    registry.terminate()
    registry.wait(timeout=20)
    # This registry also takes the bulk write below: let a request and an import carry the whole file.
    register = union_register(count)
    limit = str(max(1_048_576, 2 * len(register)))
    start("registry", max_request_body_bytes=limit, import_max_file_bytes=limit)
    wait_applied(databases["bargaining"], 2 * count + 50)
    published = [_ts(t) for i, t in rows(databases["registry"], "SELECT id, published_at FROM outbox_message")
                 if i not in before]
    done_at = [_ts(t) for i, t in rows(databases["bargaining"], "SELECT event_id, applied_at FROM inbox_record")]
    # From the moment the first backlog event reached the stream (its rows are marked only after their acks).
    first_in_stream = asyncio.run(stream_time(nats_url, "REGISTRY_EVENTS", count + 51))
    drain_seconds = max(done_at) - min([*published, first_in_stream])
    drain = {"count": len(published), "seconds": drain_seconds, "rate": len(published) / drain_seconds}

    # Bulk: one HTTP write of N organisations, written by the import worker in one transaction.
    before = {row[0] for row in rows(databases["registry"], "SELECT id FROM outbox_message")}
    posted_at = time.time()
    job_id = asyncio.run(import_register(registry_url, register, token))
    wait_applied(databases["bargaining"], 3 * count + 50)
    job = asyncio.run(import_job(registry_url, job_id, token))
    if job["status"] != "done":
        raise RuntimeError(f"the import did not finish: {job}")
    bulk = applied_since(databases, before, posted_at)
    bulk["to_commit"] = _ts(job["finished_at"]) - posted_at

    # Sustained: several bulk writes sent one after the other without waiting for any to finish, as a
    # busy registrar's office would; the worker checks and writes one import while the relay and the
    # consumer carry the previous one. Throughput over the first POST to the last apply.
    registers = [union_register(count, first=(k + 1) * count) for k in range(imports)]
    before = {row[0] for row in rows(databases["registry"], "SELECT id FROM outbox_message")}
    posted_at = time.time()

    async def post_all() -> list[str]:
        return [await import_register(registry_url, content, token) for content in registers]

    job_ids = asyncio.run(post_all())
    wait_applied(databases["bargaining"], (3 + imports) * count + 50)
    for job_id in job_ids:
        if (job := asyncio.run(import_job(registry_url, job_id, token)))["status"] != "done":
            raise RuntimeError(f"an import did not finish: {job}")
    return live, drain, bulk, applied_since(databases, before, posted_at)


def applied_since(databases: dict[str, str], before: set[str], posted_at: float) -> dict[str, float]:
    """The events written since ``before`` (outbox ids then present), from the POST at ``posted_at`` to
    the last one applied: throughput, write-to-apply latency, and when the first was written and applied."""
    written = {i: _ts(t) for i, t in rows(databases["registry"], "SELECT id, created_at FROM outbox_message")
               if i not in before}
    done = {i: _ts(t) for i, t in rows(databases["bargaining"], "SELECT event_id, applied_at FROM inbox_record")}
    latencies = [(done[i] - t) * 1000 for i, t in written.items() if i in done]
    applied = [done[i] for i in written if i in done]
    seconds = max(applied) - posted_at
    return {"count": len(latencies), "seconds": seconds, "rate": len(latencies) / seconds,
            "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
            "to_events": min(written.values()) - posted_at, "to_first_apply": min(applied) - posted_at}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline_bench")
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--postgres", metavar="DSN", nargs="?", const="postgresql://postgres@127.0.0.1:5432",
                        help="run the services on PostgreSQL (default DSN postgresql://postgres@127.0.0.1:5432) "
                        "instead of SQLite")
    parser.add_argument("--imports", type=int, default=5,
                        help="how many bulk writes of --events organisations the sustained figure sends (default 5)")
    parser.add_argument("--raw-consumer", metavar="NATS_URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.raw_consumer:
        print(json.dumps(run_fast(raw_consume(args.raw_consumer, args.events))))
        return 0

    workdir = Path(tempfile.mkdtemp(prefix="ntc-pipeline-bench-"))
    processes = Processes(workdir)
    nats_port = free_port()
    nats_url = f"nats://127.0.0.1:{nats_port}"
    try:
        processes.start("nats", [str(BIN / "nats-server"), "-a", "127.0.0.1", "-p", str(nats_port), "-js",
                                 "-sd", str(workdir / "nats")])
        wait_for_port(nats_port)
        raw = steady_raw(nats_url, args.events)
        raw_sustained = steady_raw(nats_url, args.events * args.imports) if args.imports > 1 else raw
        pipeline, drain, bulk, sustained = measure_pipeline(workdir, nats_url, args.events, args.connections,
                                                            processes, args.postgres, args.imports)
    finally:
        processes.stop_all()
        drop_databases()
    backend = "PostgreSQL" if args.postgres else "SQLite (WAL, synchronous=FULL)"
    print(f"\nEvent pipeline on {backend}, {args.events} events ({args.connections} concurrent writers)")
    print(f"{'':38} {'events/s':>10} {'p50 ms':>9} {'p99 ms':>9}")
    print(f"{'raw JetStream publish -> consume':38} {raw['rate']:>10.0f} {raw['p50']:>9.1f} {raw['p99']:>9.1f}"
          f"   (median of 3 runs: {raw['spread'][0]:.0f}-{raw['spread'][1]:.0f}/s)")
    if args.imports > 1:
        label = f"  the same, {args.events * args.imports} events"
        print(f"{label:38} {raw_sustained['rate']:>10.0f} {raw_sustained['p50']:>9.1f} {raw_sustained['p99']:>9.1f}"
              f"   (median of 3 runs: {raw_sustained['spread'][0]:.0f}-{raw_sustained['spread'][1]:.0f}/s)")
    print(f"{'HTTP write -> outbox -> consumer':38} {pipeline['rate']:>10.0f} {pipeline['p50']:>9.1f} "
          f"{pipeline['p99']:>9.1f}")
    print(f"{'outbox backlog -> relay -> consumer':38} {drain['rate']:>10.0f} {'-':>9} {'-':>9}")
    print(f"{'HTTP bulk write (import) -> consumer':38} {bulk['rate']:>10.0f} {bulk['p50']:>9.1f} {bulk['p99']:>9.1f}")
    print(f"{'sustained bulk writes -> consumer':38} {sustained['rate']:>10.0f} {sustained['p50']:>9.1f} "
          f"{sustained['p99']:>9.1f}")
    print(f"(the HTTP writes alone were accepted at {pipeline['writes_per_second']:.0f}/s)")
    print(f"(the bulk write: one POST /imports of {args.events} organisations; from the POST, its events were "
          f"written at {bulk['to_events']:.2f} s, committed at {bulk['to_commit']:.2f} s, first applied at "
          f"{bulk['to_first_apply']:.2f} s, all {bulk['count']} applied at {bulk['seconds']:.2f} s)")
    print(f"ratio pipeline / raw:        {pipeline['rate'] / raw['rate']:.2f}  (HTTP write to applied event)")
    print(f"ratio backlog drain / raw:   {drain['rate'] / raw['rate']:.2f}  (relay + JetStream + consumer alone)")
    print(f"ratio bulk write / raw:      {bulk['rate'] / raw['rate']:.2f}  (one HTTP write of N events to the "
          "last applied event)")
    print(f"ratio sustained bulk / raw:  {sustained['rate'] / raw_sustained['rate']:.2f}  ({args.imports} imports of "
          f"{args.events}, sent back to back: {sustained['count']} events applied in {sustained['seconds']:.2f} s; "
          f"raw for as many events)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
