"""Individual labour disputes over HTTP: thin routes; the service decides; each write commits once."""

import uuid
from datetime import date

from fastapi import APIRouter, status
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.calendar import checked_day
from kernel.db import SessionDep
from kernel.paging import Limit, Offset
from kernel.problems import PROBLEM_JSON, ProblemBody
from services.disputes.access import Caller
from services.disputes.individual import rules, service
from services.disputes.individual.models import IndividualDispute
from services.disputes.individual.rules import ExemptionCheck, IndividualStatus, TimeLimitCheck
from services.disputes.individual.schemas import (
    AccessLog,
    AccessRecord,
    CopiesIn,
    CourtReferralIn,
    DecisionIn,
    ExecutionIn,
    IndividualCreate,
    IndividualPage,
    IndividualPublic,
    PreCheckIn,
    PreCheckPublic,
    WithdrawalIn,
)

router = APIRouter(prefix="/individual-disputes", tags=["individual disputes"])
CONFLICT: dict[int | str, dict[str, object]] = {
    409: {"model": ProblemBody, "content": {PROBLEM_JSON: {}},
          "description": "Not allowed in the application's current state; `allowed` names what is"},
}


async def dispute_view(session: AsyncSession, dispute: IndividualDispute) -> IndividualPublic:
    law = rules.rules_on(dispute.filed_on)
    checked = PreCheckPublic.model_validate(dispute.time_limit)
    return IndividualPublic(
        **dispute.model_dump(include={
            "id", "status", "employer_id", "employer_name", "union_id", "employee_name", "employee_position",
            "subject", "claim", "filed_on", "dismissal_act_on", "violation_known_on", "decision_due",
            "decision_overdue_since", "outcome", "decision", "decided_on", "copies_due", "copies_sent_on",
            "copies_overdue_since", "execution_due", "executed_on", "execution_overdue_since", "court",
            "referred_on", "referral_reason", "court_limit_ends_on", "ended_on", "updated_at", "version"}),
        time_limit=TimeLimitCheck.model_validate(checked.time_limit),
        commission_mandatory=checked.commission_mandatory,
        exemptions=[ExemptionCheck.model_validate(e) for e in checked.exemptions],
        decision_article=law.decision_period_working_days.article,
        copies_article=law.copies_period.article,
        allowed_actions=[a.value for a in rules.allowed_actions(dispute.status)],
    )


@router.get("/rules", summary="The rule set in force on a day: periods, art. 160 time limits, suspension grounds, "
            "exemptions, subjects (each with its article; unconfirmed figures marked verify)")
async def rules_in_force(_: Caller, on: date | None = None) -> rules.IndividualRules:
    return service.law_on(checked_day(on, "query:/on"))


@router.post("/pre-check", summary="Is an application in time (art. 160), and is the commission step mandatory "
             "(art. 159)? Every reason with its article; nothing is recorded")
async def pre_check(body: PreCheckIn, session: SessionDep, _: Caller) -> PreCheckPublic:
    return await service.pre_check(session, body=body)


@router.post("", status_code=status.HTTP_201_CREATED,
             summary="An application to the employer's conciliation commission, registered the day it is filed")
async def file(body: IndividualCreate, session: SessionDep, identity: Caller) -> IndividualPublic:
    dispute = await service.file(session, body=body, identity=identity)
    await session.commit()
    return await dispute_view(session, dispute)


@router.get("", summary="Individual disputes: all for staff; for an organisation, those of its commission or of "
            "its members")
async def list_disputes(session: SessionDep, identity: Caller, status: IndividualStatus | None = None,
                        limit: Limit = 50, offset: Offset = 0) -> IndividualPage:
    rows, total = await service.list_disputes(session, identity=identity, status=status, limit=limit,
                                              offset=offset)
    page = IndividualPage(items=[await dispute_view(session, d) for d in rows], total=total)
    await session.commit()  # the listing's audit rows
    return page


@router.get("/{individual_dispute_id}", summary="One application with its periods and the actions allowed now "
            "(reads are audited)")
async def get_dispute(individual_dispute_id: uuid.UUID, session: SessionDep, identity: Caller) -> IndividualPublic:
    view = await dispute_view(session, await service.read(session, individual_dispute_id, identity))
    await session.commit()  # the read's audit row
    return view


@router.get("/{individual_dispute_id}/access-log", summary="Every read of the application's record and every "
            "decision on it (staff: dispute_officer, administrator)")
async def access_log(individual_dispute_id: uuid.UUID, session: SessionDep, identity: Caller) -> AccessLog:
    rows = await service.access_log(session, individual_dispute_id, identity)
    return AccessLog(individual_dispute_id=individual_dispute_id, items=[
        AccessRecord(at=r.at, actor=r.actor, action=r.action, detail=r.detail) for r in rows])


@router.post("/{individual_dispute_id}/decision", responses=CONFLICT,
             summary="The commission's decision (within 15 working days; carried out within at most one month)")
async def decide(individual_dispute_id: uuid.UUID, body: DecisionIn, session: SessionDep,
                 identity: Caller) -> IndividualPublic:
    dispute = await service.decide(session, individual_dispute_id, body=body, identity=identity)
    await session.commit()
    return await dispute_view(session, dispute)


@router.post("/{individual_dispute_id}/copies", responses=CONFLICT,
             summary="Copies of the decision handed to the parties (within 3 days)")
async def copies(individual_dispute_id: uuid.UUID, body: CopiesIn, session: SessionDep,
                 identity: Caller) -> IndividualPublic:
    dispute = await service.record_copies(session, individual_dispute_id, body=body, identity=identity)
    await session.commit()
    return await dispute_view(session, dispute)


@router.post("/{individual_dispute_id}/execution", responses=CONFLICT, summary="The decision was carried out")
async def execution(individual_dispute_id: uuid.UUID, body: ExecutionIn, session: SessionDep,
                    identity: Caller) -> IndividualPublic:
    dispute = await service.execute(session, individual_dispute_id, body=body, identity=identity)
    await session.commit()
    return await dispute_view(session, dispute)


@router.post("/{individual_dispute_id}/court-referral", responses=CONFLICT,
             summary="The dispute went to court (after the decision, or without one once its period ran out)")
async def court_referral(individual_dispute_id: uuid.UUID, body: CourtReferralIn, session: SessionDep,
                         identity: Caller) -> IndividualPublic:
    dispute = await service.refer_to_court(session, individual_dispute_id, body=body, identity=identity)
    await session.commit()
    return await dispute_view(session, dispute)


@router.post("/{individual_dispute_id}/withdrawal", responses=CONFLICT,
             summary="The employee withdraws the application (through the union or staff)")
async def withdrawal(individual_dispute_id: uuid.UUID, body: WithdrawalIn, session: SessionDep,
                     identity: Caller) -> IndividualPublic:
    dispute = await service.withdraw(session, individual_dispute_id, body=body, identity=identity)
    await session.commit()
    return await dispute_view(session, dispute)
