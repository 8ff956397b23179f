"""Collective disputes over HTTP: thin routes; the service decides; each write commits once."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.disputes import Demand
from kernel.calendar import kazakhstan_today
from kernel.db import SessionDep
from kernel.paging import Limit, Offset
from kernel.problems import PROBLEM_JSON, ProblemBody
from services.disputes.access import Caller
from services.disputes.collective import rules, service
from services.disputes.collective.models import CollectiveDispute
from services.disputes.collective.rules import DisputeAction, DisputeCause, DisputeStatus
from services.disputes.collective.schemas import (
    AnswerIn,
    BargainingOrigin,
    DisputeCreate,
    DisputePage,
    DisputePublic,
    MediationIn,
    PutForwardIn,
    RulingIn,
    StageChange,
    StagePublic,
    StrikeDecisionIn,
)

router = APIRouter(prefix="/collective-disputes", tags=["collective disputes"])
CONFLICT: dict[int | str, dict[str, object]] = {
    409: {"model": ProblemBody, "content": {PROBLEM_JSON: {}},
          "description": "Not allowed in the dispute's current state; `allowed` names what is"},
}


async def dispute_view(session: AsyncSession, dispute: CollectiveDispute) -> DisputePublic:
    law = rules.rules_on(dispute.submitted_on)
    today = kazakhstan_today()
    stall = rules.stall_rules_on(today)
    stages = [StagePublic(number=s.number, stage=s.stage, started_on=s.started_on, ended_on=s.ended_on,
                          outcome=s.outcome, ended_by=s.ended_by,
                          elapsed_days=rules.elapsed_days(s.started_on, s.ended_on, today),
                          limit_days=rules.stage_limit(s.stage, stall),
                          stalled=rules.is_stalled(s.stage, s.started_on, s.ended_on, today, stall))
              for s in await service.stages_of(session, dispute.id)]
    current = stages[-1] if stages and stages[-1].ended_on is None else None
    draft = dispute.status == DisputeStatus.draft
    return DisputePublic(
        **dispute.model_dump(include={
            "id", "status", "union_id", "representatives", "workers_name", "employer_id", "employer_name",
            "submitted_on", "answer", "answered_on", "conciliation_due", "mediator_id",
            "mediator_name", "mediator_consent_on", "mediator_consent_document", "strike_decision", "court",
            "ended_on", "cause", "region_code", "sector_code", "updated_at", "version"}),
        # A draft has no workers' figure nor answer period until the union puts it forward.
        workers_concerned=None if draft else dispute.workers_concerned,
        answer_due=None if draft else dispute.answer_due,
        from_bargaining=BargainingOrigin.model_validate(dispute.bargaining) if dispute.bargaining else None,
        demands=[Demand.model_validate(d) for d in dispute.demands],
        answer_article=law.answer_period_working_days.article,
        conciliation_article=law.conciliation_period_working_days.article,
        stages=stages,
        current_stage_elapsed_days=current.elapsed_days if current else None,
        stalled=current.stalled if current else False,
        allowed_actions=[a.value for a in rules.allowed_actions(dispute.status)],
    )


@router.post("", status_code=status.HTTP_201_CREATED,
             summary="Demands put to the employer in writing (a union for itself, or staff recording them)")
async def submit(body: DisputeCreate, session: SessionDep, identity: Caller) -> DisputePublic:
    dispute = await service.submit(session, body=body, identity=identity)
    await session.commit()
    return await dispute_view(session, dispute)


@router.get("", summary="Collective disputes: all for staff, those it is a party to for an organisation")
async def list_disputes(session: SessionDep, identity: Caller, status: DisputeStatus | None = None,
                        stalled: Annotated[bool | None, Query(description="Only disputes whose current stage has "
                                                              "(true) or has not (false) outlasted its limit")] = None,
                        cause: DisputeCause | None = None,
                        region_code: Annotated[str | None, Query(pattern=r"^[0-9]{2,9}$")] = None,
                        limit: Limit = 50, offset: Offset = 0) -> DisputePage:
    rows, total = await service.list_disputes(session, identity=identity, status=status, limit=limit,
                                              offset=offset, stalled=stalled, cause=cause, region_code=region_code)
    return DisputePage(items=[await dispute_view(session, d) for d in rows], total=total)


@router.get("/{dispute_id}", summary="One dispute with its stages, deadlines and the actions allowed now")
async def get_dispute(dispute_id: uuid.UUID, session: SessionDep, identity: Caller) -> DisputePublic:
    return await dispute_view(session, await service.require_dispute(session, dispute_id, identity))


@router.post("/{dispute_id}/put-forward", responses=CONFLICT,
             summary="The union puts a draft's demands to the employer in writing (the answer period starts)")
async def put_forward(dispute_id: uuid.UUID, body: PutForwardIn, session: SessionDep,
                      identity: Caller) -> DisputePublic:
    dispute = await service.put_forward(session, dispute_id, body=body, identity=identity)
    await session.commit()
    return await dispute_view(session, dispute)


@router.post("/{dispute_id}/answer", responses=CONFLICT,
             summary="The employer's written answer (art. 163 p. 2: within 3 working days)")
async def answer(dispute_id: uuid.UUID, body: AnswerIn, session: SessionDep, identity: Caller) -> DisputePublic:
    dispute = await service.answer(session, dispute_id, body=body, identity=identity)
    await session.commit()
    return await dispute_view(session, dispute)


@router.post("/{dispute_id}/conciliation", responses=CONFLICT,
             summary="To the conciliation commission (parity; art. 165: 7 working days)")
async def conciliation(dispute_id: uuid.UUID, body: StageChange, session: SessionDep,
                       identity: Caller) -> DisputePublic:
    dispute = await service.start_conciliation(session, dispute_id, body=body, identity=identity)
    await session.commit()
    return await dispute_view(session, dispute)


@router.post("/{dispute_id}/mediation", responses=CONFLICT,
             summary="A mediator takes the dispute, with written consent")
async def mediation(dispute_id: uuid.UUID, body: MediationIn, session: SessionDep, identity: Caller) -> DisputePublic:
    dispute = await service.start_mediation(session, dispute_id, body=body, identity=identity)
    await session.commit()
    return await dispute_view(session, dispute)


@router.post("/{dispute_id}/strike-decision", responses=CONFLICT,
             summary="The employees' decision to strike, recorded with every strike check it fails (art. 176)")
async def strike_decision(dispute_id: uuid.UUID, body: StrikeDecisionIn, session: SessionDep,
                          identity: Caller) -> DisputePublic:
    dispute = await service.decide_strike(session, dispute_id, body=body, identity=identity)
    await session.commit()
    return await dispute_view(session, dispute)


@router.post("/{dispute_id}/ruling/legal", responses=CONFLICT, summary="A court ruled the strike legal")
async def ruled_legal(dispute_id: uuid.UUID, body: RulingIn, session: SessionDep, identity: Caller) -> DisputePublic:
    dispute = await service.rule(session, dispute_id, legal=True, body=body, identity=identity)
    await session.commit()
    return await dispute_view(session, dispute)


@router.post("/{dispute_id}/ruling/illegal", responses=CONFLICT, summary="A court ruled the strike illegal")
async def ruled_illegal(dispute_id: uuid.UUID, body: RulingIn, session: SessionDep,
                        identity: Caller) -> DisputePublic:
    dispute = await service.rule(session, dispute_id, legal=False, body=body, identity=identity)
    await session.commit()
    return await dispute_view(session, dispute)


def _stage_route(path: str, action: DisputeAction, summary: str) -> None:
    async def change(dispute_id: uuid.UUID, body: StageChange, session: SessionDep,
                     identity: Caller) -> DisputePublic:
        dispute = await service.change_stage(session, dispute_id, action, body=body, identity=identity)
        await session.commit()
        return await dispute_view(session, dispute)

    change.__name__ = action.value
    router.add_api_route(f"/{{dispute_id}}/{path}", change, methods=["POST"], responses=CONFLICT, summary=summary,
                         response_model=DisputePublic)


_stage_route("arbitration", DisputeAction.start_arbitration, "To labour arbitration (art. 166)")
_stage_route("strike", DisputeAction.start_strike, "The strike begins (or resumes after a suspension)")
_stage_route("suspension", DisputeAction.suspend_strike, "The strike is suspended")
_stage_route("settlement", DisputeAction.settle, "The dispute is settled (from any open stage)")
_stage_route("withdrawal", DisputeAction.withdraw, "The workers withdraw their demands (from any open stage; a "
             "draft is discarded this way)")
_stage_route("closure", DisputeAction.close, "Staff close the dispute")
