import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.notifications.routing.rules import Channel


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pattern: str = Field(min_length=1, max_length=200, examples=["kz.ntc.disputes.>"],
                         description="An event type, or a pattern with * (one token) and a final > (the rest)")
    channel: Channel
    endpoint_id: uuid.UUID | None = Field(default=None, description="Required for the webhook channel")
    contact_id: uuid.UUID | None = Field(default=None,
                                         description="E-mail channel: one contact; none means every contact")
    digest: bool = Field(default=False, description="E-mail channel: low-priority events once a day")


class SubscriptionPublic(BaseModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    pattern: str
    channel: Channel
    endpoint_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    digest: bool
    created_by: str
    created_at: datetime


class SubscriptionPage(BaseModel):
    items: list[SubscriptionPublic]
    total: int
