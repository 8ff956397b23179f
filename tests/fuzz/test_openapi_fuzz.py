"""Schemathesis against each service's OpenAPI document, on a running service process:
no 5xx, and every answer matches the documented responses (problem+json included)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from kernel.identity import IDENTITY_HEADER, Identity, IdentitySigner, generate_keypair
from tests.support.nats import NatsServer
from tests.support.processes import ServiceProcess

SERVICES = ("registry", "bargaining", "disputes", "notifications")
# Some rules cannot be said in JSON Schema (a BIN's check digit, a BIN required of employers,
# a duplicate BIN): a schema-valid request may rightly be refused with a problem answer.
DOMAIN_RULES_NOT_IN_SCHEMA = [positive_data_acceptance]


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return generate_keypair()


@pytest.fixture(scope="module")
def running_services(tmp_path_factory, keys):
    workdir = tmp_path_factory.mktemp("fuzz")
    nats_server = NatsServer(workdir / "nats")
    nats_server.start()
    processes = {}
    try:
        for name in SERVICES:
            prefix = name.upper()
            process = ServiceProcess(name, {
                f"{prefix}_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / name}.db",
                f"{prefix}_NATS_URL": nats_server.url,
                f"{prefix}_IDENTITY_PUBLIC_KEY": keys[1],
                f"{prefix}_LOG_LEVEL": "ERROR",
            }, workdir)
            process.start()
            processes[name] = process
        yield processes
    finally:
        for process in processes.values():
            process.stop()
        nats_server.stop()


def headers_for(keys: tuple[str, str]) -> dict[str, str]:
    # A registrar acting for an organisation: reaches the write routes and the inbox alike.
    identity = Identity(subject="fuzz", kind="staff", organisation_id="6f0c1f3e-0000-4000-8000-000000000001",
                        roles=frozenset({"registrar"}))
    return {IDENTITY_HEADER: IdentitySigner(keys[0]).sign(identity)}


@pytest.mark.slow
@pytest.mark.parametrize("name", SERVICES)
def test_no_server_errors_and_documented_answers(name, running_services, keys):
    service = running_services[name]
    schema = schemathesis.openapi.from_url(f"{service.url}/openapi.json")
    # The document names the gateway path as its server; the fuzzer talks to the service directly.
    schema.raw_schema["servers"] = [{"url": service.url}]
    headers = headers_for(keys)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, f"{name} documents no operations"
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            case.call_and_validate(headers=headers, base_url=service.url, excluded_checks=DOMAIN_RULES_NOT_IN_SCHEMA)

        check()
