import uuid
from datetime import datetime

from sqlalchemy import String
from sqlmodel import Field

from kernel.db import UTCDateTime, utcnow
from services.disputes.tables import DisputesTable


class Party(DisputesTable, table=True):
    """Read model of an organisation that may be a party to a dispute, fed by registry events."""

    __tablename__ = "party"

    id: uuid.UUID = Field(primary_key=True, description="The registry's organisation id")
    kind: str = Field(sa_type=String(60))
    name_ru: str = Field(max_length=300)
    name_kk: str = Field(max_length=300)
    bin: str | None = Field(default=None, max_length=12)
    region_code: str | None = Field(default=None, max_length=20)
    registry_status: str = Field(max_length=40)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime,
                                 description="The registry's time of the status last applied")
    details_updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime,
                                         description="The registry's time of the particulars last applied "
                                                     "(kind, names, region)")
