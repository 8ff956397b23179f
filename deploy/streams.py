"""Streams as code: declare every service's JetStream stream and durable consumers, idempotently.

    python -m deploy.streams declare --nats-url nats://nats:4222 --environment production
    python -m deploy.streams declare --nats-url nats://127.0.0.1:4222 --replicas 3 --duplicate-window 2m
    python -m deploy.streams plan --nats-url ...      # what declare would do, changing nothing

What is declared comes from the services themselves: each service's ``definition()`` (in
``services/<name>/app.py``) says what it sends (its stream, ``<NAME>_EVENTS`` <- ``kz.ntc.<name>.>``)
and what it subscribes to (durable consumers ``<consumer>-<producer>``, plus its dead-letter
stream and consumer). The stream and consumer configurations are built by the kernel
(`kernel.bus.StreamSpec` / `ConsumerSpec`, `kernel.consumer.dead_letter_stream`) and applied
with `kernel.bus.declare_stream` / `declare_consumer`, exactly as a service does at start, so
the operations command and a starting service never disagree about a consumer.

Idempotent: the live configuration is compared with the declared one first; what already
matches is left alone (no update is sent), so running the command twice changes nothing.

Per environment (``--environment``): replicas, duplicate window and retention (``max_age``).
A service re-declares its own stream at start with its ``<PREFIX>_STREAM_REPLICAS``,
``<PREFIX>_STREAM_DUPLICATE_WINDOW_SECONDS`` and ``<PREFIX>_STREAM_MAX_AGE_SECONDS`` settings, so
those must carry the same values (the Kubernetes ConfigMap does); retention stays 0 (keep the
history: a projection is rebuilt by replaying its producer's stream) unless an operator decides otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kernel.bus import ConsumerSpec, StreamSpec, declare_consumer, declare_stream
from kernel.consumer import dead_letter_stream
from kernel.events import stream_name, stream_subjects

# Every service of the platform: the module with its definition() and its settings class.
SERVICES: dict[str, tuple[str, str]] = {
    "registry": ("services.registry.app", "services.registry.settings:RegistrySettings"),
    "bargaining": ("services.bargaining.app", "services.bargaining.settings:BargainingSettings"),
    "disputes": ("services.disputes.app", "services.disputes.settings:DisputesSettings"),
    "notifications": ("services.notifications.app", "services.notifications.settings:NotificationsSettings"),
}


@dataclass(frozen=True)
class StreamSettings:
    """What changes from one environment to another."""

    replicas: int
    duplicate_window_seconds: float
    max_age_seconds: float  # 0: keep every event (streams are the history)


ENVIRONMENTS: dict[str, StreamSettings] = {
    # One nats-server (make run, the compose file): a replica count above 1 would be refused.
    "development": StreamSettings(replicas=1, duplicate_window_seconds=120, max_age_seconds=0),
    # The 3-node JetStream cluster (deploy/k8s/nats/values.yaml): R3, so one node may be lost.
    # The duplicate window covers the relay's retries of a publish whose ack was lost.
    "production": StreamSettings(replicas=3, duplicate_window_seconds=120, max_age_seconds=0),
}

_DURATION = re.compile(r"^(?P<number>\d+(?:\.\d+)?)(?P<unit>ms|s|m|h|d)?$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(text: str) -> float:
    """``90s``, ``2m``, ``1h``, ``30d`` or plain seconds -> seconds."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (e.g. 90s, 2m, 1h, 30d)")
    return float(match["number"]) * _UNIT_SECONDS[match["unit"]]


# --------------------------------------------------------------------------- what is declared


@dataclass
class Declarations:
    streams: list[StreamSpec] = field(default_factory=list)
    consumers: list[ConsumerSpec] = field(default_factory=list)


def _service_definition(name: str) -> Any:
    module_name, settings_path = SERVICES[name]
    settings_module, settings_class = settings_path.split(":")
    settings_cls = getattr(importlib.import_module(settings_module), settings_class)
    # Consumer settings (max_deliver, back-off) come from the same environment variables the
    # service reads; "development" only so that the command needs none of the service's secrets.
    settings = settings_cls(environment="development")
    return importlib.import_module(module_name).definition(settings)


def declarations(stream_settings: StreamSettings, services: Sequence[str] = tuple(SERVICES)) -> Declarations:
    """Every stream and durable consumer of ``services``, as the services declare them at start."""
    result = Declarations()
    for name in services:
        definition = _service_definition(name)
        settings = definition.settings
        if definition.sends:
            result.streams.append(StreamSpec(
                name=stream_name(name), subjects=stream_subjects(name),
                duplicate_window_seconds=stream_settings.duplicate_window_seconds,
                replicas=stream_settings.replicas, max_age_seconds=stream_settings.max_age_seconds,
                description=f"Events produced by the {name} service"))
        if definition.subscriptions:
            for subscription in definition.subscriptions:
                # The same spec as kernel.consumer.ConsumerLoop.spec builds from the service's settings.
                result.consumers.append(ConsumerSpec(
                    stream=subscription.stream, durable=subscription.durable,
                    filter_subjects=subscription.subjects, max_deliver=settings.consumer_max_deliver,
                    backoff_seconds=settings.consumer_backoff_seconds))
            dead_letters = dead_letter_stream(name, definition.subscriptions, replicas=stream_settings.replicas)
            result.streams.append(dead_letters)
            # As kernel.consumer.DeadLetterLoop declares it.
            result.consumers.append(ConsumerSpec(stream=dead_letters.name, durable=f"{name}-deadletters",
                                                 filter_subjects=list(dead_letters.subjects), max_deliver=-1,
                                                 backoff_seconds=()))
    # Producers' streams first: a consumer can only be declared on a stream that exists.
    result.streams.sort(key=lambda spec: spec.name.endswith("_DEADLETTERS"))
    return result


# --------------------------------------------------------------------------- comparing with the server

STREAM_FIELDS = ("subjects", "storage", "duplicate_window", "num_replicas", "max_age", "description")
CONSUMER_FIELDS = ("deliver_policy", "ack_policy", "ack_wait", "max_deliver", "backoff", "filter_subject",
                   "filter_subjects", "max_ack_pending")


def _same(wanted: Any, live: Any) -> bool:
    if isinstance(wanted, float) or isinstance(live, float):
        return math.isclose(float(wanted or 0), float(live or 0), abs_tol=1e-6)
    if isinstance(wanted, list | tuple) or isinstance(live, list | tuple):
        wanted_items, live_items = list(wanted or []), list(live or [])
        return len(wanted_items) == len(live_items) and all(_same(a, b) for a, b in zip(wanted_items, live_items,
                                                                                           strict=True))
    return (wanted or None) == (live or None)


def differences(wanted: Any, live: Any, fields: Sequence[str]) -> dict[str, tuple[Any, Any]]:
    """Fields whose declared value differs from the server's: name -> (declared, live)."""
    return {name: (getattr(wanted, name), getattr(live, name)) for name in fields
            if not _same(getattr(wanted, name), getattr(live, name))}


@dataclass(frozen=True)
class Step:
    kind: str  # "stream" or "consumer"
    name: str
    action: str  # "create", "update" or "unchanged"
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def describe(self) -> str:
        text = f"{self.action:9} {self.kind:8} {self.name}"
        if self.changes:
            text += "  (" + ", ".join(f"{k}: {old!r} -> {new!r}" for k, (new, old) in self.changes.items()) + ")"
        return text


async def plan_and_apply(js: Any, wanted: Declarations, *, apply: bool) -> list[Step]:
    """Compare each declaration with the server; when ``apply``, create or update what differs."""
    from nats.js.errors import NotFoundError

    steps: list[Step] = []
    for spec in wanted.streams:
        try:
            live = (await js.stream_info(spec.name)).config
        except NotFoundError:
            step = Step("stream", spec.name, "create")
        else:
            changes = differences(spec.config(), live, STREAM_FIELDS)
            step = Step("stream", spec.name, "update" if changes else "unchanged", changes)
        if apply and step.action != "unchanged":
            await declare_stream(js, spec)
        steps.append(step)
    for spec in wanted.consumers:
        name = f"{spec.stream}/{spec.durable}"
        try:
            live = (await js.consumer_info(spec.stream, spec.durable)).config
        except NotFoundError:
            step = Step("consumer", name, "create")
        else:
            changes = differences(spec.config(), live, CONSUMER_FIELDS)
            step = Step("consumer", name, "update" if changes else "unchanged", changes)
        if apply and step.action != "unchanged":
            await declare_consumer(js, spec)
        steps.append(step)
    return steps


async def run(nats_url: str, wanted: Declarations, *, apply: bool, timeout: float = 10.0) -> list[Step]:
    import nats

    connection = await nats.connect(nats_url, connect_timeout=timeout, max_reconnect_attempts=3,
                                    reconnect_time_wait=0.5)
    try:
        return await plan_and_apply(connection.jetstream(timeout=timeout), wanted, apply=apply)
    finally:
        await connection.close()


# --------------------------------------------------------------------------- command line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m deploy.streams", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for command, text in (("declare", "create or update every stream and consumer (idempotent)"),
                          ("plan", "print what declare would do, changing nothing")):
        sub = commands.add_parser(command, help=text)
        sub.add_argument("--nats-url", required=True, help="e.g. nats://nats:4222")
        sub.add_argument("--environment", choices=sorted(ENVIRONMENTS), default="development",
                         help="the preset for replicas, duplicate window and retention (default: development)")
        sub.add_argument("--replicas", type=int, choices=range(1, 6), metavar="N",
                         help="stream replicas (overrides the preset; 1-5)")
        sub.add_argument("--duplicate-window", type=parse_duration, metavar="DURATION",
                         help="how long a Nats-Msg-Id is remembered, e.g. 2m (overrides the preset)")
        sub.add_argument("--max-age", type=parse_duration, metavar="DURATION",
                         help="retention, e.g. 365d; 0 keeps every event (overrides the preset)")
        sub.add_argument("--service", action="append", choices=sorted(SERVICES),
                         help="only this service's streams and consumers (repeatable; default: all)")
        sub.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for NATS (default 10)")
    return parser


def stream_settings_from(args: argparse.Namespace) -> StreamSettings:
    preset = ENVIRONMENTS[args.environment]
    return StreamSettings(
        replicas=args.replicas if args.replicas is not None else preset.replicas,
        duplicate_window_seconds=(args.duplicate_window if args.duplicate_window is not None
                                  else preset.duplicate_window_seconds),
        max_age_seconds=args.max_age if args.max_age is not None else preset.max_age_seconds,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from kernel.observability import configure_logging

    configure_logging(level="WARNING", json=False)  # the steps below are the report; logs only for trouble
    settings = stream_settings_from(args)
    wanted = declarations(settings, args.service or tuple(SERVICES))
    try:
        steps = asyncio.run(run(args.nats_url, wanted, apply=args.command == "declare", timeout=args.timeout))
    except Exception as exc:  # a wrong URL or a server without JetStream: say so, no traceback
        print(f"error: {args.command} against {args.nats_url} failed: {exc!r}", file=sys.stderr)
        return 1
    for step in steps:
        print(step.describe())
    changed = sum(step.action != "unchanged" for step in steps)
    verb = "changed" if args.command == "declare" else "to change"
    print(f"{len(steps)} declarations, {changed} {verb} (replicas {settings.replicas}, duplicate window "
          f"{settings.duplicate_window_seconds:g} s, max age {settings.max_age_seconds:g} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
