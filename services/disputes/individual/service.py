"""Individual labour disputes: validate, change state, schedule deadlines, record events. Never commits.

The application is before the employer's own conciliation commission (art. 159), so the
employer registers and decides it; the employee's union (when named) may file it for its
member and take it to court; staff may do everything. The employee's name is personal data:
it is stored and shown to those three, and no event carries it; every read of the record (one
application, or a listing, which shows the name) and every decision is written to
``individual_dispute_access`` in the same transaction.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import disputes as contracts
from kernel.calendar import WorkingDayCalendar, checked_day, load_calendar
from kernel.db import utcnow
from kernel.deadlines import Deadline, cancel_deadline, lock_deadlines_of, meet_deadline, schedule_deadline
from kernel.events import EventData
from kernel.identity import Identity
from kernel.outbox import record_event
from kernel.problems import NotFound, Problem, invalid
from services.disputes.access import STAFF_ACTORS, STAFF_READERS, is_staff
from services.disputes.collective.rules import EMPLOYER_KINDS, UNION_KINDS
from services.disputes.individual import rules
from services.disputes.individual.models import IndividualDispute, IndividualDisputeAccess
from services.disputes.individual.rules import IllegalTransition, IndividualAction, IndividualStatus, Suspension
from services.disputes.individual.schemas import (
    CopiesIn,
    CourtReferralIn,
    DecisionIn,
    ExecutionIn,
    IndividualCreate,
    PreCheckIn,
    PreCheckPublic,
    WithdrawalIn,
)
from services.disputes.parties.service import eligible_party

SOURCE = "/disputes"
DECISION = "individual_decision"
COPIES = "individual_copies"
EXECUTION = "individual_execution"
KINDS = (DECISION, COPIES, EXECUTION)
SWEEPER = "system:deadline-sweeper"
ACCESS_LOG_FORBIDDEN = "The access log is for staff with the role dispute_officer or administrator."
FORBIDDEN = ("This action is for the employer (its conciliation commission), the employee's union where the "
             "action is the employee's, or staff with the role dispute_officer or administrator.")


def deadline_key(kind: str, dispute_id: uuid.UUID) -> str:
    return f"{kind}:{dispute_id}"


def audience(dispute: IndividualDispute) -> list[uuid.UUID]:
    return sorted({p for p in (dispute.employer_id, dispute.union_id) if p is not None}, key=str)


def audit(session: AsyncSession, dispute: IndividualDispute, identity: Identity | str, action: str,
          **detail: Any) -> None:
    actor = identity if isinstance(identity, str) else identity.actor
    if isinstance(identity, Identity) and identity.organisation_id is not None:
        # ``actor`` names an organisation's credential by the organisation alone; it holds several (its system's
        # key, its portal client ...), and the log must tell which one read the employee's name and claim.
        detail = {**detail, "credential": f"{identity.kind}:{identity.subject}"}
    session.add(IndividualDisputeAccess(individual_dispute_id=dispute.id, actor=actor, action=action, detail=detail))


def party_role(identity: Identity, dispute: IndividualDispute) -> str | None:
    if identity.acts_for(dispute.employer_id):
        return "employer"
    if dispute.union_id is not None and identity.acts_for(dispute.union_id):
        return "union"
    return None


async def require_dispute(session: AsyncSession, dispute_id: uuid.UUID, identity: Identity, *,
                          for_update: bool = False) -> IndividualDispute:
    """The application if the caller may see it; 404, as for a missing id, otherwise."""
    if for_update:
        await lock_deadlines_of(session, dispute_id)  # in the sweeper's order: its deadlines, then the application
    dispute = await session.get(IndividualDispute, dispute_id, with_for_update=for_update,
                                populate_existing=for_update)
    if dispute is None or not (is_staff(identity, *STAFF_READERS) or party_role(identity, dispute)):
        raise NotFound("individual dispute")
    return dispute


async def read(session: AsyncSession, dispute_id: uuid.UUID, identity: Identity) -> IndividualDispute:
    """The application for the caller who may see it; the read is audited."""
    dispute = await require_dispute(session, dispute_id, identity)
    audit(session, dispute, identity, "read")
    return dispute


def _require_actor(identity: Identity, dispute: IndividualDispute, *roles: str) -> None:
    if is_staff(identity, *STAFF_ACTORS) or party_role(identity, dispute) in roles:
        return
    raise Problem(403, "forbidden", "Forbidden", FORBIDDEN)


def _move(dispute: IndividualDispute, action: IndividualAction) -> str:
    previous = dispute.status
    try:
        dispute.status = rules.next_status(dispute.status, action).value
    except IllegalTransition as exc:
        raise Problem(409, "illegal-transition", "Not allowed in this state", str(exc),
                      status_now=exc.current.value, allowed=[a.value for a in exc.allowed]) from None
    dispute.version += 1
    dispute.updated_at = utcnow()
    return previous


def _emit(session: AsyncSession, event_class: type[EventData], dispute: IndividualDispute, /, *, on: date,
          **fields: Any) -> None:
    record_event(session, event_class(audience=audience(dispute), individual_dispute_id=dispute.id,
                                      employer_id=dispute.employer_id, status=dispute.status, on=on, **fields),
                 source=SOURCE)


# --- the art. 160 check ----------------------------------------------------------------------

def _suspensions(law: rules.IndividualRules, body: PreCheckIn | IndividualCreate, filed_on: date) -> list[Suspension]:
    found: list[Suspension] = []
    for i, s in enumerate(body.suspensions):
        if law.ground(s.ground) is None:
            raise invalid(f"/suspensions/{i}/ground", "known_code", f"unknown ground {s.ground!r}; known: "
                          f"{', '.join(g.code for g in law.suspension_grounds)}")
        if s.until is not None and s.until < s.since:
            raise invalid(f"/suspensions/{i}/until", "not_before", "a suspension cannot end before it begins")
        if s.since > filed_on:
            raise invalid(f"/suspensions/{i}/since", "not_after_filing", "a suspension after the filing does not "
                                                                        "count")
        found.append(Suspension(ground=s.ground, since=s.since, until=s.until))
    return found


def _start_of_period(law: rules.IndividualRules, body: PreCheckIn | IndividualCreate, step: str,
                     filed_on: date) -> tuple[date, str]:
    """The day the art. 160 period runs from, and the field it came from."""
    subject = law.subject(body.subject)
    if subject is None:
        raise invalid("/subject", "known_code", f"unknown subject {body.subject!r}; known: "
                                                f"{', '.join(s.code for s in law.subjects)}")
    if step == "court":
        assert isinstance(body, PreCheckIn)
        pointer, day = "/commission_decision_on", body.commission_decision_on
        need = "the day the copy of the commission's decision was handed over"
    elif subject.time_limit == "reinstatement":
        pointer, day, need = "/dismissal_act_on", body.dismissal_act_on, ("the day the copy of the act ending the "
                                                                          "contract was handed over")
    else:
        pointer, day, need = "/violation_known_on", body.violation_known_on, ("the day the employee learned of the "
                                                                              "violation")
    if day is None:
        raise invalid(pointer, "required", f"give {need}")
    if day > filed_on:
        raise invalid(pointer, "not_after_filing", "the period cannot start after the filing")
    return day, pointer


def evaluate(law: rules.IndividualRules, body: PreCheckIn | IndividualCreate, *, step: str, filed_on: date,
             calendar: WorkingDayCalendar) -> PreCheckPublic:
    starts_on, pointer = _start_of_period(law, body, step, filed_on)
    suspensions = _suspensions(law, body, filed_on)
    unknown = rules.unknown(body.exemptions, (e.code for e in law.exemptions))
    if unknown:
        raise invalid("/exemptions", "known_code", f"unknown exemption(s) {', '.join(unknown)}; known: "
                                                   f"{', '.join(e.code for e in law.exemptions)}")
    try:
        check = rules.time_limit_check(law, subject=body.subject, step=step,  # type: ignore[arg-type]
                                       starts_on=starts_on, filed_on=filed_on, suspensions=suspensions,
                                       calendar=calendar)
    except ValueError as exc:  # a day outside the calendar's years
        raise invalid(pointer, "calendar_range", str(exc)) from None
    exemptions = rules.exemption_checks(law, body.exemptions, employees=body.employees)
    return PreCheckPublic(time_limit=check, commission_mandatory=rules.commission_mandatory(exemptions),
                          exemptions=exemptions, rules=law.code)


def law_on(filed_on: date) -> rules.IndividualRules:
    try:
        return rules.rules_on(filed_on)
    except LookupError as exc:
        raise invalid("/filed_on", "rules_in_force", str(exc)) from None


async def pre_check(session: AsyncSession, *, body: PreCheckIn) -> PreCheckPublic:
    filed_on = checked_day(body.filed_on, "/filed_on")
    return evaluate(law_on(filed_on), body, step=body.step, filed_on=filed_on,
                    calendar=await load_calendar(session))


# --- filing and the commission's decision ------------------------------------------------------

async def file(session: AsyncSession, *, body: IndividualCreate, identity: Identity) -> IndividualDispute:
    if not is_staff(identity, *STAFF_ACTORS):
        if identity.organisation_id is None:
            raise Problem(403, "forbidden", "Forbidden", "An application is registered by the employer's "
                          "commission, filed by the employee's union, or recorded by staff with the role "
                          "dispute_officer or administrator.")
        if not (identity.acts_for(body.employer_id) or (body.union_id and identity.acts_for(body.union_id))):
            raise invalid("/employer_id", "own_application", "an organisation registers applications to its own "
                                                             "commission, or files them as the employee's union")
    employer = await eligible_party(session, body.employer_id, pointer="/employer_id", kinds=EMPLOYER_KINDS,
                                    role="the employer")
    if body.union_id is not None:
        await eligible_party(session, body.union_id, pointer="/union_id", kinds=UNION_KINDS, role="a union")
    filed_on = checked_day(body.filed_on, "/filed_on")
    law = law_on(filed_on)
    calendar = await load_calendar(session)
    checked = evaluate(law, body, step="commission", filed_on=filed_on, calendar=calendar)
    due = rules.decision_due(filed_on, law, calendar)
    dispute = IndividualDispute(
        status=IndividualStatus.registered.value, employer_id=employer.id, employer_name=employer.name_ru,
        union_id=body.union_id, employee_name=body.employee_name, employee_position=body.employee_position,
        subject=body.subject, claim=body.claim, filed_on=filed_on, dismissal_act_on=body.dismissal_act_on,
        violation_known_on=body.violation_known_on,
        suspensions=[s.model_dump(mode="json") for s in body.suspensions], exemptions=list(body.exemptions),
        time_limit=checked.model_dump(mode="json"), rules_code=law.code, decision_due=due,
        created_by=identity.actor)
    session.add(dispute)
    await session.flush()
    audit(session, dispute, identity, "filed")
    await schedule_deadline(
        session, key=deadline_key(DECISION, dispute.id), kind=DECISION, subject_id=dispute.id, due_on=due,
        approaching_on=rules.reminder_on(filed_on, due, law.decision_notice_working_days.value, calendar),
        audience=audience(dispute), article=law.decision_period_working_days.article, details={"rules": law.code})
    _emit(session, contracts.IndividualDisputeFiled, dispute, on=filed_on, union_id=dispute.union_id,
          subject_matter=dispute.subject, decision_due=due, in_time=checked.time_limit.in_time)
    await session.flush()
    return dispute


async def decide(session: AsyncSession, dispute_id: uuid.UUID, *, body: DecisionIn,
                 identity: Identity) -> IndividualDispute:
    dispute = await require_dispute(session, dispute_id, identity, for_update=True)
    _require_actor(identity, dispute, "employer")
    decided_on = checked_day(body.decided_on, "/decided_on", not_before=dispute.filed_on, what="the filing")
    law = rules.rules_on(dispute.filed_on)
    if rules.needs_execution_day(body.outcome):
        if body.execution_due is None:
            raise invalid("/execution_due", "required", "a decision upholding the claim sets the day by which it "
                                                       "is carried out")
        latest = rules.latest_execution_day(decided_on, law)
        if not decided_on <= body.execution_due <= latest:
            raise invalid("/execution_due", "at_most_one_month",
                          f"the decision is carried out within the time it sets, at most one month: between "
                          f"{decided_on.isoformat()} and {latest.isoformat()} ({law.execution_max_months.article})")
    elif body.execution_due is not None:
        raise invalid("/execution_due", "not_for_rejection", "a rejected claim has nothing to carry out")
    _move(dispute, IndividualAction.decide)
    calendar = await load_calendar(session)
    dispute.outcome, dispute.decision, dispute.decided_on = body.outcome.value, body.decision, decided_on
    dispute.copies_due = rules.copies_due(decided_on, law, calendar)
    dispute.execution_due = body.execution_due
    # Met also when decided after the period ran out: a late decision is a fact worth keeping.
    await meet_deadline(session, deadline_key(DECISION, dispute.id))
    await schedule_deadline(
        session, key=deadline_key(COPIES, dispute.id), kind=COPIES, subject_id=dispute.id, due_on=dispute.copies_due,
        # A period of a few days: the reminder goes out on its last day.
        approaching_on=dispute.copies_due, audience=audience(dispute), article=law.copies_period.article,
        details={"rules": law.code})
    if dispute.execution_due is not None:
        await schedule_deadline(
            session, key=deadline_key(EXECUTION, dispute.id), kind=EXECUTION, subject_id=dispute.id,
            due_on=dispute.execution_due,
            approaching_on=rules.reminder_on(decided_on, dispute.execution_due,
                                             law.execution_notice_working_days.value, calendar),
            audience=audience(dispute), article=law.execution_max_months.article, details={"rules": law.code})
    audit(session, dispute, identity, "decided", outcome=body.outcome.value)
    _emit(session, contracts.IndividualDisputeDecided, dispute, on=decided_on, outcome=body.outcome,
          late=decided_on > dispute.decision_due, copies_due=dispute.copies_due, execution_due=dispute.execution_due)
    return dispute


async def record_copies(session: AsyncSession, dispute_id: uuid.UUID, *, body: CopiesIn,
                        identity: Identity) -> IndividualDispute:
    """Copies handed to the parties; for reinstatement the 2 months to court run from this day (art. 160)."""
    dispute = await require_dispute(session, dispute_id, identity, for_update=True)
    _require_actor(identity, dispute, "employer")
    if dispute.decided_on is None:
        raise Problem(409, "illegal-transition", "Not allowed in this state", "there is no decision to copy yet",
                      status_now=dispute.status, allowed=[a.value for a in rules.allowed_actions(dispute.status)])
    if dispute.copies_sent_on is not None:
        raise Problem(409, "conflict", "Conflict", f"copies were recorded as sent on {dispute.copies_sent_on}")
    sent_on = checked_day(body.sent_on, "/sent_on", not_before=dispute.decided_on, what="the decision")
    law = rules.rules_on(dispute.filed_on)
    dispute.copies_sent_on = sent_on
    subject = law.subject(dispute.subject)
    if subject is not None:
        provision = law.time_limits[subject.time_limit].court
        end = rules.add_months(sent_on, provision.value)
        calendar = await load_calendar(session)
        if law.period_end_rolls_to_working_day.value:
            end = calendar.working_day_on_or_after(end)
        dispute.court_limit_ends_on = end
    dispute.version += 1
    dispute.updated_at = utcnow()
    await meet_deadline(session, deadline_key(COPIES, dispute.id))
    audit(session, dispute, identity, "copies_sent")
    return dispute


async def execute(session: AsyncSession, dispute_id: uuid.UUID, *, body: ExecutionIn,
                  identity: Identity) -> IndividualDispute:
    dispute = await require_dispute(session, dispute_id, identity, for_update=True)
    _require_actor(identity, dispute, "employer")
    executed_on = checked_day(body.executed_on, "/executed_on", not_before=dispute.decided_on or dispute.filed_on,
                              what="the decision")
    if dispute.status == IndividualStatus.decided and dispute.outcome == contracts.IndividualOutcome.rejected:
        raise Problem(409, "illegal-transition", "Not allowed in this state", "a rejected claim has nothing to "
                      "carry out", status_now=dispute.status, allowed=[IndividualAction.refer_to_court.value])
    _move(dispute, IndividualAction.execute)
    dispute.executed_on = dispute.ended_on = executed_on
    await meet_deadline(session, deadline_key(EXECUTION, dispute.id))
    audit(session, dispute, identity, "executed")
    _emit(session, contracts.IndividualDecisionExecuted, dispute, on=executed_on,
          late=dispute.execution_due is not None and executed_on > dispute.execution_due)
    return dispute


async def refer_to_court(session: AsyncSession, dispute_id: uuid.UUID, *, body: CourtReferralIn,
                         identity: Identity) -> IndividualDispute:
    dispute = await require_dispute(session, dispute_id, identity, for_update=True)
    _require_actor(identity, dispute, "employer", "union")
    referred_on = checked_day(body.referred_on, "/referred_on", not_before=dispute.filed_on, what="the filing")
    _move(dispute, IndividualAction.refer_to_court)
    dispute.court, dispute.referred_on, dispute.referral_reason = body.court, referred_on, body.reason
    dispute.ended_on = referred_on
    # The commission's periods end here: the court has the dispute now.
    for kind in (DECISION, EXECUTION):
        await cancel_deadline(session, deadline_key(kind, dispute.id))
    audit(session, dispute, identity, "referred_to_court")
    _emit(session, contracts.IndividualReferredToCourt, dispute, on=referred_on, court=body.court)
    return dispute


async def withdraw(session: AsyncSession, dispute_id: uuid.UUID, *, body: WithdrawalIn,
                   identity: Identity) -> IndividualDispute:
    dispute = await require_dispute(session, dispute_id, identity, for_update=True)
    _require_actor(identity, dispute, "union")
    on = checked_day(body.on, "/on", not_before=dispute.filed_on, what="the filing")
    _move(dispute, IndividualAction.withdraw)
    dispute.ended_on = on
    for kind in KINDS:
        await cancel_deadline(session, deadline_key(kind, dispute.id))
    audit(session, dispute, identity, "withdrawn")
    _emit(session, contracts.IndividualDisputeWithdrawn, dispute, on=on)
    return dispute


async def on_deadline_missed(session: AsyncSession, deadline: Deadline) -> None:
    """A period of an application ran out (in the sweeper's transaction, hence once)."""
    if deadline.kind not in KINDS:
        return
    dispute = await session.get(IndividualDispute, uuid.UUID(deadline.subject_id), with_for_update=True)
    if dispute is None:
        return
    # The period's last day was still in time; the obligation is overdue from the day after.
    overdue_on = deadline.due_on + timedelta(days=1)
    if deadline.kind == DECISION and dispute.status == IndividualStatus.registered:
        _move(dispute, IndividualAction.record_decision_overdue)
        dispute.decision_overdue_since = overdue_on
        _emit(session, contracts.IndividualDecisionOverdue, dispute, on=overdue_on, decision_due=dispute.decision_due)
        audit(session, dispute, SWEEPER, "decision_overdue")
    elif deadline.kind == COPIES and dispute.copies_sent_on is None:
        dispute.copies_overdue_since = overdue_on
        dispute.version += 1
        audit(session, dispute, SWEEPER, "copies_overdue")
    elif deadline.kind == EXECUTION and dispute.status == IndividualStatus.decided:
        dispute.execution_overdue_since = overdue_on
        dispute.version += 1
        audit(session, dispute, SWEEPER, "execution_overdue")


# --- listing -------------------------------------------------------------------------------

async def list_disputes(session: AsyncSession, *, identity: Identity, status: str | None, limit: int,
                        offset: int) -> tuple[list[IndividualDispute], int]:
    query = select(IndividualDispute)
    if not is_staff(identity, *STAFF_READERS):
        if identity.organisation_id is None:
            return [], 0
        own = uuid.UUID(identity.organisation_id)
        query = query.where(or_(IndividualDispute.employer_id == own, IndividualDispute.union_id == own))
    if status is not None:
        query = query.where(IndividualDispute.status == status)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = (await session.execute(query.order_by(IndividualDispute.filed_on.desc(),  # type: ignore[attr-defined]
                                                 IndividualDispute.id).limit(limit).offset(offset))).scalars()
    disputes = list(rows)
    for dispute in disputes:  # each one listed shows the employee's name and claim
        audit(session, dispute, identity, "listed")
    return disputes, int(total or 0)


async def access_log(session: AsyncSession, dispute_id: uuid.UUID,
                     identity: Identity) -> list[IndividualDisputeAccess]:
    """Who read the application and who decided what on it: for staff who act on individual disputes."""
    dispute = await require_dispute(session, dispute_id, identity)
    if not is_staff(identity, *STAFF_ACTORS):
        raise Problem(403, "forbidden", "Forbidden", ACCESS_LOG_FORBIDDEN)
    query = (select(IndividualDisputeAccess).where(IndividualDisputeAccess.individual_dispute_id == dispute.id)
             .order_by(IndividualDisputeAccess.at, IndividualDisputeAccess.id))  # type: ignore[arg-type]
    return list((await session.execute(query)).scalars())
