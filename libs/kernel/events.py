"""CloudEvents 1.0 envelope (structured JSON mode) and the base of every event payload.

The NATS subject of an event is its type, so ``kz.ntc.registry.>`` selects one producer
and ``....v1`` one version. The payload names its ``audience``: the organisation ids the
event concerns, so notifications can route it without calling the producer back.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

TYPE_PATTERN = re.compile(r"^kz\.ntc\.(?P<producer>[a-z]+)\.[a-z_]+(\.[a-z_]+)*\.v(?P<version>[0-9]+)$")


class CloudEvent(BaseModel):
    """The envelope, exactly as published on the bus and stored in the outbox."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1)
    source: str = Field(min_length=1)
    type: str = Field(pattern=TYPE_PATTERN.pattern)
    subject: str | None = None
    time: AwareDatetime
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = None
    # Extension attribute: the request that caused this event, carried into consumers' logs.
    correlationid: str | None = None
    data: dict[str, Any]

    @field_validator("time")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    def to_json(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()


class EventData(BaseModel):
    """Base of every event payload. Subclasses live in the `contracts` package."""

    model_config = ConfigDict(frozen=True)

    event_type: ClassVar[str]
    audience: list[uuid.UUID] = Field(
        description="Organisations this event concerns; notifications route on it."
    )

    def subject(self) -> str | None:
        """The aggregate id the event is about (CloudEvents ``subject``)."""
        return None


def envelope(data: EventData, *, source: str, correlation_id: str | None = None, event_id: str | None = None,
             time: datetime | None = None) -> CloudEvent:
    return CloudEvent(
        id=event_id or str(uuid.uuid4()),
        source=source,
        type=data.event_type,
        subject=data.subject(),
        time=time or datetime.now(UTC),
        dataschema=f"https://ntc.kz/schemas/events/{data.event_type}.json",
        correlationid=correlation_id,
        data=data.model_dump(mode="json"),
    )


def producer_of(event_type: str) -> str:
    match = TYPE_PATTERN.match(event_type)
    if match is None:
        raise ValueError(f"{event_type!r} is not a platform event type (kz.ntc.<producer>.<...>.v<N>)")
    return match["producer"]


def stream_name(producer: str) -> str:
    """One stream per producing service: ``registry`` -> ``REGISTRY_EVENTS``."""
    return f"{producer.upper()}_EVENTS"


def stream_subjects(producer: str) -> list[str]:
    return [f"kz.ntc.{producer}.>"]
