"""Event contracts: every event a service emits, one module per producer.

A module belongs to its producer (``contracts.registry`` to the registry service).
Consumers import the models to read events; nobody imports a service to do so.
Each model's JSON Schema is published under ``contracts/schemas`` and guarded by a
compatibility test: a breaking change needs a new version (``....v2``).
"""

from __future__ import annotations

from typing import TypeVar

from kernel.events import EventData, producer_of

CATALOG: dict[str, type[EventData]] = {}

E = TypeVar("E", bound=type[EventData])


def contract(cls: E) -> E:
    """Register an event model in the catalog under its ``event_type``."""
    event_type = cls.event_type
    producer_of(event_type)  # validates the name
    if event_type in CATALOG and CATALOG[event_type] is not cls:
        raise ValueError(f"two models claim the event type {event_type}")
    CATALOG[event_type] = cls
    return cls


def load_catalog() -> dict[str, type[EventData]]:
    """Import every producer's module so the catalog is complete."""
    import contracts.bargaining  # noqa: F401
    import contracts.disputes  # noqa: F401
    from contracts import registry  # noqa: F401

    return CATALOG


def produced_by(producer: str) -> list[type[EventData]]:
    return [cls for event_type, cls in sorted(load_catalog().items()) if producer_of(event_type) == producer]
