"""Streams as code (deploy/streams.py) against a real nats-server: idempotent, and in step with the services."""

from __future__ import annotations

import argparse
import asyncio

import nats
import pytest

from deploy import streams
from services.bargaining.app import create_app as create_bargaining
from services.bargaining.settings import BargainingSettings
from tests.support.services import running, settings_for

# What the platform has today, at the least: a new subscription adds to these sets.
EXPECTED_STREAMS = {"REGISTRY_EVENTS", "BARGAINING_EVENTS", "DISPUTES_EVENTS", "BARGAINING_DEADLETTERS",
                    "DISPUTES_DEADLETTERS", "NOTIFICATIONS_DEADLETTERS"}
EXPECTED_CONSUMERS = {("REGISTRY_EVENTS", "bargaining-registry"), ("REGISTRY_EVENTS", "disputes-registry"),
                      ("REGISTRY_EVENTS", "notifications-registry"),
                      ("BARGAINING_DEADLETTERS", "bargaining-deadletters"),
                      ("DISPUTES_DEADLETTERS", "disputes-deadletters"),
                      ("NOTIFICATIONS_DEADLETTERS", "notifications-deadletters")}


def subscribed() -> set[tuple[str, str]]:
    """Every (stream, durable) the services subscribe with, read from their definitions."""
    return {(sub.stream, sub.durable) for name in streams.SERVICES
            for sub in streams._service_definition(name).subscriptions}


def total() -> int:
    wanted = streams.declarations(streams.ENVIRONMENTS["development"])
    return len(wanted.streams) + len(wanted.consumers)


async def snapshot(url: str) -> dict[str, object]:
    """Every stream's and consumer's configuration and creation time, as the server holds them."""
    connection = await nats.connect(url)
    try:
        js = connection.jetstream()
        result: dict[str, object] = {}
        for info in await js.streams_info():
            result[f"stream {info.config.name}"] = (info.config, info.created)
            for consumer in await js.consumers_info(info.config.name):
                result[f"consumer {info.config.name}/{consumer.name}"] = (consumer.config, consumer.created)
        return result
    finally:
        await connection.close()


async def command(*argv: str) -> int:
    # In a thread: the command runs its own event loop, as it does from a shell.
    return await asyncio.to_thread(streams.main, list(argv))


async def declare(url: str, *extra: str) -> int:
    return await command("declare", "--nats-url", url, *extra)


def test_durations_are_read_as_operators_write_them():
    assert streams.parse_duration("2m") == 120
    assert streams.parse_duration("90s") == 90
    assert streams.parse_duration("1h") == 3600
    assert streams.parse_duration("30d") == 30 * 86400
    assert streams.parse_duration("250ms") == 0.25
    assert streams.parse_duration("45") == 45
    with pytest.raises(argparse.ArgumentTypeError):
        streams.parse_duration("two minutes")


def test_the_declarations_come_from_the_services_definitions():
    wanted = streams.declarations(streams.ENVIRONMENTS["production"])
    assert {spec.name for spec in wanted.streams} >= EXPECTED_STREAMS
    declared = {(spec.stream, spec.durable) for spec in wanted.consumers}
    assert declared >= EXPECTED_CONSUMERS
    # Every subscription of every service, and one dead-letter consumer per subscribing service.
    assert declared == subscribed() | {(f"{name.upper()}_DEADLETTERS", f"{name}-deadletters")
                                       for name in ("bargaining", "disputes", "notifications")}
    # Production: R3 everywhere, the dead-letter streams included.
    assert {spec.replicas for spec in wanted.streams} == {3}
    # Producers' streams come before the dead-letter streams whose advisories point at them.
    names = [spec.name for spec in wanted.streams]
    assert max(names.index(n) for n in names if n.endswith("_EVENTS")) < min(
        names.index(n) for n in names if n.endswith("_DEADLETTERS"))
    registry = next(spec for spec in wanted.consumers if spec.durable == "bargaining-registry")
    assert list(registry.filter_subjects) == ["kz.ntc.registry.>"]
    assert registry.max_deliver == BargainingSettings().consumer_max_deliver


async def test_declaring_twice_changes_nothing(nats_server, capsys):
    assert await declare(nats_server.url) == 0
    first = capsys.readouterr().out
    n = total()
    assert f"{n} declarations, {n} changed" in first
    before = await snapshot(nats_server.url)
    assert {key.split(" ", 1)[1] for key in before if key.startswith("stream ")} >= EXPECTED_STREAMS
    assert {tuple(key.split(" ", 1)[1].split("/")) for key in before if key.startswith("consumer ")} \
        >= EXPECTED_CONSUMERS
    assert len(before) == n

    assert await declare(nats_server.url) == 0
    second = capsys.readouterr().out
    assert f"{n} declarations, 0 changed" in second
    assert all(line.startswith("unchanged") for line in second.splitlines()[:-1])
    assert await snapshot(nats_server.url) == before  # same configurations, same objects (creation times)


async def test_a_changed_setting_is_applied_and_then_stable(nats_server, capsys):
    assert await declare(nats_server.url) == 0
    capsys.readouterr()
    assert await command("plan", "--nats-url", nats_server.url, "--duplicate-window", "5m") == 0
    planned = capsys.readouterr().out
    assert "update    stream   REGISTRY_EVENTS  (duplicate_window: 120.0 -> 300.0)" in planned
    # plan changed nothing
    assert (await snapshot(nats_server.url))["stream REGISTRY_EVENTS"][0].duplicate_window == 120

    assert await declare(nats_server.url, "--duplicate-window", "5m", "--max-age", "365d") == 0
    # The three producers' streams; a dead-letter stream takes only the replicas from the environment
    # (kernel.consumer.dead_letter_stream), and the consumers were already right.
    assert f"{total()} declarations, 3 changed" in capsys.readouterr().out
    config = (await snapshot(nats_server.url))["stream REGISTRY_EVENTS"][0]
    assert config.duplicate_window == 300 and config.max_age == 365 * 86400
    assert await declare(nats_server.url, "--duplicate-window", "5m", "--max-age", "365d") == 0
    assert "0 changed" in capsys.readouterr().out


async def test_a_starting_service_agrees_with_the_command(nats_server, tmp_path, signer, public_key, capsys):
    """The command and a service at start build the same consumer: starting the service changes nothing."""
    assert await declare(nats_server.url) == 0
    capsys.readouterr()
    before = await snapshot(nats_server.url)
    settings = settings_for(BargainingSettings, database_url=f"sqlite+aiosqlite:///{tmp_path / 'bargaining.db'}",
                            nats_url=nats_server.url, public_key=public_key,
                            # the production consumer settings, not the tests' short ones
                            consumer_max_deliver=BargainingSettings().consumer_max_deliver,
                            consumer_backoff_seconds=BargainingSettings().consumer_backoff_seconds)
    async with running(create_bargaining(settings), signer, "bargaining") as service:
        for loop in service.state.consumer_loops:
            await _wait(loop.bound)
        await _wait(service.state.dead_letter_loop.bound)
    after = await snapshot(nats_server.url)
    for key in ("consumer REGISTRY_EVENTS/bargaining-registry",
                "consumer BARGAINING_DEADLETTERS/bargaining-deadletters", "stream BARGAINING_DEADLETTERS"):
        assert after[key] == before[key], key
    assert await command("plan", "--nats-url", nats_server.url) == 0
    assert f"{total()} declarations, 0 to change" in capsys.readouterr().out


async def test_an_unreachable_server_is_reported_without_a_traceback(capsys):
    from tests.support.nats import free_port

    assert await declare(f"nats://127.0.0.1:{free_port()}", "--timeout", "1") == 1
    assert "error: declare against nats://127.0.0.1:" in capsys.readouterr().err


def test_replicas_beyond_the_cluster_are_refused_by_the_argument_parser():
    with pytest.raises(SystemExit) as exit_info:
        streams.main(["declare", "--nats-url", "nats://127.0.0.1:1", "--replicas", "7"])
    assert exit_info.value.code == 2


async def _wait(event, timeout: float = 30.0) -> None:
    await asyncio.wait_for(event.wait(), timeout=timeout)
