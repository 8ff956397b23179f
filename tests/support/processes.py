"""Services as real processes (uvicorn), for tests that kill them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.support.nats import free_port
from tests.support.services import WEBHOOK_SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]


class ChildProcess:
    """A process a test starts in its own session, waits for, and stops or kills (SIGKILL: a crash)."""

    process: subprocess.Popen[bytes] | None = None

    def wait_until(self, ready: Callable[[], bool], *, timeout: float, what: str, output: Callable[[], str]) -> None:
        """Until ``ready()`` holds; a process that exits or never gets ready fails with its output's tail."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{what} exited: {output()[-2000:]}")
            try:
                if ready():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{what} not ready: {output()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, nothing flushed — a crash."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()


class ServiceProcess(ChildProcess):
    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        # The notifications service does not start without a key for webhook secrets: the run's own.
        self.env = {"NOTIFICATIONS_WEBHOOK_SECRET_KEYS": WEBHOOK_SECRET_KEY, **env} if name == "notifications" else env
        self.port = free_port()
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        command = [sys.executable, "-m", "uvicorn", f"services.{self.name}.app:create_app", "--factory",
                   "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"]
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed when the process ends
        self.process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **self.env}, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_until(lambda: httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200, timeout=timeout,
                        what=self.name, output=self.log_path.read_text)
