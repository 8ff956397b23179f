import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class InboxMessagePublic(BaseModel):
    id: uuid.UUID
    event_id: str
    event_type: str
    subject: str | None
    title: str
    created_at: datetime
    read_at: datetime | None = Field(description="When the caller read it (None: unread for the caller)")
    staff_role: str | None = Field(default=None, description="The staff desk it is on (None: the organisation's "
                                                             "inbox)")


class InboxPage(BaseModel):
    items: list[InboxMessagePublic]
    unread: int = Field(description="Messages the caller has not read")


class UnreadCount(BaseModel):
    unread: int = Field(description="Messages in the caller's inbox (organisation or staff desks) the caller has "
                                    "not read")
