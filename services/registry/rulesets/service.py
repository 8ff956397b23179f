"""Rule sets: read the law in force on a date; add or correct a rule set without a code change. Never commits."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.problems import Conflict, FieldError, NotFound, Problem
from services.registry.rulesets.models import RuleSetRevision
from services.registry.rulesets.rules import NoRuleSetInForce, RuleSet, RuleSetBody, in_force
from services.registry.rulesets.schemas import RuleSetCreate, RuleSetPublic, RuleSetWrite


def _as_rule_set(row: RuleSetRevision) -> RuleSet:
    return RuleSet(code=row.code, revision=row.revision, title=row.title, effective_from=row.effective_from,
                   body=RuleSetBody.model_validate(row.body))


async def all_rule_sets(session: AsyncSession) -> list[RuleSet]:
    rows = (await session.execute(select(RuleSetRevision))).scalars().all()
    return [_as_rule_set(r) for r in rows]


async def rule_set_on(session: AsyncSession, on: date, *, pointer: str = "/decided_on") -> RuleSet:
    """The rule set in force on a date, or a problem naming the date when none was."""
    try:
        return in_force(await all_rule_sets(session), on)
    except NoRuleSetInForce as exc:
        raise Problem(422, "no-rule-set", "No rule set in force", str(exc),
                      errors=[FieldError(pointer=pointer, rule="rule_set_in_force", detail=str(exc))]) from None


async def _latest_rows(session: AsyncSession) -> list[RuleSetRevision]:
    latest = (select(RuleSetRevision.code, func.max(RuleSetRevision.revision).label("revision"))
              .group_by(RuleSetRevision.code).subquery())
    query = (select(RuleSetRevision)
             .join(latest, (RuleSetRevision.code == latest.c.code) & (RuleSetRevision.revision == latest.c.revision))
             .order_by(RuleSetRevision.effective_from))
    return list((await session.execute(query)).scalars().all())


def _public(row: RuleSetRevision, following: list[RuleSetRevision]) -> RuleSetPublic:
    later = [r.effective_from for r in following if r.effective_from > row.effective_from]
    effective_to = min(later) - timedelta(days=1) if later else None
    return RuleSetPublic(code=row.code, revision=row.revision, title=row.title, effective_from=row.effective_from,
                         effective_to=effective_to, body=RuleSetBody.model_validate(row.body), reason=row.reason,
                         created_by=row.created_by, created_at=row.created_at)


async def list_rule_sets(session: AsyncSession) -> list[RuleSetPublic]:
    rows = await _latest_rows(session)
    return [_public(r, rows) for r in rows]


async def rule_set_revisions(session: AsyncSession, code: str) -> list[RuleSetPublic]:
    rows = (await session.execute(select(RuleSetRevision).where(RuleSetRevision.code == code)
                                  .order_by(RuleSetRevision.revision.desc()))).scalars().all()
    if not rows:
        raise NotFound("rule set")
    latest = await _latest_rows(session)
    return [_public(r, latest) for r in rows]


async def in_force_on(session: AsyncSession, on: date) -> RuleSetPublic:
    rule_set = await rule_set_on(session, on, pointer="/on")
    return (await rule_set_revisions(session, rule_set.code))[0]


async def _clashing_date(session: AsyncSession, code: str, effective_from: date) -> None:
    for row in await _latest_rows(session):
        if row.code != code and row.effective_from == effective_from:
            raise Conflict(f"Rule set {row.code} already takes effect on {effective_from.isoformat()}; "
                           "two rule sets cannot start on the same day.", rule_set=row.code)


async def add_rule_set(session: AsyncSession, *, rule_set: RuleSetCreate, actor: str) -> RuleSetRevision:
    exists = await session.scalar(select(RuleSetRevision.id).where(RuleSetRevision.code == rule_set.code).limit(1))
    if exists is not None:
        raise Conflict(f"Rule set {rule_set.code} exists; correct it with PUT /rule-sets/{rule_set.code}.")
    await _clashing_date(session, rule_set.code, rule_set.effective_from)
    row = RuleSetRevision(code=rule_set.code, revision=1, title=rule_set.title, effective_from=rule_set.effective_from,
                          body=rule_set.body.model_dump(mode="json"), reason=rule_set.reason, created_by=actor)
    session.add(row)
    return row


async def correct_rule_set(session: AsyncSession, *, code: str, correction: RuleSetWrite,
                           actor: str) -> RuleSetRevision:
    current = await session.scalar(select(func.max(RuleSetRevision.revision)).where(RuleSetRevision.code == code))
    if current is None:
        raise NotFound("rule set")
    await _clashing_date(session, code, correction.effective_from)
    row = RuleSetRevision(code=code, revision=current + 1, title=correction.title,
                          effective_from=correction.effective_from, body=correction.body.model_dump(mode="json"),
                          reason=correction.reason, created_by=actor)
    session.add(row)
    return row
