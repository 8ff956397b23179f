"""Helpers for the gateway tests: a real upstream to forward to, and ways to look at what it got."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from gateway.api_keys.models import ApiKey
from gateway.api_keys.service import issue_api_key
from gateway.app import GatewayState
from gateway.settings import GatewaySettings
from kernel.problems import PROBLEM_JSON

SERVICES = ("registry", "bargaining", "disputes", "notifications")
# Every path the echo service's catch-all route was asked for (it runs in this process, in a
# thread): a test that must prove a request was never forwarded looks for its unique path here.
ECHO_SEEN_PATHS: set[str] = set()
# How many times the echo upstream was asked for each "METHOD /path" (the idempotency tests count on it).
ECHO_CALLS: Counter[str] = Counter()
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def big_chunk(index: int, size: int) -> bytes:
    """The echo service's /big body is made of these, so a test can recompute its hash."""
    return bytes([index % 251]) * size


def big_body_sha256(total: int, chunk: int) -> str:
    digest = hashlib.sha256()
    sent, index = 0, 0
    while sent < total:
        n = min(chunk, total - sent)
        digest.update(big_chunk(index, n))
        sent, index = sent + n, index + 1
    return digest.hexdigest()


class TrickleGate:
    """Lets a test hold the echo service's /trickle response between its two chunks."""

    def __init__(self) -> None:
        self.release = threading.Event()


def echo_app(gate: TrickleGate) -> FastAPI:
    app = FastAPI()

    @app.get("/readyz")
    async def readyz() -> dict[str, Any]:
        return {"status": "ready", "service": "echo", "checks": {"database": "ok", "nats": "ok"}}

    @app.get("/not-ready/readyz")
    async def not_ready() -> JSONResponse:
        return JSONResponse({"status": "not ready", "service": "echo", "checks": {"nats": "disconnected"}},
                            status_code=503)

    @app.get("/hanging/readyz")
    async def hanging() -> dict[str, str]:
        await asyncio.sleep(5)
        return {"status": "ready"}

    @app.get("/hostile/readyz")
    async def hostile() -> dict[str, Any]:
        return {"status": "<b>ready</b>", "checks": {"<script>alert(1)</script>": "ok"}}

    @app.get("/big")
    async def big(size: int, chunk: int = 65_536) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            sent, index = 0, 0
            while sent < size:
                n = min(chunk, size - sent)
                yield big_chunk(index, n)
                sent, index = sent + n, index + 1

        return StreamingResponse(body(), media_type="application/octet-stream")

    @app.get("/trickle")
    async def trickle() -> StreamingResponse:
        gate.release.clear()

        async def body() -> AsyncIterator[bytes]:
            yield b"first chunk;"
            deadline = time.monotonic() + 10
            while not gate.release.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            yield b"second chunk"

        return StreamingResponse(body(), media_type="text/plain")

    @app.get("/slow")
    async def slow(seconds: float) -> dict[str, float]:
        await asyncio.sleep(seconds)
        return {"slept": seconds}

    @app.post("/slow")
    async def slow_write(request: Request, seconds: float) -> dict[str, Any]:
        ECHO_CALLS[f"POST {request.url.path}"] += 1
        await asyncio.sleep(seconds)
        return {"slept": seconds, "call": ECHO_CALLS[f"POST {request.url.path}"]}

    @app.post("/unavailable")
    async def unavailable(request: Request) -> JSONResponse:
        ECHO_CALLS[f"POST {request.url.path}"] += 1
        return JSONResponse({"detail": "try later"}, status_code=503)

    @app.get("/private-headers")
    async def private_headers() -> Response:
        return Response(b"ok", media_type="text/plain", headers={
            "Connection": "x-upstream-private", "X-Upstream-Private": "secret", "Keep-Alive": "timeout=5",
            "Proxy-Authenticate": "Basic", "X-Visible": "yes", "Set-Cookie": "upstream-session=abc; Path=/",
        })

    @app.api_route("/{path:path}", methods=ALL_METHODS)
    async def echo(request: Request, path: str) -> Response:
        ECHO_SEEN_PATHS.add(request.url.path)
        ECHO_CALLS[f"{request.method} {request.url.path}"] += 1
        body = await request.body()
        return JSONResponse({
            "method": request.method,
            "path": request.url.path,
            "raw_path": request.scope["raw_path"].decode("latin-1"),
            "query": request.scope["query_string"].decode("latin-1"),
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.scope["headers"]],
            "body_length": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "body_text": body[:2000].decode("utf-8", errors="replace"),
        }, headers={"X-Echo": "1"})

    return app


@dataclass
class RunningServer:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def serve_in_thread(app: Any, *, deadline_seconds: float = 15.0) -> RunningServer:
    """uvicorn on a free loopback port in a background thread; returns once it accepts connections."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                            lifespan="auto", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + deadline_seconds
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the test server exited during start-up")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the test server did not start in time")
        time.sleep(0.01)
    return RunningServer(f"http://127.0.0.1:{port}", server, thread)


@dataclass
class Gateway:
    client: httpx.AsyncClient
    state: GatewayState
    settings: GatewaySettings
    public_pem: str
    asgi_app: Any  # the app as the test client reaches it (lifespan state attached)

    async def issue_key(self, *, roles: tuple[str, ...] = ("reader",),
                        organisation_id: uuid.UUID | None = None, name: str = "test system") -> tuple[ApiKey, str]:
        async with self.state.sessionmaker() as session:
            api_key, key = await issue_api_key(session, name=name, roles=roles, organisation_id=organisation_id)
            await session.commit()
        return api_key, key


GatewayFactory = Callable[..., Awaitable[Gateway]]


def received_headers(echo: dict[str, Any]) -> dict[str, list[str]]:
    """The headers the upstream received, by lower-case name."""
    headers: dict[str, list[str]] = {}
    for name, value in echo["headers"]:
        headers.setdefault(name.lower(), []).append(value)
    return headers


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem of this status and type."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["status"] == status
    assert body["type"].endswith("/" + slug)
    return body


# --- the platform behind the gateway: service processes, their organisations, their streams -----------

API = "/api/v1"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


PlatformFactory = Callable[..., Awaitable[Gateway]]


async def register_organisations(gateway: Gateway, bodies: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Enter each organisation in the register through the gateway, as the ministry's registry system does;
    returns their ids by the names given."""
    _, registrar_key = await gateway.issue_key(roles=("registrar",), name="ministry registry system")
    ids = {}
    for name, body in bodies.items():
        registered = await gateway.client.post(f"{API}/registry/organisations", headers=bearer(registrar_key),
                                               json=body)
        assert registered.status_code == 201, registered.text
        ids[name] = registered.json()["id"]
    return ids


async def wait_until_known(gateway: Gateway, service: str, organisation_ids: Iterable[str],
                           headers: dict[str, str]) -> None:
    """Until the registry's events have brought every organisation into the service's parties."""
    from tests.support.services import eventually

    async def known(organisation_id: str) -> bool:
        seen = await gateway.client.get(f"{API}/{service}/parties/{organisation_id}", headers=headers)
        return seen.status_code == 200

    for organisation_id in organisation_ids:
        await eventually(lambda o=organisation_id: known(o), timeout=30, what=f"the registry's events in {service}")


async def stream_events(nats_url: str, producer: str) -> list[dict[str, Any]]:
    """Everything on a producer's stream from its start, read by a fresh consumer of the test's own."""
    from kernel.bus import Bus
    from kernel.events import stream_name

    bus = Bus(nats_url, name=f"{producer}-listener")
    await bus.connect()
    try:
        subscription = await bus.jetstream().pull_subscribe(f"kz.ntc.{producer}.>",
                                                            durable=f"listener-{uuid.uuid4().hex[:12]}",
                                                            stream=stream_name(producer))
        messages = []
        while True:
            try:
                batch = await subscription.fetch(100, timeout=1)
            except TimeoutError:
                break
            for message in batch:
                await message.ack()
            messages += batch
        return [json.loads(m.data) for m in messages]
    finally:
        await bus.close()
