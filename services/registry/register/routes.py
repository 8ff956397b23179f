"""The public register's exports (the list itself is GET /organisations). Anonymous, like the register."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from services.registry.register import service
from services.registry.register.schemas import RegisterQuery

# Mounted before the organisations router, so that /organisations/export.csv is not read as an id.
router = APIRouter(prefix="/organisations", tags=["public register"])


def _download(body, media_type: str, filename: str) -> StreamingResponse:
    return StreamingResponse(body, media_type=media_type,
                             headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                      "Cache-Control": "no-store"})


@router.get("/export.csv", summary="The public register as CSV (same filters as the list)",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}, "description": "UTF-8, a header row, CRLF line ends"}})
async def export_csv(request: Request, filters: RegisterQuery,
                     bom: Annotated[bool, Query(description="Start with a UTF-8 byte-order mark, which Excel needs "
                                                            "to read Cyrillic")] = False) -> StreamingResponse:
    return _download(service.export_csv(request.app.state.platform.sessionmaker, filters, bom=bom),
                     "text/csv; charset=utf-8", "register.csv")


@router.get("/export.json", summary="The public register as a JSON array (same filters as the list)",
            response_class=StreamingResponse,
            responses={200: {"content": {"application/json": {}}, "description": "An array of organisations"}})
async def export_json(request: Request, filters: RegisterQuery) -> StreamingResponse:
    return _download(service.export_json(request.app.state.platform.sessionmaker, filters),
                     "application/json", "register.json")
