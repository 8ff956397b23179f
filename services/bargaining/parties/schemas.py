import uuid
from datetime import datetime

from pydantic import BaseModel


class PartyPublic(BaseModel):
    id: uuid.UUID
    kind: str
    name_kk: str
    name_ru: str
    name_en: str | None
    bin: str | None
    region_code: str | None
    registry_status: str
    may_bargain: bool
    updated_at: datetime


class PartyPage(BaseModel):
    items: list[PartyPublic]
    total: int
