"""The operations guide's backup and restore, run as written (docs/operations.md, section 3).

The registry is filled through its API, its database backed up with the guide's commands, the
original dropped, the archive restored into a new database, and the registry started on it: every
organisation, its ETag, its membership and its history read back as they were. On PostgreSQL with
pg_dump / pg_restore / psql (/usr/bin), on SQLite with Python's online backup.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from tests.support.services import RunningService, running, settings_for

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "operations.md"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def guide_steps(kind: str) -> str:
    """The shell block between the guide's backup-restore markers for ``kind``."""
    text = GUIDE.read_text()
    match = re.search(rf"<!-- backup-restore:{kind}:begin -->\n```sh\n(.*?)```\n<!-- backup-restore:{kind}:end -->",
                      text, re.S)
    assert match, f"docs/operations.md has no backup-restore:{kind} block"
    return match.group(1)


def run_steps(kind: str, env: dict[str, str]) -> None:
    # The venv's python first on PATH, as on a machine where the platform is installed.
    path = f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}"
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", guide_steps(kind)], env={**os.environ, **env,
                            "PATH": path}, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"the guide's {kind} steps failed:\n{result.stdout}\n{result.stderr}"


async def fill(registry: RunningService) -> list[str]:
    headers = registry.headers(roles={"registrar"})
    ids = []
    for n in range(3):
        response = await registry.client.post("/organisations", headers=headers, json={
            "kind": "local_union", "name_kk": f"Кәсіподақ {n}", "name_ru": f"Профсоюз резерв {n}"})
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    response = await registry.client.put(f"/organisations/{ids[0]}/membership/2025", headers=headers,
                                         json={"total": 120, "women": 70, "under_35": 30})
    assert response.status_code in (200, 201), response.text
    return ids


async def snapshot(registry: RunningService, ids: list[str]) -> dict[str, object]:
    """What a person reads back: each organisation with its ETag, the membership and the history."""
    headers = registry.headers(roles={"registrar"})
    result: dict[str, object] = {}
    for organisation_id in ids:
        response = await registry.client.get(f"/organisations/{organisation_id}", headers=headers)
        assert response.status_code == 200, response.text
        result[organisation_id] = (response.json(), response.headers.get("etag"))
        history = await registry.client.get(f"/organisations/{organisation_id}/history", headers=headers)
        assert history.status_code == 200, history.text
        result[f"{organisation_id}/history"] = history.json()
    membership = await registry.client.get(f"/organisations/{ids[0]}/membership", headers=headers)
    assert membership.status_code == 200 and membership.json(), membership.text
    result["membership"] = membership.json()
    register = await registry.client.get("/organisations", params={"q": "резерв"})
    assert register.status_code == 200, register.text
    result["register"] = register.json()
    return result


def registry_settings(url: str, nats_server, public_key: str) -> RegistrySettings:
    return settings_for(RegistrySettings, database_url=url, nats_url=nats_server.url, public_key=public_key)


async def test_the_guide_backs_up_and_restores_a_service_database(make_database, backend, nats_server, signer,
                                                                  public_key, tmp_path):
    source = await make_database("registry")
    async with running(create_app(registry_settings(source, nats_server, public_key)), signer, "registry") as registry:
        ids = await fill(registry)
        before = await snapshot(registry, ids)
        assert before[ids[0]][1], "the registry sends an ETag"
        if backend == "sqlite":
            # The guide says the SQLite backup is safe while the service runs: take it so.
            backup = tmp_path / "registry.backup.db"
            source_file = source.split("///", 1)[1]
            (tmp_path / "restored").mkdir()
            run_steps("sqlite", {"SOURCE_DB": source_file, "BACKUP": str(backup),
                                 "TARGET_DB": str(tmp_path / "restored" / "registry.db")})
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):  # the original is gone
            Path(source_file + suffix).unlink(missing_ok=True)
        restored = f"sqlite+aiosqlite:///{tmp_path / 'restored' / 'registry.db'}"
        await _serve_and_compare(restored, nats_server, signer, public_key, ids, before)
        return

    source_name = source.rsplit("/", 1)[1]
    target_name = f"ntc_test_restored_{uuid.uuid4().hex[:10]}"
    # As in production: the restored database belongs to the service's own role, not a superuser.
    owner = f"ntc_test_owner_{uuid.uuid4().hex[:10]}"
    backup = tmp_path / "registry.dump"
    await _admin(f'CREATE ROLE "{owner}" LOGIN')
    try:
        run_steps("postgres", {"SOURCE_URL": f"postgresql://postgres@127.0.0.1:5432/{source_name}",
                               "BACKUP": str(backup), "ADMIN_URL": ADMIN_URL, "TARGET_DB": target_name,
                               "OWNER": owner, "TARGET_URL": f"postgresql://postgres@127.0.0.1:5432/{target_name}"})
        assert backup.stat().st_size > 0
        await _admin(f'DROP DATABASE "{source_name}" WITH (FORCE)')  # the original is gone
        # The service connects as the owner role (trust authentication here; a password in production).
        restored = f"postgresql+asyncpg://{owner}@127.0.0.1:5432/{target_name}"
        await _serve_and_compare(restored, nats_server, signer, public_key, ids, before)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{target_name}" WITH (FORCE)')
        await _admin(f'DROP ROLE IF EXISTS "{owner}"')


async def _serve_and_compare(url: str, nats_server, signer, public_key: str, ids: list[str],
                             before: dict[str, object]) -> None:
    async with running(create_app(registry_settings(url, nats_server, public_key)), signer, "registry") as registry:
        ready = await registry.client.get("/readyz")
        assert ready.status_code == 200, ready.text  # the restored schema is at head
        assert await snapshot(registry, ids) == before


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(ADMIN_URL)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def test_the_guide_names_the_tools_that_are_installed():
    for tool in ("pg_dump", "pg_restore", "psql"):
        assert tool in guide_steps("postgres")
        if not shutil.which(tool):
            pytest.fail(f"{tool} is not installed; the PostgreSQL backup steps cannot run here")
