import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000, examples=["https://erp.employer.kz/ntc/webhooks"])
    description: str | None = Field(default=None, max_length=300)


class EndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=1, max_length=2000)
    description: str | None = Field(default=None, max_length=300)
    enabled: bool | None = Field(default=None, description="true re-enables a disabled endpoint")


class EndpointPublic(BaseModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    url: str
    description: str | None
    enabled: bool
    disabled_at: datetime | None
    disabled_reason: str | None
    failing_since: datetime | None
    previous_secret_until: datetime | None = Field(description="Until then the previous secret signs too")
    created_at: datetime


class EndpointWithSecret(EndpointPublic):
    secret: str = Field(description="Shown this once: keep it to verify signatures (Standard Webhooks)")


class EndpointPage(BaseModel):
    items: list[EndpointPublic]
    total: int


class AttemptPublic(BaseModel):
    number: int
    attempted_at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None


class DeliveryPublic(BaseModel):
    id: uuid.UUID
    endpoint_id: uuid.UUID
    event_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    log: list[AttemptPublic] = Field(default_factory=list)


class DeliveryPage(BaseModel):
    items: list[DeliveryPublic]
    total: int
