import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Path, Response, status

from kernel.calendar import kazakhstan_today
from kernel.db import SessionDep
from kernel.identity import OptionalIdentity
from kernel.paging import Limit, Offset
from kernel.problems import NotFound
from services.registry.access import (
    Caller,
    Registrar,
    actor_of,
    may_read_private,
    require_owner_or_registrar,
    require_private_read,
)
from services.registry.organisations import service
from services.registry.organisations.schemas import (
    AffiliationChange,
    AffiliationPublic,
    HistoryEntryPublic,
    Liquidation,
    MembershipAggregate,
    MembershipReportPublic,
    MembershipReportWrite,
    OrganisationCreate,
    OrganisationPage,
    OrganisationPublic,
    OrganisationUpdate,
)
from services.registry.register import service as register
from services.registry.register.schemas import RegisterQuery

router = APIRouter(prefix="/organisations", tags=["organisations"])

Year = Annotated[int, Path(ge=1991, le=2100, description="The reporting year")]


def _etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


@router.post("", status_code=status.HTTP_201_CREATED, summary="Enter an organisation in the register (registrars)")
async def register_organisation(body: OrganisationCreate, session: SessionDep, identity: Registrar,
                                response: Response) -> OrganisationPublic:
    organisation = await service.register_organisation(session, application=body, actor=actor_of(identity))
    await session.commit()
    _etag(response, organisation.version)
    return await service.public_view(session, organisation)


@router.get("", summary="The public register of organisations: search by name fragment, filter, page")
async def list_organisations(session: SessionDep, filters: RegisterQuery, limit: Limit = 50,
                             offset: Offset = 0) -> OrganisationPage:
    rows, total = await register.search(session, filters, limit=limit, offset=offset)
    return OrganisationPage(items=await service.public_views(session, rows), total=total)


@router.get("/own", summary="The organisation the caller's credential acts for (empty for staff)")
async def own_organisations(session: SessionDep, identity: Caller) -> OrganisationPage:
    organisation = None
    if identity.organisation_id is not None:
        organisation = await service.get_organisation(session, uuid.UUID(identity.organisation_id))
    rows = [organisation] if organisation is not None else []
    return OrganisationPage(items=await service.public_views(session, rows), total=len(rows))


@router.get("/{organisation_id}", summary="One organisation (public once registered; before that, its own and staff)")
async def get_organisation(organisation_id: uuid.UUID, session: SessionDep, identity: OptionalIdentity,
                           response: Response) -> OrganisationPublic:
    organisation = await service.get_organisation(session, organisation_id)
    if organisation is None or not (service.is_public(organisation) or may_read_private(identity, organisation_id)):
        raise NotFound("organisation")
    _etag(response, organisation.version)
    return await service.public_view(session, organisation)


@router.patch("/{organisation_id}", summary="Change public particulars (the organisation itself or a registrar); "
                                            "needs If-Match")
async def update_organisation(organisation_id: uuid.UUID, body: OrganisationUpdate, session: SessionDep,
                              identity: Caller, response: Response,
                              if_match: Annotated[str | None, Header()] = None) -> OrganisationPublic:
    require_owner_or_registrar(identity, organisation_id)
    organisation = await service.update_organisation(session, organisation_id, changes=body, if_match=if_match,
                                                     actor=actor_of(identity))
    await session.commit()
    _etag(response, organisation.version)
    return await service.public_view(session, organisation)


@router.put("/{organisation_id}/affiliation", summary="Join, change or leave a higher-tier organisation")
async def change_affiliation(organisation_id: uuid.UUID, body: AffiliationChange, session: SessionDep,
                             identity: Caller) -> OrganisationPublic:
    require_owner_or_registrar(identity, organisation_id)
    organisation = await service.change_affiliation(session, organisation_id, change=body, actor=actor_of(identity))
    await session.commit()
    return await service.public_view(session, organisation)


async def _public_or_own(session: SessionDep, organisation_id: uuid.UUID, identity: OptionalIdentity) -> None:
    organisation = await service.get_organisation(session, organisation_id)
    if organisation is None or not (service.is_public(organisation) or may_read_private(identity, organisation_id)):
        raise NotFound("organisation")


@router.get("/{organisation_id}/affiliations", summary="Affiliation history, newest first (public)")
async def affiliation_history(organisation_id: uuid.UUID, session: SessionDep,
                              identity: OptionalIdentity) -> list[AffiliationPublic]:
    await _public_or_own(session, organisation_id, identity)
    rows = await service.affiliations(session, organisation_id)
    return [AffiliationPublic.model_validate(r, from_attributes=True) for r in rows]


@router.get("/{organisation_id}/affiliates", summary="The organisations that belong to this one now (public)")
async def affiliates(organisation_id: uuid.UUID, session: SessionDep,
                     identity: OptionalIdentity) -> list[OrganisationPublic]:
    await _public_or_own(session, organisation_id, identity)
    return await service.public_views(session, await service.affiliates(session, organisation_id))


@router.post("/{organisation_id}/liquidation", summary="Strike the organisation off the register (registrars)")
async def liquidate(organisation_id: uuid.UUID, body: Liquidation, session: SessionDep,
                    identity: Registrar) -> OrganisationPublic:
    organisation = await service.liquidate(session, organisation_id, liquidation=body, actor=actor_of(identity),
                                          today=kazakhstan_today())
    await session.commit()
    return await service.public_view(session, organisation)


@router.put("/{organisation_id}/membership/{year}", summary="Report membership counts for a year (counts only)")
async def report_membership(organisation_id: uuid.UUID, year: Year, body: MembershipReportWrite,
                            session: SessionDep, identity: Caller) -> MembershipReportPublic:
    require_owner_or_registrar(identity, organisation_id)
    report = await service.report_membership(session, organisation_id, year, report=body, actor=actor_of(identity),
                                             today=kazakhstan_today())
    await session.commit()
    return MembershipReportPublic.model_validate(report, from_attributes=True)


@router.get("/{organisation_id}/membership", summary="Membership reports, newest year first (its own and staff)")
async def membership_reports(organisation_id: uuid.UUID, session: SessionDep,
                             identity: Caller) -> list[MembershipReportPublic]:
    require_private_read(identity, organisation_id)
    await service.require_organisation(session, organisation_id)
    rows = await service.membership_reports(session, organisation_id)
    return [MembershipReportPublic.model_validate(r, from_attributes=True) for r in rows]


@router.get("/{organisation_id}/membership/{year}/aggregate",
            summary="Membership of the organisation and every organisation below it (its own and staff)")
async def membership_aggregate(organisation_id: uuid.UUID, year: Year, session: SessionDep,
                               identity: Caller) -> MembershipAggregate:
    require_private_read(identity, organisation_id)
    await service.require_organisation(session, organisation_id)
    return await service.aggregate_membership(session, organisation_id, year)


@router.get("/{organisation_id}/history", summary="Every step in the register, oldest first (its own and staff)")
async def organisation_history(organisation_id: uuid.UUID, session: SessionDep,
                               identity: Caller) -> list[HistoryEntryPublic]:
    require_private_read(identity, organisation_id)
    await service.require_organisation(session, organisation_id)
    rows = await service.history(session, organisation_id)
    return [HistoryEntryPublic.model_validate(r, from_attributes=True) for r in rows]
