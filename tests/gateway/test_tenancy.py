"""The tenancy contract, end to end: an organisation never learns that another's object exists.

The services that own organisation-scoped objects run for real (uvicorn processes, their own
databases, a real nats-server), with the registry producing the events that create those
objects; the gateway runs in front of them in-process. Each organisation authenticates with
its own API key. The object kinds and the requests tried are the table in
``tests/support/tenancy.py``: a service adding an organisation-owned object adds a row there.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from services.registry.organisations.rules import make_bin
from tests.gateway.support import Gateway, PlatformFactory, wait_until_known
from tests.support.services import eventually
from tests.support.tenancy import OPERATIONS, TENANT_OBJECTS, Route, TenantObject

API = "/api/v1"
# The registry's events create the inbox messages and bargaining's parties.
OWNING_SERVICES = ("registry", "bargaining", "disputes", "notifications")


@dataclass
class Tenant:
    name: str
    organisation_id: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@dataclass
class Platform:
    gateway: Gateway
    tenants: list[Tenant]


@pytest.fixture
async def platform(start_platform: PlatformFactory) -> Platform:
    # The tenants' webhook receivers are on loopback, which the notifications service refuses unless told.
    gateway = await start_platform(*OWNING_SERVICES, env={"NOTIFICATIONS_WEBHOOK_ALLOWED_PRIVATE": '["127.0.0.1"]'})
    _, registrar_key = await gateway.issue_key(roles=("registrar",), name="registry clerk")
    tenants = []
    for name, body in [
        ("union A", {"kind": "sectoral_union", "name_kk": "Кәсіподақ А", "name_ru": "Профсоюз А",
                     "region_code": "750000000"}),
        ("employer B", {"kind": "employer", "name_kk": "Қарағанды көмір", "name_ru": "Карагандауголь",
                        "bin": make_bin("99014000123")}),
    ]:
        registered = await gateway.client.post(f"{API}/registry/organisations", json=body,
                                               headers={"Authorization": f"Bearer {registrar_key}"})
        assert registered.status_code == 201, registered.text
        organisation_id = registered.json()["id"]
        _, key = await gateway.issue_key(roles=("employer",) if body["kind"] == "employer" else ("union",),
                                         organisation_id=uuid.UUID(organisation_id), name=f"{name} system")
        tenants.append(Tenant(name, organisation_id, key))
    await _open_negotiations(gateway, tenants, registrar_key)
    await _open_disputes_cases(gateway, tenants, registrar_key)
    await _open_notification_settings(gateway, tenants)
    for tenant in tenants:
        for kind in TENANT_OBJECTS:
            await eventually(lambda t=tenant, k=kind: _own_ids(gateway, t, k), timeout=30,
                             what=f"{tenant.name}'s {kind.kind} objects")
    return Platform(gateway, tenants)


async def _open_notification_settings(gateway: Gateway, tenants: list[Tenant]) -> None:
    """Each tenant's own e-mail contact, webhook endpoint and subscription."""
    for tenant in tenants:
        for path, body in (("/contacts", {"email": "secretary@tenant.example", "language": "ru"}),
                           ("/webhook-endpoints", {"url": "http://127.0.0.1:9/ntc-hooks", "description": "ERP"}),
                           ("/subscriptions", {"pattern": "kz.ntc.bargaining.>", "channel": "inbox"})):
            created = await gateway.client.post(f"{API}/notifications{path}", headers=tenant.headers, json=body)
            assert created.status_code == 201, created.text


async def _open_negotiations(gateway: Gateway, tenants: list[Tenant], registrar_key: str) -> None:
    """Each tenant proposes bargaining to a counterpart of its own (never to the other tenant), who enters."""
    registrar = {"Authorization": f"Bearer {registrar_key}"}
    _, officer_key = await gateway.issue_key(roles=("bargaining_officer",), name="bargaining clerk")
    officer = {"Authorization": f"Bearer {officer_key}"}
    for tenant, level, sides, counterpart in [
        (tenants[0], "sectoral", ("workers", "employers"),
         {"kind": "sectoral_employer_association", "name_kk": "Қауымдастық", "name_ru": "Ассоциация"}),
        (tenants[1], "enterprise", ("employers", "workers"),
         {"kind": "primary_union_organisation", "name_kk": "Бастауыш ұйым", "name_ru": "Первичная организация",
          "region_code": "350000000"}),
    ]:
        registered = await gateway.client.post(f"{API}/registry/organisations", json=counterpart, headers=registrar)
        assert registered.status_code == 201, registered.text
        other = registered.json()["id"]

        await wait_until_known(gateway, "bargaining", (tenant.organisation_id, other), officer)
        proposed = await gateway.client.post(f"{API}/bargaining/negotiations", headers=tenant.headers, json={
            "level": level, "subject_matter": f"Agreement proposed by {tenant.name}",
            "initiator_id": tenant.organisation_id, "proposed_on": "2026-01-10",  # before the meeting tried
            "parties": [{"organisation_id": tenant.organisation_id, "side": sides[0]},
                        {"organisation_id": other, "side": sides[1]}]})
        assert proposed.status_code == 201, proposed.text
        entered = await gateway.client.post(f"{API}/bargaining/negotiations/{proposed.json()['id']}/entry",
                                            headers=officer, json={"organisation_id": other})
        assert entered.status_code == 200, entered.text


async def _open_disputes_cases(gateway: Gateway, tenants: list[Tenant], registrar_key: str) -> None:
    """An individual dispute and a complaint of each tenant's own, none shared with the other tenant.

    The union files both against a third employer; employer B registers an application at its own
    commission, and a complaint about B (taken in by staff, without a union) is opened for inspection
    so that B is told of it.
    """
    union, employer = tenants
    _, officer_key = await gateway.issue_key(roles=("dispute_officer",), name="disputes clerk")
    _, inspector_key = await gateway.issue_key(roles=("labour_inspector",), name="labour inspectorate")
    officer = {"Authorization": f"Bearer {officer_key}"}
    inspector = {"Authorization": f"Bearer {inspector_key}"}
    registered = await gateway.client.post(f"{API}/registry/organisations", headers={
        "Authorization": f"Bearer {registrar_key}"}, json={
        "kind": "employer", "name_kk": "Үшінші", "name_ru": "Третий работодатель", "bin": make_bin("99014000777")})
    assert registered.status_code == 201, registered.text
    third = registered.json()["id"]

    async def known(organisation_id: str) -> bool:
        found = await gateway.client.get(f"{API}/disputes/parties/{organisation_id}", headers=officer)
        return found.status_code == 200

    for organisation_id in (union.organisation_id, employer.organisation_id, third):
        await eventually(lambda o=organisation_id: known(o), timeout=30, what="disputes' parties")
    application = {"employee_name": "Employee", "subject": "pay", "claim": "Unpaid overtime",
                   "violation_known_on": "2026-01-10"}
    complaint = {"category": "threat_of_dismissal", "complainant": {"name": "Complainant"},
                 "description": "Threatened with dismissal for joining the union."}
    for headers, body in (
        (union.headers, application | {"employer_id": third, "union_id": union.organisation_id}),
        (employer.headers, application | {"employer_id": employer.organisation_id}),
    ):
        filed = await gateway.client.post(f"{API}/disputes/individual-disputes", headers=headers, json=body)
        assert filed.status_code == 201, filed.text
    filed = await gateway.client.post(f"{API}/disputes/complaints", headers=union.headers,
                                      json=complaint | {"employer_id": third, "union_id": union.organisation_id})
    assert filed.status_code == 201, filed.text
    filed = await gateway.client.post(f"{API}/disputes/complaints", headers=officer,
                                      json=complaint | {"employer_id": employer.organisation_id})
    assert filed.status_code == 201, filed.text
    opened = await gateway.client.post(f"{API}/disputes/complaints/{filed.json()['id']}/inspection",
                                       headers=inspector, json={"inspector": "Inspector"})
    assert opened.status_code == 200, opened.text


async def _own_ids(gateway: Gateway, tenant: Tenant, kind: TenantObject) -> list[str]:
    response = await gateway.client.get(f"{API}/{kind.service}{kind.list_path}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return kind.ids_of(response.json())


async def _send(gateway: Gateway, kind: TenantObject, route: Route, object_id: str,
                headers: dict[str, str]) -> httpx.Response:
    return await gateway.client.request(route.method, f"{API}/{kind.service}{route.path.format(id=object_id)}",
                                        json=route.body, headers=headers)


def _comparable(response: httpx.Response) -> tuple[int, str, dict[str, Any]]:
    body = response.json()
    return response.status_code, response.headers.get("content-type", ""), {**body, "instance": None}


def test_every_kind_names_every_operation() -> None:
    for kind in TENANT_OBJECTS:
        assert set(kind.operations) == set(OPERATIONS), kind.kind
        assert kind.routes(), f"{kind.kind}: at least one request must be tried"
        assert kind.service in OWNING_SERVICES, f"start {kind.service} in the tenancy fixture"


async def test_no_organisation_reaches_another_organisations_objects(platform: Platform) -> None:
    gateway, tenants = platform.gateway, platform.tenants
    failures: list[str] = []
    tried = 0
    for kind in TENANT_OBJECTS:
        owned = {tenant.name: await _own_ids(gateway, tenant, kind) for tenant in tenants}
        before = {tenant.name: (await gateway.client.get(f"{API}/{kind.service}{kind.list_path}",
                                                         headers=tenant.headers)).json() for tenant in tenants}
        # Nobody lists another organisation's objects.
        for tenant in tenants:
            for other in tenants:
                if other is not tenant and set(owned[tenant.name]) & set(owned[other.name]):
                    failures.append(f"{tenant.name} lists {other.name}'s {kind.kind}")
        for caller in tenants:
            for operation, route in kind.routes():
                missing = await _send(gateway, kind, route, str(uuid.uuid4()), caller.headers)
                if missing.status_code != 404:
                    failures.append(f"{caller.name} {operation} missing {kind.kind}: {missing.status_code}")
                    continue
                expected = _comparable(missing)
                for owner in tenants:
                    if owner is caller:
                        continue
                    for object_id in owned[owner.name]:
                        tried += 1
                        foreign = await _send(gateway, kind, route, object_id, caller.headers)
                        if _comparable(foreign) != expected:
                            failures.append(f"{caller.name} {operation} {owner.name}'s {kind.kind} {object_id}: "
                                            f"{foreign.status_code} {foreign.text[:300]} "
                                            f"(missing: {missing.text[:300]})")
                # No credential at all: 401, whoever owns the object.
                anonymous = await _send(gateway, kind, route, owned[caller.name][0], {})
                if anonymous.status_code != 401:
                    failures.append(f"anonymous {operation} {kind.kind}: {anonymous.status_code}")
        # The refused attempts changed nothing the owners can see.
        for tenant in tenants:
            after = (await gateway.client.get(f"{API}/{kind.service}{kind.list_path}", headers=tenant.headers)).json()
            if kind.grows_by_itself:
                listed_after = {str(item["id"]): item for item in after["items"]}
                changed = [item["id"] for item in before[tenant.name]["items"]
                           if listed_after.get(str(item["id"])) != item]
            else:
                changed = [] if after == before[tenant.name] else ["the listing"]
            if changed:
                failures.append(f"{tenant.name}'s {kind.kind} listing changed after others' attempts: {changed}")
        # Own objects answer 2xx.
        for tenant in tenants:
            for operation, route in kind.routes():
                for object_id in owned[tenant.name]:
                    own = await _send(gateway, kind, route, object_id, tenant.headers)
                    if not 200 <= own.status_code < 300:
                        failures.append(f"{tenant.name} {operation} own {kind.kind}: "
                                        f"{own.status_code} {own.text[:300]}")
        unauthenticated = await gateway.client.get(f"{API}/{kind.service}{kind.list_path}")
        if unauthenticated.status_code != 401:
            failures.append(f"anonymous listing of {kind.kind}: {unauthenticated.status_code}")
    assert not failures, "\n".join(failures)
    assert tried >= len(tenants) * (len(tenants) - 1), "the matrix tried nothing"


async def test_an_employer_key_sees_only_its_own_inbox(platform: Platform) -> None:
    gateway = platform.gateway
    employer = next(t for t in platform.tenants if t.name.startswith("employer"))
    union = next(t for t in platform.tenants if t is not employer)

    inbox = await gateway.client.get(f"{API}/notifications/inbox", headers=employer.headers)

    assert inbox.status_code == 200, inbox.text
    items = inbox.json()["items"]
    assert items and all(item["subject"] != union.organisation_id for item in items)
    assert any(item["subject"] == employer.organisation_id for item in items)
    assert inbox.json()["unread"] == len(items)
