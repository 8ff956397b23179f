"""What every part of the demo data shares: calls through the gateway that must succeed, waiting for a service
to hear of organisations from the registry's events, and reading the public register."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

REGISTER_PATH = "/api/v1/registry/organisations"


class DemoError(Exception):
    pass


def check(response: Any, what: str) -> dict[str, Any]:
    """The answer's JSON; a DemoError that says what could not be done, and the service's answer, otherwise."""
    if response.status_code >= 300:
        raise DemoError(f"could not {what}: HTTP {response.status_code} {response.text[:500]}")
    return response.json()


def wait_for_parties(client: Any, headers: dict[str, str], service: str, organisation_ids: Iterable[str],
                     timeout: float = 60.0) -> None:
    """``service`` learns of organisations from the registry's events: wait until it knows every one."""
    deadline = time.monotonic() + timeout
    for organisation_id in dict.fromkeys(organisation_ids):
        while client.get(f"/api/v1/{service}/parties/{organisation_id}", headers=headers).status_code != 200:
            if time.monotonic() > deadline:
                raise DemoError(f"{service} has not heard of organisation {organisation_id} from the registry "
                                f"within {timeout:.0f} s")
            time.sleep(0.2)


def registered(client: Any) -> dict[tuple[str, str], str]:
    """(kind, Russian name) -> id of every organisation in the public register."""
    found: dict[tuple[str, str], str] = {}
    offset = 0
    while True:
        page = check(client.get(REGISTER_PATH, params={"limit": 200, "offset": offset}), "read the register")
        for item in page["items"]:
            found[(item["kind"], item["name_ru"])] = str(item["id"])
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return found
