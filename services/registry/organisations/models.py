import uuid
from datetime import datetime

from sqlalchemy import String
from sqlmodel import Field

from contracts.registry import OrganisationKind
from kernel.db import UTCDateTime, utcnow
from services.registry.tables import RegistryTable


class Organisation(RegistryTable, table=True):
    __tablename__ = "organisation"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: OrganisationKind = Field(sa_type=String(60), index=True)
    name_kk: str = Field(max_length=300)
    name_ru: str = Field(max_length=300)
    name_en: str | None = Field(default=None, max_length=300)
    bin: str | None = Field(default=None, max_length=12, unique=True)
    region_code: str | None = Field(default=None, max_length=20)
    status: str = Field(default="registered", max_length=40)
    registered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = 1
