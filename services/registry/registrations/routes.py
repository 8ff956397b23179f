import uuid

from fastapi import APIRouter, status
from pydantic import BaseModel

from kernel.db import SessionDep
from kernel.paging import Limit, Offset
from services.registry.access import Caller, Registrar, require_owner_or_registrar, require_private_read
from services.registry.organisations.service import require_organisation
from services.registry.registrations import service
from services.registry.registrations.models import RegistrationApplication
from services.registry.registrations.rules import ApplicationStatus
from services.registry.registrations.schemas import (
    ApplicationCreate,
    ApplicationPublic,
    ConfirmationDecision,
    ConfirmationFiling,
    ConfirmationPublic,
    Decision,
    Filing,
    PreCheck,
    PreCheckResult,
)

router = APIRouter(tags=["registrations"])


class ApplicationPage(BaseModel):
    items: list[ApplicationPublic]
    total: int


async def _view(session: SessionDep, application: RegistrationApplication) -> ApplicationPublic:
    return (await service.application_views(session, [application]))[0]


@router.post("/registrations/pre-check", summary="Run the registration checks before filing (public): "
                                                 "every failing rule at once")
async def pre_check(body: PreCheck, session: SessionDep) -> PreCheckResult:
    return await service.pre_check(session, body)


@router.post("/registrations", status_code=status.HTTP_201_CREATED,
             summary="File an application to register a trade union")
async def submit_application(body: ApplicationCreate, session: SessionDep, identity: Caller) -> ApplicationPublic:
    application = await service.submit_application(session, application=body, identity=identity)
    await session.commit()
    return await _view(session, application)


@router.get("/registrations", summary="Applications: all for staff, its own for an organisation")
async def list_applications(session: SessionDep, identity: Caller, organisation_id: uuid.UUID | None = None,
                            status: ApplicationStatus | None = None, limit: Limit = 50,
                            offset: Offset = 0) -> ApplicationPage:
    rows, total = await service.list_applications(session, identity=identity, organisation_id=organisation_id,
                                                  status=status, limit=limit, offset=offset)
    return ApplicationPage(items=await service.application_views(session, rows), total=total)


@router.get("/registrations/{application_id}", summary="One application with its grounds and allowed actions")
async def get_application(application_id: uuid.UUID, session: SessionDep, identity: Caller) -> ApplicationPublic:
    return await _view(session, await service.require_application(session, application_id, identity))


@router.post("/registrations/{application_id}/review", summary="Start reviewing an application (registrars)")
async def start_review(application_id: uuid.UUID, session: SessionDep, identity: Registrar) -> ApplicationPublic:
    application = await service.start_review(session, application_id, identity=identity)
    await session.commit()
    return await _view(session, application)


@router.post("/registrations/{application_id}/decision",
             summary="Register, refuse or return an application (registrars); a refusal states every ground")
async def decide(application_id: uuid.UUID, body: Decision, session: SessionDep,
                 identity: Registrar) -> ApplicationPublic:
    application = await service.decide(session, application_id, decision=body, identity=identity)
    await session.commit()
    return await _view(session, application)


@router.post("/registrations/{application_id}/resubmission",
             summary="Re-file a returned application with corrections (the applicant or a registrar)")
async def resubmit(application_id: uuid.UUID, body: Filing, session: SessionDep, identity: Caller) -> ApplicationPublic:
    application = await service.resubmit(session, application_id, filing=body, identity=identity)
    await session.commit()
    return await _view(session, application)


@router.post("/organisations/{organisation_id}/status-confirmations", status_code=status.HTTP_201_CREATED,
             summary="File the union's status confirmation (the union or a registrar)")
async def file_confirmation(organisation_id: uuid.UUID, body: ConfirmationFiling, session: SessionDep,
                            identity: Caller) -> ConfirmationPublic:
    require_owner_or_registrar(identity, organisation_id)
    confirmation = await service.file_confirmation(session, organisation_id, filing=body, identity=identity)
    await session.commit()
    organisation = await require_organisation(session, organisation_id)
    return await service.confirmation_view(session, organisation, confirmation)


@router.get("/organisations/{organisation_id}/status-confirmations",
            summary="Status confirmation filings and decisions (its own and staff)")
async def list_confirmations(organisation_id: uuid.UUID, session: SessionDep,
                             identity: Caller) -> list[ConfirmationPublic]:
    require_private_read(identity, organisation_id)
    organisation = await require_organisation(session, organisation_id)
    return [await service.confirmation_view(session, organisation, c)
            for c in await service.confirmations(session, organisation_id)]


@router.post("/organisations/{organisation_id}/status-confirmations/{confirmation_id}/decision",
             summary="Confirm the status, refuse (it lapses) or return the filing (registrars)")
async def decide_confirmation(organisation_id: uuid.UUID, confirmation_id: uuid.UUID, body: ConfirmationDecision,
                              session: SessionDep, identity: Registrar) -> ConfirmationPublic:
    confirmation = await service.decide_confirmation(session, organisation_id, confirmation_id, decision=body,
                                                     identity=identity)
    await session.commit()
    organisation = await require_organisation(session, organisation_id)
    return await service.confirmation_view(session, organisation, confirmation)
