from datetime import date

from fastapi import APIRouter, status

from kernel.db import SessionDep
from services.registry.access import Administrator, actor_of
from services.registry.rulesets import service
from services.registry.rulesets.schemas import RuleSetCreate, RuleSetPublic, RuleSetWrite

router = APIRouter(prefix="/rule-sets", tags=["rule-sets"])


@router.get("", summary="Every rule set, oldest first, each in its latest revision (public)")
async def list_rule_sets(session: SessionDep) -> list[RuleSetPublic]:
    return await service.list_rule_sets(session)


@router.get("/in-force", summary="The rule set in force on a date (public)")
async def rule_set_in_force(session: SessionDep, on: date) -> RuleSetPublic:
    return await service.in_force_on(session, on)


@router.get("/{code}", summary="One rule set: every revision, newest first (public)")
async def rule_set_revisions(code: str, session: SessionDep) -> list[RuleSetPublic]:
    return await service.rule_set_revisions(session, code)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Add a rule set (administrators)")
async def add_rule_set(body: RuleSetCreate, session: SessionDep, identity: Administrator) -> RuleSetPublic:
    await service.add_rule_set(session, rule_set=body, actor=actor_of(identity))
    await session.commit()
    return (await service.rule_set_revisions(session, body.code))[0]


@router.put("/{code}", summary="Correct a rule set: the correction becomes its next revision (administrators)")
async def correct_rule_set(code: str, body: RuleSetWrite, session: SessionDep,
                           identity: Administrator) -> RuleSetPublic:
    await service.correct_rule_set(session, code=code, correction=body, actor=actor_of(identity))
    await session.commit()
    return (await service.rule_set_revisions(session, code))[0]
