import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from services.notifications.email.templates import Language

# Deliberately plain: one @, something on each side, a dot in the domain, no spaces. The
# mailbox proves itself by receiving; this only catches typing mistakes.
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320, pattern=EMAIL_PATTERN, examples=["secretary@union.kz"])
    name: str | None = Field(default=None, max_length=200)
    language: Language = Field(description="The language e-mails are written in: kk, ru or en")


class ContactPublic(BaseModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    email: str
    name: str | None
    language: Language
    last_digest_on: date | None
    created_at: datetime


class ContactPage(BaseModel):
    items: list[ContactPublic]
    total: int
