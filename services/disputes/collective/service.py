"""Collective disputes: validate, change state, record stages and events. Never commits (the route does).

Parties come through `eligible_party` (the registry's projection), so an unknown, lapsed or
liquidated organisation, or one of the wrong kind, is refused by name. Every event names both
parties in its audience.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import and_, exists, func, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from contracts import disputes as contracts
from contracts.bargaining import DisagreementProtocolSigned, OpenClause
from contracts.disputes import Demand
from kernel.calendar import WorkingDayCalendar, checked_day, kazakhstan_now, kazakhstan_today, load_calendar
from kernel.db import is_postgres, utcnow
from kernel.deadlines import Deadline, cancel_deadline, local_day, lock_deadlines_of, meet_deadline, schedule_deadline
from kernel.events import EventData
from kernel.identity import Identity
from kernel.outbox import record_event
from kernel.problems import NotFound, Problem, invalid
from services.disputes.access import STAFF_ACTORS, STAFF_READERS, is_staff
from services.disputes.collective import rules
from services.disputes.collective.models import CollectiveDispute, DisputeStage
from services.disputes.collective.rules import ANSWERS, DisputeAction, DisputeStatus, IllegalTransition
from services.disputes.collective.schemas import (
    AnswerIn,
    DisputeCreate,
    MediationIn,
    PutForwardIn,
    RulingIn,
    StageChange,
    StrikeDecisionIn,
)
from services.disputes.parties.models import Party
from services.disputes.parties.service import eligible_party
from services.disputes.roster.models import RosterAssignment, RosterMember

if TYPE_CHECKING:
    from kernel.app import PlatformState

log = structlog.get_logger(__name__)

SOURCE = "/disputes"
ANSWER = "employer_answer"
CONCILIATION = "conciliation"
FORBIDDEN = ("This action is for the parties to the dispute or staff with the role dispute_officer or "
             "administrator.")





def deadline_key(kind: str, dispute_id: uuid.UUID) -> str:
    return f"{kind}:{dispute_id}"


# --- access and events ---------------------------------------------------------------------

def audience(dispute: CollectiveDispute) -> list[uuid.UUID]:
    """Both parties, and the roster mediator once one took the dispute."""
    return sorted({p for p in (dispute.union_id, dispute.employer_id, dispute.mediator_id) if p is not None}, key=str)


def party_role(identity: Identity, dispute: CollectiveDispute) -> str | None:
    """``workers`` or ``employer`` when the credential speaks for a party of this dispute."""
    if dispute.union_id is not None and identity.acts_for(dispute.union_id):
        return "workers"
    if identity.acts_for(dispute.employer_id):
        return "employer"
    return None


async def require_dispute(session: AsyncSession, dispute_id: uuid.UUID, identity: Identity, *,
                          for_update: bool = False) -> CollectiveDispute:
    """The dispute if the caller may see it; 404, as for a missing id, otherwise."""
    if for_update:
        await lock_deadlines_of(session, dispute_id)  # in the sweeper's order: its deadlines, then the dispute
    dispute = await session.get(CollectiveDispute, dispute_id, with_for_update=for_update,
                                populate_existing=for_update)
    if dispute is None or not (is_staff(identity, *STAFF_READERS) or party_role(identity, dispute)):
        raise NotFound("dispute")
    return dispute


def _require_actor(identity: Identity, dispute: CollectiveDispute, *roles: str) -> None:
    """Staff actors always; a party only when its role is among ``roles``."""
    if is_staff(identity, *STAFF_ACTORS):
        return
    if party_role(identity, dispute) in roles:
        return
    raise Problem(403, "forbidden", "Forbidden", FORBIDDEN)


def _illegal(exc: IllegalTransition) -> Problem:
    return Problem(409, "illegal-transition", "Not allowed in this state", str(exc),
                   status_now=exc.current.value, allowed=[a.value for a in exc.allowed])


def _check(dispute: CollectiveDispute, action: DisputeAction) -> DisputeStatus:
    try:
        return rules.next_status(dispute.status, action)
    except IllegalTransition as exc:
        raise _illegal(exc) from None


async def stages_of(session: AsyncSession, dispute_id: uuid.UUID) -> list[DisputeStage]:
    query = select(DisputeStage).where(DisputeStage.dispute_id == dispute_id).order_by(DisputeStage.number)
    return list((await session.execute(query)).scalars())


async def _transition(session: AsyncSession, dispute: CollectiveDispute, action: DisputeAction, *, on: date,
                      outcome: str | None, actor: str) -> str:
    """Move to the next stage: the current one ends with its outcome, a new one begins. Returns the old status."""
    previous = dispute.status
    dispute.status = _check(dispute, action).value
    stages = await stages_of(session, dispute.id)
    if stages and stages[-1].ended_on is None:
        if on < stages[-1].started_on:
            raise invalid("/on", "not_before", f"the date cannot precede the start of the {stages[-1].stage} stage "
                                               f"({stages[-1].started_on.isoformat()})")
        stages[-1].ended_on, stages[-1].outcome, stages[-1].ended_by = on, outcome, action.value
    if dispute.status not in rules.TERMINAL:
        session.add(DisputeStage(dispute_id=dispute.id, number=len(stages) + 1, stage=dispute.status,
                                 started_on=on, recorded_by=actor))
    dispute.version += 1
    dispute.updated_at = utcnow()
    await session.flush()
    return previous


def _emit(session: AsyncSession, event_class: type[EventData], dispute: CollectiveDispute, /,
          **fields: Any) -> None:
    record_event(session, event_class(audience=audience(dispute), dispute_id=dispute.id, status=dispute.status,
                                      **fields), source=SOURCE)


# --- demands and the employer's answer -----------------------------------------------------

def _law_on(day: date, pointer: str) -> rules.DisputeRules:
    """The dispute rules in force on a day a party gives, or an answer naming the field (not a 500)."""
    try:
        return rules.rules_on(day)
    except LookupError as exc:
        raise invalid(pointer, "rules_in_force", str(exc)) from None


async def submit(session: AsyncSession, *, body: DisputeCreate, identity: Identity) -> CollectiveDispute:
    if (body.union_id is None) == (body.representatives is None):
        raise invalid("/union_id", "one_workers_side", "the demands are put by a union (union_id) or by the "
                                                      "employees' representatives (representatives), one of them")
    if not is_staff(identity, *STAFF_ACTORS):
        if identity.organisation_id is None:
            raise Problem(403, "forbidden", "Forbidden", "Demands are put by a union for itself, or recorded by "
                                                         "staff with the role dispute_officer or administrator.")
        if body.union_id is None or not identity.acts_for(body.union_id):
            raise invalid("/union_id", "own_demands", "an organisation puts demands only for itself")
    employer = await eligible_party(session, body.employer_id, pointer="/employer_id",
                                    kinds=rules.EMPLOYER_KINDS, role="the employer")
    if body.union_id is not None:
        union = await eligible_party(session, body.union_id, pointer="/union_id", kinds=rules.UNION_KINDS,
                                     role="a union")
        workers_name = union.name_ru
    else:
        assert body.representatives is not None
        workers_name = body.representatives[:300]
    submitted_on = checked_day(body.submitted_on, "/submitted_on")
    law = _law_on(submitted_on, "/submitted_on")
    calendar = await load_calendar(session)
    due = rules.answer_due(submitted_on, law, calendar)
    demands = [Demand(number=i, text=d.text) for i, d in enumerate(body.demands, start=1)]
    dispute = CollectiveDispute(
        status=DisputeStatus.demands_submitted.value, union_id=body.union_id, representatives=body.representatives,
        workers_name=workers_name, employer_id=employer.id, employer_name=employer.name_ru,
        workers_concerned=body.workers_concerned, demands=[d.model_dump() for d in demands],
        submitted_on=submitted_on, answer_due=due, rules_code=law.code, cause=body.cause.value,
        region_code=body.region_code or employer.region_code, sector_code=body.sector_code)
    session.add(dispute)
    await session.flush()
    session.add(DisputeStage(dispute_id=dispute.id, number=1, stage=dispute.status, started_on=submitted_on,
                             recorded_by=identity.actor))
    await _start_answer_period(session, dispute, law=law, calendar=calendar)
    _emit(session, contracts.DemandsSubmitted, dispute, on=submitted_on, union_id=dispute.union_id,
          employer_id=dispute.employer_id, workers_concerned=dispute.workers_concerned, demands=demands,
          answer_due=due)
    await session.flush()
    return dispute


async def _start_answer_period(session: AsyncSession, dispute: CollectiveDispute, *, law: rules.DisputeRules,
                               calendar: WorkingDayCalendar) -> None:
    submitted_on, due, employer_id = dispute.submitted_on, dispute.answer_due, dispute.employer_id
    await schedule_deadline(
        session, key=deadline_key(ANSWER, dispute.id), kind=ANSWER, subject_id=dispute.id, due_on=due,
        approaching_on=rules.reminder_on(submitted_on, due, law.answer_notice_working_days.value, calendar),
        audience=audience(dispute), article=law.answer_period_working_days.article,
        details={"rules": law.code, "employer_id": str(employer_id)})


async def answer(session: AsyncSession, dispute_id: uuid.UUID, *, body: AnswerIn,
                 identity: Identity) -> CollectiveDispute:
    dispute = await require_dispute(session, dispute_id, identity, for_update=True)
    _require_actor(identity, dispute, "employer")
    answered_on = checked_day(body.answered_on, "/answered_on", not_before=dispute.submitted_on, what="the demands")
    previous = await _transition(session, dispute, ANSWERS[body.answer], on=answered_on, outcome=body.text,
                                 actor=identity.actor)
    dispute.answer, dispute.answered_on = body.answer.value, answered_on
    await meet_deadline(session, deadline_key(ANSWER, dispute.id))
    _emit(session, contracts.EmployerAnswered, dispute, previous_status=previous, on=answered_on,
          outcome=body.text, answer=body.answer, late=answered_on > dispute.answer_due)
    return dispute


async def on_deadline_missed(session: AsyncSession, deadline: Deadline) -> None:
    """The answer period ran out: the dispute is answer_overdue (in the sweeper's transaction, hence once)."""
    if deadline.kind != ANSWER:
        return
    dispute = await session.get(CollectiveDispute, uuid.UUID(deadline.subject_id), with_for_update=True)
    if dispute is None or dispute.status != DisputeStatus.demands_submitted:
        return
    # The period's last day was still an answer day; the dispute is overdue from the day after.
    overdue_on = dispute.answer_due + timedelta(days=1)
    previous = await _transition(session, dispute, DisputeAction.record_overdue, on=overdue_on,
                                 outcome="no written answer within the period", actor="system:deadline-sweeper")
    _emit(session, contracts.AnswerOverdue, dispute, previous_status=previous, on=overdue_on,
          outcome="no written answer within the period", answer_due=dispute.answer_due)


# --- the stages after the answer -----------------------------------------------------------

async def start_conciliation(session: AsyncSession, dispute_id: uuid.UUID, *, body: StageChange,
                             identity: Identity) -> CollectiveDispute:
    dispute = await require_dispute(session, dispute_id, identity, for_update=True)
    _require_actor(identity, dispute, "workers", "employer")
    on = checked_day(body.on, "/on", not_before=dispute.submitted_on, what="the demands")
    previous = await _transition(session, dispute, DisputeAction.start_conciliation, on=on, outcome=body.outcome,
                                 actor=identity.actor)
    law = rules.rules_on(dispute.submitted_on)
    calendar = await load_calendar(session)
    due = rules.conciliation_due(on, law, calendar)
    dispute.conciliation_due = due
    await schedule_deadline(
        session, key=deadline_key(CONCILIATION, dispute.id), kind=CONCILIATION, subject_id=dispute.id, due_on=due,
        approaching_on=rules.reminder_on(on, due, law.conciliation_notice_working_days.value, calendar),
        audience=audience(dispute), article=law.conciliation_period_working_days.article,
        details={"rules": law.code})
    _emit(session, contracts.ConciliationStarted, dispute, previous_status=previous, on=on, outcome=body.outcome,
          conciliation_due=due)
    return dispute


async def _leave_conciliation(session: AsyncSession, dispute: CollectiveDispute, previous: str) -> None:
    # The commission's period is over for this dispute once it moves on (it considered it, or failed).
    if previous == DisputeStatus.conciliation:
        await meet_deadline(session, deadline_key(CONCILIATION, dispute.id))


async def start_mediation(session: AsyncSession, dispute_id: uuid.UUID, *, body: MediationIn,
                          identity: Identity) -> CollectiveDispute:
    dispute = await require_dispute(session, dispute_id, identity, for_update=True)
    _require_actor(identity, dispute, "workers", "employer")
    on = checked_day(body.on, "/on", not_before=dispute.submitted_on, what="the demands")
    if body.mediator_id is not None:
        member, consent = await _consented_mediator(session, dispute, body.mediator_id)
        name, consent_on = member.name, consent.consent_on
        document = body.consent_document or consent.consent_document
    elif body.mediator_name is None or body.consent_on is None:
        raise invalid("/mediator_id", "mediator_named", "name a roster mediator (mediator_id), or a mediator from "
                                                        "outside the roster (mediator_name with consent_on)")
    else:
        name, consent_on, document = body.mediator_name, body.consent_on, body.consent_document
    assert consent_on is not None
    if consent_on > on:
        raise invalid("/consent_on", "consent_first", "the mediator consents in writing before taking the dispute")
    previous = await _transition(session, dispute, DisputeAction.start_mediation, on=on, outcome=body.outcome,
                                 actor=identity.actor)
    await _leave_conciliation(session, dispute, previous)
    dispute.mediator_name, dispute.mediator_consent_on = name, consent_on
    dispute.mediator_consent_document, dispute.mediator_id = document, body.mediator_id
    _emit(session, contracts.MediationStarted, dispute, previous_status=previous, on=on, outcome=body.outcome,
          mediator_name=name, consent_on=consent_on, mediator_id=body.mediator_id)
    return dispute


async def _consented_mediator(session: AsyncSession, dispute: CollectiveDispute,
                              member_id: uuid.UUID) -> tuple[RosterMember, RosterAssignment]:
    """The roster mediator assigned to this dispute who consented in writing; a problem naming the rule otherwise."""
    assignment = (await session.execute(select(RosterAssignment).where(
        RosterAssignment.dispute_id == dispute.id, RosterAssignment.member_id == member_id,
        RosterAssignment.kind == "mediator"))).scalar_one_or_none()
    if assignment is None:
        raise invalid("/mediator_id", "assigned_to_dispute", "this roster mediator is not assigned to the dispute")
    if assignment.consent_on is None:
        raise invalid("/mediator_id", "written_consent", "the mediator's written consent is not recorded yet")
    member = await session.get(RosterMember, member_id)
    assert member is not None
    return member, assignment


async def decide_strike(session: AsyncSession, dispute_id: uuid.UUID, *, body: StrikeDecisionIn,
                        identity: Identity) -> CollectiveDispute:
    """Record the strike decision with every check it fails: the checks warn, they do not stop the union."""
    dispute = await require_dispute(session, dispute_id, identity, for_update=True)
    _require_actor(identity, dispute, "workers")
    on = checked_day(body.on, "/on", not_before=dispute.submitted_on, what="the demands")
    try:
        law = rules.strike_rules_on(on)
    except LookupError as exc:
        raise invalid("/on", "rules_in_force", str(exc)) from None
    for pointer, codes, listed in (("/categories", body.categories, law.prohibited_categories),
                                   ("/sectors", body.sectors, law.restricted_sectors)):
        unknown = rules.unknown_codes(codes, listed)
        if unknown:
            raise invalid(pointer, "known_code", f"unknown code(s): {', '.join(unknown)}; known: "
                                                 f"{', '.join(item.code for item in listed)}")
    problem = rules.vote_problem(body.meeting)
    if problem:
        raise invalid(*problem)
    if body.strike_starts_on is not None and body.strike_starts_on < on:
        raise invalid("/strike_starts_on", "not_before", "a strike begins on or after the day it is decided")
    warnings = rules.strike_warnings(law, categories=body.categories, sectors=body.sectors, vote=body.meeting,
                                     decided_on=on, strike_starts_on=body.strike_starts_on,
                                     calendar=await load_calendar(session))
    previous = await _transition(session, dispute, DisputeAction.decide_strike, on=on, outcome=body.outcome,
                                 actor=identity.actor)
    await _leave_conciliation(session, dispute, previous)
    dispute.strike_decision = {
        "decided_on": on.isoformat(), "meeting": body.meeting.model_dump(),
        "strike_starts_on": body.strike_starts_on.isoformat() if body.strike_starts_on else None,
        "categories": body.categories, "sectors": body.sectors, "rules": law.code,
        "warnings": [w.model_dump() for w in warnings]}
    _emit(session, contracts.StrikeDecided, dispute, previous_status=previous, on=on, outcome=body.outcome,
          strike_starts_on=body.strike_starts_on, warnings=warnings)
    return dispute


async def rule(session: AsyncSession, dispute_id: uuid.UUID, *, legal: bool, body: RulingIn,
               identity: Identity) -> CollectiveDispute:
    """A court's ruling on the strike, recorded by staff (the parties learn of it from the court)."""
    dispute = await require_dispute(session, dispute_id, identity, for_update=True)
    _require_actor(identity, dispute)
    on = checked_day(body.on, "/on", not_before=dispute.submitted_on, what="the demands")
    action = DisputeAction.rule_legal if legal else DisputeAction.rule_illegal
    previous = await _transition(session, dispute, action, on=on, outcome=body.outcome, actor=identity.actor)
    dispute.court = body.court
    _emit(session, contracts.StrikeRuled, dispute, previous_status=previous, on=on, outcome=body.outcome,
          legal=legal, court=body.court)
    return dispute


# Stage changes with nothing but a date and an outcome: the event, and who among the parties may record it.
SIMPLE: dict[DisputeAction, tuple[type[EventData], tuple[str, ...]]] = {
    DisputeAction.start_arbitration: (contracts.ArbitrationStarted, ("workers", "employer")),
    DisputeAction.start_strike: (contracts.StrikeStarted, ("workers",)),
    DisputeAction.suspend_strike: (contracts.StrikeSuspended, ("workers",)),
    DisputeAction.settle: (contracts.DisputeSettled, ("workers", "employer")),
    DisputeAction.withdraw: (contracts.DisputeWithdrawn, ("workers",)),
    DisputeAction.close: (contracts.DisputeClosed, ()),
}


async def change_stage(session: AsyncSession, dispute_id: uuid.UUID, action: DisputeAction, *, body: StageChange,
                       identity: Identity) -> CollectiveDispute:
    event_class, party_roles = SIMPLE[action]
    dispute = await require_dispute(session, dispute_id, identity, for_update=True)
    _require_actor(identity, dispute, *party_roles)
    on = checked_day(body.on, "/on", not_before=dispute.submitted_on, what="the demands")
    previous = await _transition(session, dispute, action, on=on, outcome=body.outcome, actor=identity.actor)
    await _leave_conciliation(session, dispute, previous)
    if dispute.status in rules.TERMINAL:
        dispute.ended_on = on
        # Whatever period was still running no longer applies once the dispute has ended.
        for kind in (ANSWER, CONCILIATION):
            await cancel_deadline(session, deadline_key(kind, dispute.id))
    _emit(session, event_class, dispute, previous_status=previous, on=on, outcome=body.outcome)
    return dispute


# --- a draft from a bargaining disagreement ------------------------------------------------

async def open_draft(session: AsyncSession, protocol: DisagreementProtocolSigned) -> CollectiveDispute | None:
    """A protocol of disagreements opens a draft dispute between the union and the employer it concerns.

    Applied once per protocol (the inbox has the event id; the protocol id is unique as well, so the
    same protocol arriving under another event id opens nothing new). The workers' side is the
    union among the protocol's parties and the employer its employer, both from the registry
    projection: a protocol without exactly one employer and a union among them (a sectoral or
    general agreement) is no collective labour dispute with an employer and opens nothing.
    """
    known = (await session.execute(select(CollectiveDispute.id).where(
        CollectiveDispute.bargaining_protocol_id == protocol.protocol_id))).first()
    if known is not None:
        return None
    parties = list((await session.execute(select(Party).where(Party.id.in_(protocol.audience)))).scalars())
    employers = [p for p in parties if p.kind in rules.EMPLOYER_KINDS]
    # Several unions forming one joint body: the first by name speaks for the draft (any may be staff-corrected).
    unions = sorted((p for p in parties if p.kind in rules.UNION_KINDS), key=lambda p: (p.name_ru, str(p.id)))
    if len(employers) != 1 or not unions:
        log.info("disagreement protocol opens no draft dispute", protocol_id=str(protocol.protocol_id),
                 employers=len(employers), unions=len(unions))
        return None
    employer, union = employers[0], unions[0]
    demands = [Demand(number=i, text=rules.draft_demand_text(clause.number, clause.title, _workers_text(clause)))
               for i, clause in enumerate(protocol.clauses, start=1)]
    clauses = [contracts.DraftClause(clause_id=c.clause_id, number=c.number, category=c.category.value,
                                     title=c.title,
                                     positions=[contracts.DraftPosition(side=p.side.value, text=p.text)
                                                for p in c.positions])
               for c in protocol.clauses]
    opened_on = protocol.signed_on
    dispute = CollectiveDispute(
        status=DisputeStatus.draft.value, union_id=union.id, workers_name=union.name_ru, employer_id=employer.id,
        employer_name=employer.name_ru, workers_concerned=0, demands=[d.model_dump() for d in demands],
        # Until it is put forward the draft has no answer period: both dates hold the day it was opened.
        submitted_on=opened_on, answer_due=opened_on, rules_code=rules.rules_on(opened_on).code,
        cause=rules.DisputeCause.collective_agreement.value, region_code=employer.region_code,
        bargaining={"negotiation_id": str(protocol.negotiation_id), "protocol_id": str(protocol.protocol_id),
                    "signed_on": opened_on.isoformat(), "clauses": [c.model_dump(mode="json") for c in clauses]},
        bargaining_protocol_id=protocol.protocol_id)
    session.add(dispute)
    await session.flush()
    session.add(DisputeStage(dispute_id=dispute.id, number=1, stage=dispute.status, started_on=opened_on,
                             recorded_by="system:bargaining"))
    _emit(session, contracts.DraftOpened, dispute, on=opened_on, union_id=union.id, employer_id=employer.id,
          negotiation_id=protocol.negotiation_id, protocol_id=protocol.protocol_id, demands=demands,
          clauses=clauses)
    await session.flush()
    return dispute


def _workers_text(clause: OpenClause) -> str | None:
    return next((p.text for p in clause.positions if p.side.value == "workers" and p.text), None)


async def put_forward(session: AsyncSession, dispute_id: uuid.UUID, *, body: PutForwardIn,
                      identity: Identity) -> CollectiveDispute:
    """The union puts the draft's demands to the employer in writing: the answer period (art. 163 p. 2) starts."""
    dispute = await require_dispute(session, dispute_id, identity, for_update=True)
    _require_actor(identity, dispute, "workers")
    stages = await stages_of(session, dispute.id)
    submitted_on = checked_day(body.submitted_on, "/submitted_on", not_before=stages[0].started_on,
                               what="the draft")
    law = _law_on(submitted_on, "/submitted_on")
    previous = await _transition(session, dispute, DisputeAction.put_forward, on=submitted_on, outcome=None,
                                 actor=identity.actor)
    if body.demands is not None:
        demands = [Demand(number=i, text=d.text) for i, d in enumerate(body.demands, start=1)]
    else:
        demands = [Demand.model_validate(d) for d in dispute.demands]
    calendar = await load_calendar(session)
    dispute.demands = [d.model_dump() for d in demands]
    dispute.workers_concerned, dispute.submitted_on, dispute.rules_code = body.workers_concerned, submitted_on, law.code
    dispute.answer_due = rules.answer_due(submitted_on, law, calendar)
    if body.cause is not None:
        dispute.cause = body.cause.value
    if body.sector_code is not None:
        dispute.sector_code = body.sector_code
    await _start_answer_period(session, dispute, law=law, calendar=calendar)
    _emit(session, contracts.DemandsSubmitted, dispute, previous_status=previous, on=submitted_on,
          union_id=dispute.union_id, employer_id=dispute.employer_id, workers_concerned=dispute.workers_concerned,
          demands=demands, answer_due=dispute.answer_due)
    return dispute


# --- stages that drag on -------------------------------------------------------------------

async def open_stage_of(session: AsyncSession, dispute_id: uuid.UUID) -> DisputeStage | None:
    query = select(DisputeStage).where(DisputeStage.dispute_id == dispute_id,
                                       DisputeStage.ended_on.is_(None))  # type: ignore[union-attr]
    return (await session.execute(query)).scalars().first()


def stalled_condition(today: date) -> Any:
    """SQL: the dispute's open stage has lasted longer than its limit on ``today`` (the limits in force today)."""
    law = rules.stall_rules_on(today)
    per_stage = [and_(DisputeStage.stage == stage.value,
                      DisputeStage.started_on < today - timedelta(days=limit))  # type: ignore[operator]
                 for stage, limit in law.limits_days.items()]
    return exists().where(DisputeStage.dispute_id == CollectiveDispute.id,
                          DisputeStage.ended_on.is_(None), or_(*per_stage))  # type: ignore[union-attr]


async def stalled_stage_ids(session: AsyncSession, today: date, *, limit: int = 200,
                            after: tuple[date, uuid.UUID] | None = None) -> list[tuple[date, uuid.UUID]]:
    """Open stages past their limit whose stalled event has not gone out, as (started_on, id), oldest first;
    with ``after``, those following that (started_on, id) only (the next page)."""
    law = rules.stall_rules_on(today)
    query = (select(DisputeStage.started_on, DisputeStage.id)
             .where(DisputeStage.ended_on.is_(None), DisputeStage.stalled_event_at.is_(None),  # type: ignore[union-attr]
                    or_(*[and_(DisputeStage.stage == stage.value,
                               DisputeStage.started_on < today - timedelta(days=days))  # type: ignore[operator]
                          for stage, days in law.limits_days.items()]))
             .order_by(DisputeStage.started_on, DisputeStage.id).limit(limit))
    if after is not None:
        query = query.where(or_(DisputeStage.started_on > after[0],  # type: ignore[operator]
                                and_(DisputeStage.started_on == after[0], DisputeStage.id > after[1])))  # type: ignore[operator]
    return [(started_on, stage_id) for started_on, stage_id in (await session.execute(query)).all()]


async def announce_stalled(session: AsyncSession, stage_id: uuid.UUID, today: date, *, skip_locked: bool) -> bool:
    """In one transaction (the caller's): re-check the stage under a lock, claim the mark, record the event.

    The mark and the event commit together, so the event goes out once per stage, also with
    several replicas sweeping (PostgreSQL: the row is claimed with SKIP LOCKED). The mark is claimed
    first, only if the stage is still open and unmarked: row locks alone do not guarantee it, since a
    watcher in another process over the same SQLite file reads without any lock; whoever lost that
    race claims nothing and emits nothing.
    """
    query = select(DisputeStage).where(DisputeStage.id == stage_id).with_for_update(skip_locked=skip_locked)
    stage = (await session.execute(query.execution_options(populate_existing=True))).scalar_one_or_none()
    law = rules.stall_rules_on(today)
    if stage is None or stage.stalled_event_at is not None or not rules.is_stalled(
            stage.stage, stage.started_on, stage.ended_on, today, law):
        return False
    dispute = await session.get(CollectiveDispute, stage.dispute_id)
    assert dispute is not None
    limit = rules.stage_limit(stage.stage, law)
    assert limit is not None
    marked_at = utcnow()
    table = DisputeStage.__table__  # type: ignore[attr-defined]
    claimed = await session.execute(update(table).where(
        table.c.id == stage.id, table.c.stalled_event_at.is_(None), table.c.ended_on.is_(None)).values(
        stalled_event_at=marked_at))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    set_committed_value(stage, "stalled_event_at", marked_at)  # what the row now holds; nothing left to flush
    _emit(session, contracts.DisputeStalled, dispute, on=today, stage=stage.stage, stage_number=stage.number,
          started_on=stage.started_on, limit_days=limit)
    return True


class StallWatcher:
    """Emits DisputeStalled once per stage that outlasts its limit (a background task of the service).

    It reads "today" from the deadline sweeper's clock, so tests that move that clock move this too.
    """

    __name__ = "stall-watcher"

    def __init__(self, *, page_size: int = 200) -> None:
        self.page_size = page_size

    async def __call__(self, state: PlatformState) -> None:
        settings = state.settings
        skip_locked = is_postgres(settings.database_url)
        while True:
            try:
                await self.sweep(state, skip_locked=skip_locked)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("stall sweep failed")
            await asyncio.sleep(settings.deadline_sweep_seconds)

    async def sweep(self, state: PlatformState, *, skip_locked: bool) -> int:
        spec = state.definition.deadlines
        today = local_day(spec.clock() if spec is not None else kazakhstan_now())
        announced = 0
        after: tuple[date, uuid.UUID] | None = None
        while True:  # page by page (oldest first), so that no stage waits behind the first page
            async with state.sessionmaker() as session:
                candidates = await stalled_stage_ids(session, today, limit=self.page_size, after=after)
            for _, stage_id in candidates:
                try:
                    async with state.sessionmaker() as session:
                        if await announce_stalled(session, stage_id, today, skip_locked=skip_locked):
                            await session.commit()
                            announced += 1
                        else:
                            await session.rollback()
                except asyncio.CancelledError:
                    raise
                except Exception:  # one stage that fails does not keep the others back; the next pass retries it
                    log.exception("stalled event failed", stage_id=str(stage_id))
            if len(candidates) < self.page_size:
                return announced
            after = candidates[-1]


# --- listing -------------------------------------------------------------------------------

async def list_disputes(session: AsyncSession, *, identity: Identity, status: str | None, limit: int,
                        offset: int, stalled: bool | None = None, cause: str | None = None,
                        region_code: str | None = None) -> tuple[list[CollectiveDispute], int]:
    query = select(CollectiveDispute)
    if not is_staff(identity, *STAFF_READERS):
        if identity.organisation_id is None:
            return [], 0
        own = uuid.UUID(identity.organisation_id)
        query = query.where(or_(CollectiveDispute.union_id == own, CollectiveDispute.employer_id == own))
    if status is not None:
        query = query.where(CollectiveDispute.status == status)
    if cause is not None:
        query = query.where(CollectiveDispute.cause == cause)
    if region_code is not None:
        query = query.where(CollectiveDispute.region_code == region_code)
    if stalled is not None:
        condition = stalled_condition(kazakhstan_today())
        query = query.where(condition if stalled else not_(condition))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = (await session.execute(query.order_by(CollectiveDispute.submitted_on.desc(),  # type: ignore[attr-defined]
                                                 CollectiveDispute.id).limit(limit).offset(offset))).scalars()
    return list(rows), int(total or 0)
