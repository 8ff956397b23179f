import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, File, Response, UploadFile, status

from kernel.app import StateDep
from kernel.db import SessionDep
from kernel.paging import Limit, Offset
from kernel.problems import Problem
from services.registry.access import Registrar, actor_of
from services.registry.imports import service, worker
from services.registry.imports.rules import COLUMNS, template_csv
from services.registry.imports.schemas import ImportJobPage, ImportJobPublic, public_job
from services.registry.imports.settings import ImportSettings

router = APIRouter(prefix="/imports", tags=["imports"])

_settings = ImportSettings()


def import_settings() -> ImportSettings:
    return _settings


FORMAT = (
    "Upload as multipart/form-data with the file in the field `file`: CSV (UTF-8, comma or semicolon "
    "separated) or XLSX (first sheet), told apart by content. The first row names the columns: "
    + ", ".join(COLUMNS) + ". A row with a kind enters an organisation (kind, name_kk and name_ru required; "
    "sectors are division codes separated by spaces or semicolons; parent_ref is the ref or BIN of another row, "
    "or the BIN or id of a registered organisation; status is registered or confirmed; registered_on is "
    "YYYY-MM-DD). A row without a kind adds a membership report (membership_year, members_total, members_women, "
    "members_under_35) for the organisation named by its ref or BIN. Every row is checked with the API's rules; "
    "if any row fails nothing is written and the job's report lists every problem as (row, column, rule, detail)."
)


@router.post("", status_code=status.HTTP_202_ACCEPTED, summary="Import a register file (CSV or XLSX, "
             "multipart field `file`) as a job (registrars)", description=FORMAT,
             responses={413: {"description": "The file is larger than the import limit"}})
async def start_import(file: Annotated[UploadFile, File(description="The register file, CSV or XLSX")],
                       session: SessionDep, identity: Registrar, response: Response, state: StateDep,
                       settings: Annotated[ImportSettings, Depends(import_settings)]) -> ImportJobPublic:
    content = await file.read(settings.max_file_bytes + 1)
    if len(content) > settings.max_file_bytes:
        raise Problem(413, "payload-too-large", "Payload too large",
                      f"The file is larger than the import limit of {settings.max_file_bytes} bytes; split it "
                      "into several files (a later file may name organisations of an earlier one by BIN).",
                      limit_bytes=settings.max_file_bytes)
    if not content.strip():
        raise Problem(422, "validation", "Invalid request", "The file is empty.")
    filename = (file.filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][:255] or "upload"
    job = service.create_job(session, filename=filename, content=content, actor=actor_of(identity))
    await session.commit()
    worker.wake(state)  # after the commit: the worker's claim must see the job
    response.headers["Location"] = f"imports/{job.id}"
    return public_job(job)


@router.get("/template.csv", summary="An empty register file with the header row", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "UTF-8, the header row, CRLF line end"}})
async def template() -> Response:
    return Response(template_csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="register-import.csv"'})


@router.get("", summary="Import jobs, newest first (registrars)")
async def list_imports(session: SessionDep, _: Registrar, limit: Limit = 50, offset: Offset = 0) -> ImportJobPage:
    jobs, total = await service.list_jobs(session, limit=limit, offset=offset)
    return ImportJobPage(items=[public_job(j) for j in jobs], total=total)


@router.get("/{job_id}", summary="An import job: status, progress (rows_done of rows_total) and report (registrars)")
async def get_import(job_id: uuid.UUID, session: SessionDep, _: Registrar) -> ImportJobPublic:
    return public_job(await service.require_job(session, job_id))
