import uuid
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

from services.registry.imports.models import ImportStatus


class ImportProblemPublic(BaseModel):
    row: int = Field(description="Row of the file (the header is row 1); 0 for the file as a whole")
    column: str
    rule: str
    detail: str


class ImportReport(BaseModel):
    problems: list[ImportProblemPublic] = Field(default_factory=list,
                                                description="Every problem found; nothing is written if any")
    organisations: int = Field(default=0, description="Organisations entered in the register")
    affiliations: int = 0
    membership_reports: int = 0
    error: str | None = Field(default=None, description="Why the job stopped, when not because of the rows")


class ImportJobPublic(BaseModel):
    id: uuid.UUID
    filename: str
    size_bytes: int
    status: ImportStatus
    rows_total: int | None = Field(description="Data rows in the file, once it has been read")
    rows_done: int = Field(description="Rows checked so far (all of them once the job is done)")
    report: ImportReport
    created_by: str
    created_at: AwareDatetime | datetime
    updated_at: AwareDatetime | datetime
    started_at: AwareDatetime | datetime | None
    finished_at: AwareDatetime | datetime | None
    attempts: int


class ImportJobPage(BaseModel):
    items: list[ImportJobPublic]
    total: int


def public_job(job: Any) -> ImportJobPublic:
    values = {name: getattr(job, name) for name in ImportJobPublic.model_fields if name != "report"}
    return ImportJobPublic(**values, report=ImportReport.model_validate(job.report or {}))
