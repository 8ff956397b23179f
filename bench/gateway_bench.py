"""What the gateway costs: the registry asked directly vs through the gateway.

    python -m bench.gateway_bench [--duration 10] [--connections 64] [--warmup 3] [--no-rate-limit]

Starts a nats-server (JetStream, temporary store), the registry service and the
gateway in front of it — each a uvicorn process with one worker, uvloop and no access
log — seeds a few organisations through the gateway, then loads

    direct:   GET /organisations?limit=1                  on the registry
    gateway:  GET /api/v1/registry/organisations?limit=1  with an API key

and the same pair for ``/healthz``, the cheapest endpoint, where the gateway's own cost
shows most clearly, with ``wrk`` (or, if wrk is missing, a Python aiohttp load generator in its own process,
labelled as such) and prints requests/s, p50 and p99 latency and the ratio
gateway/direct. The machine's cores are shared by the servers and the load generator
alike, which is why the ratio, not the absolute figure, is the result.
The gateway's rate limiter is on (as in production) with a per-credential budget the load
cannot use up, so its per-request cost is measured but never a 429.
This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from kernel.identity import generate_keypair

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# The endpoint asked for (a public registry read: two SQLite queries) and, because the
# gateway's own cost hides behind a slow endpoint, the cheapest one there is.
ENDPOINTS = ("/organisations?limit=1", "/healthz")


@dataclass
class Result:
    label: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    tool: str
    # CPU time each server process spent per request (Linux only): a figure other load
    # on the machine does not distort the way it distorts requests/s.
    cpu_us_per_request: dict[str, float] = field(default_factory=dict)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far, from /proc (None where there is no /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_fraction(seconds: float = 1.0) -> float | None:
    """How busy all CPUs are right now, from /proc/stat (None where there is no /proc)."""

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = values[3] + values[4]  # idle + iowait
        return sum(values) - idle, sum(values)

    try:
        busy_before, total_before = sample()
        time.sleep(seconds)
        busy_after, total_after = sample()
    except (OSError, IndexError, ValueError):
        return None
    return (busy_after - busy_before) / max(total_after - total_before, 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, *, deadline_seconds: float = 60.0, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + deadline_seconds
    last = "no answer"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {process.returncode}")
        try:
            response = httpx.get(url, timeout=2.0)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:300]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready: {last}")


def wait_for_port(port: int, *, deadline_seconds: float = 20.0) -> None:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def uvicorn_command(target: str, port: int) -> list[str]:
    command = [sys.executable, "-m", "uvicorn", target, "--factory", "--host", "127.0.0.1", "--port", str(port),
               "--workers", "1", "--no-access-log", "--log-level", "warning"]
    try:
        import uvloop  # noqa: F401
        command += ["--loop", "uvloop"]
    except ImportError:
        pass
    try:
        import httptools  # noqa: F401
        command += ["--http", "httptools"]
    except ImportError:
        pass
    return command


# --- load generators ---------------------------------------------------------------

_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)([a-z]+)", text.strip())
    if match is None:
        raise ValueError(f"wrk printed a latency this bench cannot read: {text!r}")
    return float(match.group(1)) * _UNIT[match.group(2)]


def run_wrk(label: str, url: str, headers: dict[str, str], *, duration: float, connections: int) -> Result:
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{int(duration)}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    # The "Latency Distribution" lines, e.g. "     50%    4.95ms" (not the "+/- Stdev" column)
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)\s*$", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)\s*$", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, socket_errors.groups())) if socket_errors else 0)
    return Result(label, rps, p50, p99, total, errors, "wrk")


async def _python_load(url: str, headers: dict[str, str], duration: float, connections: int) -> dict[str, object]:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        deadline = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal errors
            while (started := time.perf_counter()) < deadline:
                try:
                    async with session.get(url) as response:
                        await response.read()
                        if response.status >= 400:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {"requests": len(latencies), "errors": errors, "elapsed": elapsed,
            "p50": latencies[len(latencies) // 2] * 1e3 if latencies else 0.0,
            "p99": latencies[int(len(latencies) * 0.99)] * 1e3 if latencies else 0.0}


def run_python_load(label: str, url: str, headers: dict[str, str], *, duration: float, connections: int) -> Result:
    """The fallback load generator, in its own process so it does not share the bench's interpreter."""
    command = [sys.executable, "-m", "bench.gateway_bench", "--load-generator", url, "--duration", str(duration),
               "--connections", str(connections), "--headers", json.dumps(headers)]
    output = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    figures = json.loads(output)
    return Result(label, figures["requests"] / figures["elapsed"], figures["p50"], figures["p99"],
                  figures["requests"], figures["errors"], "python aiohttp load generator")


# --- the platform under test ---------------------------------------------------------

class Processes:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                   env={**os.environ, **(env or {})})
        self.running.append((name, process))
        return process

    def log_tail(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop_all(self) -> None:
        for _, process in reversed(self.running):
            if process.poll() is None:
                process.terminate()
        for _, process in reversed(self.running):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def measure(load, label: str, url: str, headers: dict[str, str], servers: dict[str, int], *, duration: float,
            connections: int) -> Result:
    before = {name: cpu_seconds(pid) for name, pid in servers.items()}
    result = load(label, url, headers, duration=duration, connections=connections)
    for name, pid in servers.items():
        after, start = cpu_seconds(pid), before[name]
        if after is not None and start is not None and result.requests:
            result.cpu_us_per_request[name] = (after - start) / result.requests * 1e6
    return result


def print_table(endpoint: str, direct: Result, through: Result, *, connections: int, duration: float) -> None:
    def cpu(result: Result, server: str) -> str:
        value = result.cpu_us_per_request.get(server)
        return "-" if value is None or (server == "gateway" and result is direct) else f"{value:.0f}"

    print()
    print(f"GET {endpoint} — {connections} connections, {duration:g} s each, load generator: {direct.tool}")
    print(f"{'':10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>7}"
          f" {'CPU us/req: registry':>21} {'gateway':>8}")
    for result in (direct, through):
        print(f"{result.label:10} {result.requests_per_second:>9.0f} {result.p50_ms:>8.2f} {result.p99_ms:>8.2f} "
              f"{result.requests:>9} {result.errors:>7} {cpu(result, 'registry'):>21} {cpu(result, 'gateway'):>8}")
    print(f"ratio gateway/direct (req/s): {through.requests_per_second / direct.requests_per_second:.2f}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gateway_bench")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--load-generator", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--headers", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--no-rate-limit", action="store_true",
                        help="turn the gateway's rate limiter off (to measure what it costs)")
    parser.add_argument("--keep", action="store_true", help="start and seed the servers, measure nothing, "
                        "and keep them running until Ctrl-C (for profiling)")
    args = parser.parse_args()

    # Ctrl-C or a plain kill both stop the servers this bench started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.load_generator:
        figures = asyncio.run(_python_load(args.load_generator, json.loads(args.headers), args.duration,
                                           args.connections))
        print(json.dumps(figures))
        return 0

    if shutil.which("wrk") is None:
        print("wrk is not installed (install it with: apt-get install -y wrk); "
              "falling back to the Python aiohttp load generator, which is slower and less exact.", file=sys.stderr)
        load = run_python_load
    else:
        load = run_wrk

    nats_server = BIN / "nats-server"
    if not nats_server.exists():
        nats_server = Path(shutil.which("nats-server") or "nats-server")
    workdir = Path(tempfile.mkdtemp(prefix="ntc-gateway-bench-"))
    processes = Processes(workdir)
    private_pem, public_pem = generate_keypair()
    nats_port, registry_port, gateway_port = free_port(), free_port(), free_port()
    registry_url = f"http://127.0.0.1:{registry_port}"
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    try:
        processes.start("nats", [str(nats_server), "-a", "127.0.0.1", "-p", str(nats_port), "-js",
                                 "-sd", str(workdir / "nats")])
        wait_for_port(nats_port)
        registry = processes.start("registry", uvicorn_command("services.registry.app:create_app", registry_port), {
            "REGISTRY_DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/registry.db",
            "REGISTRY_IDENTITY_PUBLIC_KEY": public_pem,
            "REGISTRY_NATS_URL": f"nats://127.0.0.1:{nats_port}",
            "REGISTRY_LOG_LEVEL": "WARNING",
        })
        gateway_env = {
            "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/gateway.db",
            "GATEWAY_IDENTITY_PRIVATE_KEY": private_pem,
            "GATEWAY_SERVICE_URLS": json.dumps({"registry": registry_url}),
            "GATEWAY_LOG_LEVEL": "WARNING",
            # The rate limiter stays on, so its cost is in the figures, with a budget the load cannot use up.
            "GATEWAY_RATE_LIMIT_ENABLED": "false" if args.no_rate_limit else "true",
            "GATEWAY_RATE_LIMIT_PER_CREDENTIAL": "1000000000/minute",
        }
        key = subprocess.run(
            [sys.executable, "-m", "gateway", "create-api-key", "--name", "bench", "--roles", "registrar"],
            capture_output=True, text=True, check=True, cwd=ROOT, env={**os.environ, **gateway_env},
        ).stdout.strip()
        gateway = processes.start("gateway", uvicorn_command("gateway.app:create_app", gateway_port), gateway_env)
        wait_for(f"{registry_url}/readyz", process=registry)
        wait_for(f"{gateway_url}/readyz", process=gateway)

        auth = {"Authorization": f"Bearer {key}"}
        for n in range(3):
            response = httpx.post(f"{gateway_url}/api/v1/registry/organisations", headers=auth, timeout=10, json={
                "kind": "sectoral_union", "name_kk": f"Салалық кәсіподақ {n}", "name_ru": f"Отраслевой профсоюз {n}"})
            response.raise_for_status()

        for endpoint in ENDPOINTS:
            through = httpx.get(f"{gateway_url}/api/v1/registry{endpoint}", headers=auth, timeout=10)
            through.raise_for_status()
            if through.json() != httpx.get(f"{registry_url}{endpoint}", timeout=10).json():
                raise RuntimeError(f"the gateway changed the answer of {endpoint}")

        if args.keep:
            print(f"registry {registry_url}, gateway {gateway_url}, key {key}; Ctrl-C to stop", flush=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                return 0

        busy = machine_busy_fraction()
        if busy is not None and busy > 0.15:
            print(f"warning: {busy:.0%} of the CPU is busy before the bench starts; requests/s will be low and "
                  "noisy — the CPU-per-request columns are the steadier figure", file=sys.stderr)
        servers = {"registry": registry.pid, "gateway": gateway.pid}
        for endpoint in ENDPOINTS:
            results = {}
            for label, url, headers in (("direct", f"{registry_url}{endpoint}", {}),
                                        ("gateway", f"{gateway_url}/api/v1/registry{endpoint}", auth)):
                if args.warmup > 0:
                    load(label, url, headers, duration=max(args.warmup, 1.0), connections=args.connections)
                results[label] = measure(load, label, url, headers, servers, duration=args.duration,
                                         connections=args.connections)
            print_table(endpoint, results["direct"], results["gateway"], connections=args.connections,
                        duration=args.duration)
    except Exception:
        for name, _ in processes.running:
            tail = processes.log_tail(name)
            if tail:
                print(f"--- {name} log ---\n{tail}", file=sys.stderr)
        raise
    finally:
        processes.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
