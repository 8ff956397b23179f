import uuid
from datetime import datetime

from sqlmodel import Field

from kernel.db import UTCDateTime, utcnow
from services.registry.tables import RegistryTable


class LabourForce(RegistryTable, table=True):
    """Employees counted by the labour-force survey for a year, nationally (no region) or in one region.

    The denominator of union density; loaded by staff from the statistics office's figures.
    """

    __tablename__ = "labour_force"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    year: int = Field(index=True)
    region_code: str | None = Field(default=None, max_length=20, description="Null for the national figure")
    employees: int
    source: str = Field(max_length=500)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    recorded_by: str = Field(max_length=200)
