import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, status

from contracts.registry import OrganisationKind
from kernel.db import SessionDep
from kernel.identity import Identity, require_roles
from kernel.paging import Limit, Offset
from kernel.problems import NotFound
from services.registry.organisations import service
from services.registry.organisations.schemas import OrganisationCreate, OrganisationPage, OrganisationPublic

router = APIRouter(prefix="/organisations", tags=["organisations"])

Registrar = Annotated[Identity, Depends(require_roles("registrar", "administrator"))]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Enter an organisation in the register")
async def register_organisation(body: OrganisationCreate, session: SessionDep, _: Registrar) -> OrganisationPublic:
    organisation = await service.register_organisation(session, application=body)
    await session.commit()
    return OrganisationPublic.model_validate(organisation, from_attributes=True)


@router.get("", summary="The public register of organisations")
async def list_organisations(
    session: SessionDep,
    kind: OrganisationKind | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> OrganisationPage:
    rows, total = await service.list_organisations(session, kind=kind, limit=limit, offset=offset)
    items = [OrganisationPublic.model_validate(r, from_attributes=True) for r in rows]
    return OrganisationPage(items=items, total=total)


@router.get("/{organisation_id}", summary="One organisation from the public register")
async def get_organisation(organisation_id: uuid.UUID, session: SessionDep) -> OrganisationPublic:
    organisation = await service.get_organisation(session, organisation_id)
    if organisation is None:
        raise NotFound("organisation")
    return OrganisationPublic.model_validate(organisation, from_attributes=True)
