import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, LargeBinary, String
from sqlmodel import Field

from kernel.db import UTCDateTime, utcnow
from services.registry.tables import RegistryTable


class ImportStatus(StrEnum):
    queued = "queued"
    validating = "validating"
    importing = "importing"
    done = "done"
    failed = "failed"


# A job in one of these states has a worker on it, or had one that crashed (its lease then runs out).
ACTIVE_STATUSES = (ImportStatus.queued, ImportStatus.validating, ImportStatus.importing)


class ImportJob(RegistryTable, table=True):
    """One uploaded register file and what became of it. The file is kept in the row so that a job
    interrupted by a restart can be validated and written again from the start."""

    __tablename__ = "import_job"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    filename: str = Field(max_length=255)
    content: bytes = Field(sa_type=LargeBinary)
    size_bytes: int
    status: ImportStatus = Field(default=ImportStatus.queued, sa_type=String(20), index=True)
    rows_total: int | None = None
    rows_done: int = 0
    report: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
