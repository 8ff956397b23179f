"""The tenancy contract: every organisation-owned object kind, and the requests to try on it.

The gateway's tenancy test (tests/gateway/test_tenancy.py) runs each owning service for real
behind the gateway and, for every organisation credential against every other organisation's
objects, expects exactly what a random missing id gets: 404 with the same problem body.

A service that adds an organisation-owned object adds a row to ``TENANT_OBJECTS`` (and, if
it is a new service, starts in the test's fixture). A route that does not exist yet is listed
with ``NOT_YET`` and a reason, so the gap is visible and the row is completed when it lands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Operation = Literal["read", "update", "delete"]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # relative to /api/v1/<service>, with "{id}" for the object's id
    body: dict[str, Any] | None = None  # JSON sent with it, if any


@dataclass(frozen=True)
class NotYet:
    reason: str


NOT_YET = NotYet


@dataclass(frozen=True)
class TenantObject:
    service: str
    kind: str
    list_path: str  # GET: the caller's own objects of this kind
    ids_of: Callable[[Any], list[str]]  # the ids in that listing's JSON body
    operations: dict[Operation, Route | NotYet]
    # A listing that grows by itself (the inbox: events keep arriving from the other services): compared
    # item by item — nothing already listed may change — rather than as a whole.
    grows_by_itself: bool = False

    def routes(self) -> list[tuple[Operation, Route]]:
        return [(name, route) for name, route in self.operations.items() if isinstance(route, Route)]

    def missing(self) -> list[tuple[Operation, str]]:
        return [(name, route.reason) for name, route in self.operations.items() if isinstance(route, NotYet)]


def _items(body: Any) -> list[str]:
    return [str(item["id"]) for item in body["items"]]


TENANT_OBJECTS: tuple[TenantObject, ...] = (
    TenantObject(
        service="registry",
        kind="organisation's own records (history, membership)",
        list_path="/organisations/own",
        ids_of=_items,
        operations={
            "read": Route("GET", "/organisations/{id}/history"),
            "update": Route("PUT", "/organisations/{id}/membership/2025",
                            {"total": 120, "women": 60, "under_35": 30, "by_region": {}}),
            "delete": NOT_YET("organisations are struck off by a registrar (liquidation), never deleted"),
        },
    ),
    TenantObject(
        service="bargaining",
        kind="negotiation",
        list_path="/negotiations",
        ids_of=_items,
        operations={
            "read": Route("GET", "/negotiations/{id}"),
            "update": Route("POST", "/negotiations/{id}/meetings",
                            {"held_on": "2026-01-15", "minutes": "Agenda agreed.", "attendees": {}}),
            "delete": NOT_YET("negotiations are never deleted: an agreement ends by expiry or termination"),
        },
    ),
    TenantObject(
        service="disputes",
        kind="individual dispute",
        list_path="/individual-disputes",
        ids_of=_items,
        operations={
            "read": Route("GET", "/individual-disputes/{id}"),
            # The employer (its commission) and the employee's union may both take the dispute to court.
            "update": Route("POST", "/individual-disputes/{id}/court-referral",
                            {"court": "Specialised inter-district court", "reason": "tenancy check"}),
            "delete": NOT_YET("applications are withdrawn or referred to court, never deleted"),
        },
    ),
    TenantObject(
        service="disputes",
        kind="freedom-of-association complaint",
        list_path="/complaints",
        ids_of=_items,
        operations={
            "read": Route("GET", "/complaints/{id}"),
            "update": NOT_YET("a complaint is changed only by the labour inspectorate (staff); its union and "
                              "its employer read it"),
            "delete": NOT_YET("complaints are closed by the inspectorate, never deleted"),
        },
    ),
    TenantObject(
        service="notifications",
        kind="subscription",
        list_path="/subscriptions",
        ids_of=_items,
        operations={
            "read": Route("GET", "/subscriptions/{id}"),
            "update": Route("PUT", "/subscriptions/{id}", {"pattern": "kz.ntc.disputes.>", "channel": "inbox"}),
            "delete": Route("DELETE", "/subscriptions/{id}"),
        },
    ),
    TenantObject(
        service="notifications",
        kind="e-mail contact",
        list_path="/contacts",
        ids_of=_items,
        operations={
            "read": Route("GET", "/contacts/{id}"),
            "update": NOT_YET("a contact is not edited: it is removed and added again"),
            "delete": Route("DELETE", "/contacts/{id}"),
        },
    ),
    TenantObject(
        service="notifications",
        kind="webhook endpoint",
        list_path="/webhook-endpoints",
        ids_of=_items,
        operations={
            "read": Route("GET", "/webhook-endpoints/{id}"),
            "update": Route("PATCH", "/webhook-endpoints/{id}", {"description": "ERP receiver (changed)"}),
            "delete": Route("DELETE", "/webhook-endpoints/{id}"),
        },
    ),
    TenantObject(
        service="notifications",
        kind="inbox message",
        list_path="/inbox",
        ids_of=_items,
        grows_by_itself=True,
        operations={
            "read": NOT_YET("no GET /inbox/{id}: messages are read through the listing"),
            "update": Route("POST", "/inbox/{id}/read"),
            "delete": NOT_YET("no DELETE /inbox/{id}: messages are not deleted"),
        },
    ),
)

# Every operation must be named for every kind, as a route or as NOT_YET with a reason.
OPERATIONS: tuple[Operation, ...] = ("read", "update", "delete")
