import uuid
from datetime import datetime

from pydantic import BaseModel


class InboxMessagePublic(BaseModel):
    id: uuid.UUID
    event_id: str
    event_type: str
    subject: str | None
    title: str
    created_at: datetime
    read_at: datetime | None


class InboxPage(BaseModel):
    items: list[InboxMessagePublic]
    unread: int
