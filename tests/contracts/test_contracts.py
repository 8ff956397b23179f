"""Event contracts: every type has a published schema and an AsyncAPI entry, emitted events
validate against them, and a published schema cannot change incompatibly."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
from sqlalchemy import select

from contracts import load_catalog
from contracts.compat import breaking_changes
from contracts.export import main as export_main
from contracts.export import published
from kernel.asyncapi import event_schema
from kernel.events import CloudEvent
from kernel.outbox import OutboxMessage
from services.bargaining.app import definition as bargaining
from services.disputes.app import definition as disputes
from services.notifications.app import definition as notifications
from services.registry.app import create_app as create_registry
from services.registry.app import definition as registry
from services.registry.organisations.rules import make_bin
from services.registry.settings import RegistrySettings
from tests.support.services import running, settings_for

CATALOG = load_catalog()
DEFINITIONS = [registry(), bargaining(), disputes(), notifications()]


def test_the_catalog_is_not_empty():
    assert "kz.ntc.registry.organisation.registered.v1" in CATALOG


@pytest.mark.parametrize("event_type", sorted(CATALOG))
def test_every_event_type_has_a_published_schema_that_matches_its_model(event_type):
    schema = published(event_type)
    assert schema is not None, f"no published schema for {event_type}: run `make schemas`"
    assert schema == event_schema(CATALOG[event_type]), f"{event_type} changed: run `make schemas` (and commit)"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_published_schemas_are_up_to_date_and_compatible():
    assert export_main(["--check"]) == 0


@pytest.mark.parametrize("event_type", sorted(CATALOG))
def test_every_event_type_is_in_exactly_one_producers_asyncapi_document(event_type):
    from kernel.asyncapi import asyncapi_document

    senders = []
    for definition in DEFINITIONS:
        document = asyncapi_document(definition.name, sends=list(definition.sends), receives=definition.receives)
        addresses = {channel["address"] for channel in document["channels"].values()}
        operations = {op["action"] for key, op in document["operations"].items() if event_type.replace(".", "_") in key}
        if "send" in operations:
            senders.append(definition.name)
            assert event_type in addresses
    assert senders == [event_type.split(".")[2]]


def test_consumers_asyncapi_lists_what_they_receive():
    from kernel.asyncapi import asyncapi_document

    definition = bargaining()
    document = asyncapi_document(definition.name, sends=list(definition.sends), receives=definition.receives)
    receive = [op for op in document["operations"].values() if op["action"] == "receive"]
    assert receive, "bargaining consumes registry events; its AsyncAPI document must say so"


# --- the compatibility rules ---------------------------------------------------------------

BASE = {
    "type": "object",
    "properties": {
        "audience": {"type": "array", "items": {"type": "string", "format": "uuid"}},
        "status": {"type": "string"},
        "kind": {"$ref": "#/$defs/Kind"},
        "count": {"type": "integer"},
    },
    "required": ["audience", "status"],
    "$defs": {"Kind": {"enum": ["a", "b"], "type": "string"}},
}


def changed(mutate) -> dict:
    schema = copy.deepcopy(BASE)
    mutate(schema)
    return schema


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda s: s["properties"].pop("status"), "status: property removed"),
        (lambda s: s["properties"].__setitem__("count", {"type": "string"}), "count: type changed"),
        (lambda s: s["required"].append("count"), "count: property became required"),
        (lambda s: s["$defs"]["Kind"].__setitem__("enum", ["a"]), "enumeration lost ['b']"),
        (lambda s: s["properties"]["audience"].__setitem__("items", {"type": "integer"}), "audience: type changed"),
    ],
)
def test_breaking_changes_are_named(mutate, expected):
    problems = breaking_changes(BASE, changed(mutate))
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s["properties"].__setitem__("note", {"type": "string"}),
        lambda s: s["$defs"]["Kind"].__setitem__("enum", ["a", "b", "c"]),
        lambda s: s["properties"]["status"].__setitem__("description", "now documented"),
        lambda s: s["required"].remove("status"),
    ],
)
def test_compatible_changes_pass(mutate):
    assert breaking_changes(BASE, changed(mutate)) == []


# --- what a service actually emits ---------------------------------------------------------

async def test_emitted_events_validate_against_their_published_schema(tmp_path, nats_server, signer, public_key):
    settings = settings_for(RegistrySettings, database_url=f"sqlite+aiosqlite:///{tmp_path / 'r.db'}",
                            nats_url=nats_server.url, public_key=public_key)
    async with running(create_registry(settings), signer, "registry") as service:
        headers = service.headers(roles={"registrar"})
        for body in (
            {"kind": "republican_union_association", "name_kk": "Қазақстан кәсіподақтар федерациясы",
             "name_ru": "Федерация профсоюзов Республики Казахстан", "name_en": "Federation of Trade Unions"},
            {"kind": "employer", "name_kk": "Кәсіпорын", "name_ru": "Предприятие", "bin": make_bin("05014000765"),
             "region_code": "750000000"},
        ):
            assert (await service.client.post("/organisations", json=body, headers=headers)).status_code == 201
        async with service.state.sessionmaker() as session:
            envelopes = (await session.execute(select(OutboxMessage.envelope))).scalars().all()
    assert len(envelopes) == 2
    envelope_schema = CloudEvent.model_json_schema()
    for raw in envelopes:
        document = json.loads(raw)
        jsonschema.validate(document, envelope_schema)
        assert document["specversion"] == "1.0" and document["source"] == "/registry"
        schema = published(document["type"])
        assert schema is not None
        jsonschema.validate(document["data"], schema, format_checker=jsonschema.FormatChecker())
        assert document["data"]["audience"] == [document["subject"]]
