"""What a notification costs: an event published on the bus, routed by the notifications service
and received as a verified, signed webhook by a receiver on loopback; beside the raw JetStream
publish -> consume baseline measured in the same run (bench.pipeline_bench's raw figures).

    python -m bench.notifications_bench [--events 3000] [--rate 200] [--postgres postgresql://postgres@127.0.0.1:5432]

The notifications service runs as its own uvicorn process (SQLite by default); the bench process
publishes ``--events`` events at ``--rate`` events/s to the registry's stream (as the registry's
relay does, Nats-Msg-Id = event id), for one organisation with one webhook endpoint subscribed,
and runs the receiver, which verifies every signature with standardwebhooks. Latency is from
publication to receipt; throughput is events over first publication to last receipt.
This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import nats
from aiohttp import web
from cryptography.fernet import Fernet
from standardwebhooks import Webhook

from bench.gateway_bench import (
    BIN,
    Processes,
    cpu_seconds,
    free_port,
    machine_busy_fraction,
    uvicorn_command,
    wait_for,
    wait_for_port,
)
from bench.pipeline_bench import _ts, database_url, drop_databases, measure_raw, percentile, rows
from kernel.identity import IDENTITY_HEADER, Identity, IdentitySigner, generate_keypair


class Receiver:
    def __init__(self) -> None:
        self.secret = ""
        self.latencies: list[float] = []
        self.ids: Counter[str] = Counter()
        self.unverified = 0
        self.times: dict[str, tuple[float, float]] = {}
        self.last = 0.0
        self.port = free_port()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        now = time.time()
        try:
            event = Webhook(self.secret).verify(body, dict(request.headers))
        except Exception:
            self.unverified += 1
            return web.Response(status=400)
        self.ids[request.headers["webhook-id"]] += 1
        if self.ids[request.headers["webhook-id"]] == 1 and "sent" in event["data"]:
            self.latencies.append((now - event["data"]["sent"]) * 1000)
            self.times[request.headers["webhook-id"]] = (event["data"]["sent"], now)
        self.last = now
        return web.Response(status=204)

    async def start(self) -> web.AppRunner:
        app = web.Application()
        app.router.add_post("/hooks", self.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        return runner


async def run(service_url: str, nats_url: str, token: str, events: int, rate: float,
              organisation: uuid.UUID) -> dict[str, float]:
    receiver = Receiver()
    runner = await receiver.start()
    headers = {IDENTITY_HEADER: token}
    async with httpx.AsyncClient(base_url=service_url, headers=headers, timeout=30) as client:
        endpoint = (await client.post("/webhook-endpoints", json={"url": f"http://127.0.0.1:{receiver.port}/hooks"}))
        endpoint.raise_for_status()
        receiver.secret = endpoint.json()["secret"]
        (await client.post("/subscriptions", json={"pattern": "kz.ntc.registry.>", "channel": "webhook",
                                                   "endpoint_id": endpoint.json()["id"]})).raise_for_status()
    nc = await nats.connect(nats_url)
    js = nc.jetstream(publish_async_max_pending=256)

    async def publish(n: int) -> None:
        event_id = str(uuid.uuid4())
        envelope = {"specversion": "1.0", "id": event_id, "source": "/registry",
                    "type": "kz.ntc.registry.organisation.registered.v1", "subject": str(uuid.uuid4()),
                    "time": datetime.now(UTC).isoformat(), "datacontenttype": "application/json",
                    "data": {"audience": [str(organisation)], "name_ru": f"Профсоюз {n}", "sent": time.time()}}
        await js.publish("kz.ntc.registry.organisation.registered.v1", json.dumps(envelope).encode(),
                         headers={"Nats-Msg-Id": event_id})

    for n in range(50):  # warm-up, not counted
        await publish(-n)
    deadline = time.monotonic() + 60
    while len(receiver.ids) < 50 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    receiver.latencies.clear()
    receiver.ids.clear()
    receiver.times.clear()

    started = time.time()
    interval = 1.0 / rate
    for n in range(events):
        target = started + n * interval
        delay = target - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        await publish(n)
    publish_seconds = time.time() - started
    deadline = time.monotonic() + 300
    while len(receiver.ids) < events and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)  # room for a late duplicate
    await nc.close()
    await runner.cleanup()
    return {"times": receiver.times, "count": len(receiver.ids),
            "duplicates": sum(c - 1 for c in receiver.ids.values()),
            "unverified": receiver.unverified, "rate": len(receiver.ids) / max(receiver.last - started, 1e-9),
            "publish_rate": events / publish_seconds, "p50": percentile(receiver.latencies, 0.5),
            "p99": percentile(receiver.latencies, 0.99), "max": max(receiver.latencies, default=float("nan"))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=200.0, help="events published per second")
    parser.add_argument("--postgres", default=None, help="e.g. postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ntc-notifications-bench-") as tmp:
        workdir = Path(tmp)
        processes = Processes(workdir)
        try:
            nats_port = free_port()
            nats_url = f"nats://127.0.0.1:{nats_port}"
            processes.start("nats", [str(BIN / "nats-server"), "-a", "127.0.0.1", "-p", str(nats_port), "-js",
                                     "-sd", str(workdir / "nats")])
            wait_for_port(nats_port)
            raw = measure_raw(nats_url, args.events)
            private_pem, public_pem = generate_keypair()
            port = free_port()
            database = database_url(workdir, "notifications", args.postgres)
            env = {"NOTIFICATIONS_DATABASE_URL": database,
                   "NOTIFICATIONS_NATS_URL": nats_url, "NOTIFICATIONS_IDENTITY_PUBLIC_KEY": public_pem,
                   "NOTIFICATIONS_LOG_LEVEL": "WARNING", "NOTIFICATIONS_WEBHOOK_ALLOWED_PRIVATE": '["127.0.0.1"]',
                   # A key for this run only: the service keeps webhook secrets encrypted with it.
                   "NOTIFICATIONS_WEBHOOK_SECRET_KEYS": Fernet.generate_key().decode()}
            service = processes.start("notifications", uvicorn_command("services.notifications.app:create_app", port),
                                      env)
            wait_for(f"http://127.0.0.1:{port}/readyz", process=service)
            busy = machine_busy_fraction()
            cpu_before = cpu_seconds(service.pid)
            figures = asyncio.run(_run_with_org(f"http://127.0.0.1:{port}", nats_url, private_pem, args))
            cpu_after = cpu_seconds(service.pid)
            stages = rows(env["NOTIFICATIONS_DATABASE_URL"], "SELECT event_id, created_at FROM webhook_delivery")
        finally:
            processes.stop_all()
            drop_databases()
    database = "PostgreSQL" if args.postgres else "SQLite"
    routed = {event_id: _ts(created) for event_id, created in stages}
    intake = [(routed[i] - sent) * 1000 for i, (sent, _) in figures["times"].items() if i in routed]
    dispatch = [(received - routed[i]) * 1000 for i, (_, received) in figures["times"].items() if i in routed]
    print(f"\nNotifications: publication -> verified webhook receipt on loopback ({database}, {args.events} events "
          f"published at {figures['publish_rate']:.0f}/s)")
    print(f"{'':34} {'events/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{'raw JetStream publish -> consume':34} {raw['rate']:>10.0f} {raw['p50']:>8.1f} {raw['p99']:>8.1f}")
    print(f"{'event -> signed webhook received':34} {figures['rate']:>10.0f} {figures['p50']:>8.1f} "
          f"{figures['p99']:>8.1f}")
    print(f"received {figures['count']:.0f} of {args.events}, duplicates {figures['duplicates']:.0f}, "
          f"unverified {figures['unverified']:.0f}, max latency {figures['max']:.1f} ms; "
          f"p99 ratio to raw {figures['p99'] / raw['p99']:.2f}x")
    if cpu_before is not None and cpu_after is not None:
        print(f"notifications process CPU: {(cpu_after - cpu_before) / args.events * 1000:.2f} ms per event "
              f"(incl. 50 warm-up events and idle polling); machine busy before the run: {busy or 0:.0%}")
    print(f"stages: publication -> routed (delivery row written) p50 {percentile(intake, 0.5):.1f} / "
          f"p99 {percentile(intake, 0.99):.1f} ms; routed -> received p50 {percentile(dispatch, 0.5):.1f} / "
          f"p99 {percentile(dispatch, 0.99):.1f} ms")
    return 0


async def _run_with_org(service_url: str, nats_url: str, private_pem: str, args: argparse.Namespace) -> dict:
    # The endpoint belongs to one organisation: its credential registers it, its events reach it.
    organisation = uuid.uuid4()
    token = IdentitySigner(private_pem).sign(Identity(subject="bench", kind="api-client",
                                                      organisation_id=str(organisation)))
    return await run(service_url, nats_url, token, args.events, args.rate, organisation)


if __name__ == "__main__":
    raise SystemExit(main())
