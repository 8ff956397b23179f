"""Freedom-of-association complaints: take in, route to the labour inspectorate, track, audit. Never commits.

The complainant is shielded from the employer (architecture rule 9): the employer's credential
gets the shielded view (that a complaint concerns it, its stage, its findings), never the
complainant, the union, the category or the description; a refusal it meets reads exactly like
one for any other complaint; the complaint's events go to the complainant's union, and the one
event the employer receives names no one. Every read of the full record and every decision is
written to ``complaint_access`` in the same transaction.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import disputes as contracts
from contracts.disputes import EmployerNoticeStage
from kernel.calendar import checked_day, load_calendar
from kernel.db import utcnow
from kernel.deadlines import Deadline, cancel_deadline, lock_deadlines_of, meet_deadline, schedule_deadline
from kernel.events import EventData
from kernel.identity import Identity
from kernel.outbox import record_event
from kernel.problems import NotFound, Problem, invalid
from services.disputes.collective.rules import EMPLOYER_KINDS, UNION_KINDS
from services.disputes.complaints import rules
from services.disputes.complaints.models import Complaint, ComplaintAccess
from services.disputes.complaints.rules import ComplaintAction, ComplaintStatus, IllegalTransition, View
from services.disputes.complaints.schemas import ClosureIn, ComplaintCreate, FindingsIn, InspectionIn
from services.disputes.parties.service import eligible_party

SOURCE = "/disputes"
CONSIDERATION = "complaint_consideration"
FORBIDDEN = "This action is for the labour inspectorate (staff with the role labour_inspector or administrator)."


def deadline_key(complaint_id: uuid.UUID) -> str:
    return f"{CONSIDERATION}:{complaint_id}"


def union_audience(complaint: Complaint) -> list[uuid.UUID]:
    """The complaint's own events: the complainant's union (the inspectorate reads the service)."""
    return [complaint.union_id] if complaint.union_id is not None else []


def view_of(identity: Identity, complaint: Complaint) -> View | None:
    return rules.view_for(identity, union_id=complaint.union_id, employer_id=complaint.employer_id,
                          employer_told=complaint.inspection_started_on is not None)


def audit(session: AsyncSession, complaint: Complaint, identity: Identity | str, action: str,
          **detail: Any) -> None:
    actor = identity if isinstance(identity, str) else identity.actor
    if isinstance(identity, Identity) and identity.organisation_id is not None:
        # ``actor`` names an organisation's credential by the organisation alone; it holds several (its system's
        # key, its portal client ...), and the log must tell which one read the complainant's identity.
        detail = {**detail, "credential": f"{identity.kind}:{identity.subject}"}
    session.add(ComplaintAccess(complaint_id=complaint.id, actor=actor, action=action, detail=detail))


async def require_complaint(session: AsyncSession, complaint_id: uuid.UUID, identity: Identity, *,
                            for_update: bool = False) -> tuple[Complaint, View]:
    """The complaint and the caller's view of it; 404, as for a missing id, when it may not know of it."""
    if for_update:
        await lock_deadlines_of(session, complaint_id)  # in the sweeper's order: its deadlines, then the complaint
    complaint = await session.get(Complaint, complaint_id, with_for_update=for_update,
                                  populate_existing=for_update)
    view = None if complaint is None else view_of(identity, complaint)
    if complaint is None or view is None:
        raise NotFound("complaint")
    return complaint, view


async def read(session: AsyncSession, complaint_id: uuid.UUID, identity: Identity) -> tuple[Complaint, View]:
    complaint, view = await require_complaint(session, complaint_id, identity)
    if view is View.full:
        audit(session, complaint, identity, "read")
    return complaint, view


async def _for_inspectorate(session: AsyncSession, complaint_id: uuid.UUID, identity: Identity) -> Complaint:
    complaint, _ = await require_complaint(session, complaint_id, identity, for_update=True)
    if not identity.acts_as_staff(*rules.INSPECTORS):
        # The same words whoever asks, so a refusal tells the employer nothing about the complaint.
        raise Problem(403, "forbidden", "Forbidden", FORBIDDEN)
    return complaint


def _move(complaint: Complaint, action: ComplaintAction) -> str:
    previous = complaint.status
    try:
        complaint.status = rules.next_status(complaint.status, action).value
    except IllegalTransition as exc:
        raise Problem(409, "illegal-transition", "Not allowed in this state", str(exc),
                      status_now=exc.current.value, allowed=[a.value for a in exc.allowed]) from None
    complaint.version += 1
    complaint.updated_at = utcnow()
    return previous


def _emit(session: AsyncSession, event_class: type[EventData], complaint: Complaint, /, *, on: date,
          **fields: Any) -> None:
    record_event(session, event_class(audience=union_audience(complaint), complaint_id=complaint.id,
                                      status=complaint.status, on=on, **fields), source=SOURCE)


def _notify_employer(session: AsyncSession, complaint: Complaint, stage: EmployerNoticeStage, *, on: date) -> None:
    """The employer's one event: that a complaint concerns it, its stage, its findings. Names no one."""
    record_event(session, contracts.ComplaintEmployerNotice(
        audience=[complaint.employer_id], complaint_id=complaint.id, employer_id=complaint.employer_id,
        status=complaint.status, on=on, stage=stage,
        outcome=contracts.ComplaintOutcome(complaint.outcome) if complaint.outcome else None,
        findings=complaint.findings), source=SOURCE)


# --- taking a complaint in -------------------------------------------------------------------

async def receive(session: AsyncSession, *, body: ComplaintCreate, identity: Identity) -> Complaint:
    if identity.acts_as_staff(*rules.INTAKE):
        via = "staff"
    elif identity.organisation_id is not None and body.union_id is not None and identity.acts_for(body.union_id):
        via = "union"
    elif identity.organisation_id is not None:
        raise invalid("/union_id", "own_complaint", "a union files complaints as the complainant's union: give its "
                                                    "own id")
    else:
        raise Problem(403, "forbidden", "Forbidden", "Complaints are filed by a union, or taken in by staff with "
                      "the role dispute_officer, labour_inspector or administrator.")
    received_on = checked_day(body.received_on, "/received_on")
    try:
        law = rules.rules_on(received_on)
    except LookupError as exc:
        raise invalid("/received_on", "rules_in_force", str(exc)) from None
    if law.category(body.category) is None:
        raise invalid("/category", "known_code", f"unknown category {body.category!r}; known: "
                                                 f"{', '.join(c.code for c in law.categories)}")
    employer = await eligible_party(session, body.employer_id, pointer="/employer_id", kinds=EMPLOYER_KINDS,
                                    role="the employer")
    if body.union_id is not None:
        await eligible_party(session, body.union_id, pointer="/union_id", kinds=UNION_KINDS, role="a union")
    calendar = await load_calendar(session)
    due = rules.consideration_due(received_on, law, calendar)
    complaint = Complaint(
        status=ComplaintStatus.received.value, category=body.category, employer_id=employer.id,
        employer_name=employer.name_ru, union_id=body.union_id, received_via=via,
        complainant_name=body.complainant.name, complainant_contact=body.complainant.contact,
        complainant_position=body.complainant.position, description=body.description, received_on=received_on,
        consideration_due=due, rules_code=law.code, created_by=identity.actor)
    session.add(complaint)
    await session.flush()
    audit(session, complaint, identity, "received", via=via)
    # The deadline's events go where the complaint's do: the union, never the employer.
    await schedule_deadline(
        session, key=deadline_key(complaint.id), kind=CONSIDERATION, subject_id=complaint.id, due_on=due,
        approaching_on=rules.reminder_on(received_on, due, law, calendar), audience=union_audience(complaint),
        article=law.consideration_period_working_days.article, details={"rules": law.code})
    _emit(session, contracts.ComplaintReceived, complaint, on=received_on, category=complaint.category,
          employer_id=complaint.employer_id, union_id=complaint.union_id, consideration_due=due)
    await session.flush()
    return complaint


# --- the inspectorate ------------------------------------------------------------------------

def gives_position(text: str, position: str | None) -> bool:
    """Whether ``text`` contains the complainant's position, as the whole phrase (case and spacing aside).

    A position is often one person's alone in a workplace ("the workshop's shop steward"); its single words
    (union, chair, driver) are everyday words in findings, so only the whole phrase counts; as for names, one
    under 4 letters is ignored (it would match inside any text).
    """
    phrase = " ".join((position or "").casefold().split())
    return len(phrase) >= 4 and phrase in " ".join(text.casefold().split())


async def start_inspection(session: AsyncSession, complaint_id: uuid.UUID, *, body: InspectionIn,
                           identity: Identity) -> Complaint:
    complaint = await _for_inspectorate(session, complaint_id, identity)
    on = checked_day(body.on, "/on", not_before=complaint.received_on, what="the complaint")
    _move(complaint, ComplaintAction.start_inspection)
    complaint.inspector, complaint.inspection_started_on = body.inspector, on
    audit(session, complaint, identity, "inspection_started")
    _emit(session, contracts.ComplaintInspectionStarted, complaint, on=on)
    _notify_employer(session, complaint, EmployerNoticeStage.inspection_started, on=on)
    return complaint


async def record_findings(session: AsyncSession, complaint_id: uuid.UUID, *, body: FindingsIn,
                          identity: Identity) -> Complaint:
    complaint = await _for_inspectorate(session, complaint_id, identity)
    on = checked_day(body.on, "/on", not_before=complaint.inspection_started_on or complaint.received_on,
                     what="the inspection")
    if (rules.names_complainant(body.findings, complaint.complainant_name, complaint.complainant_contact)
            or gives_position(body.findings, complaint.complainant_position)):
        # The detail does not repeat the name: problem answers end up in logs too.
        raise invalid("/findings", "shielded_identity", "the findings go to the employer and must not name the "
                                                        "complainant or give their contact or position")
    _move(complaint, ComplaintAction.record_findings)
    complaint.outcome, complaint.findings, complaint.findings_on = body.outcome.value, body.findings, on
    await meet_deadline(session, deadline_key(complaint.id))
    audit(session, complaint, identity, "findings", outcome=body.outcome.value)
    _emit(session, contracts.ComplaintFindingsRecorded, complaint, on=on, outcome=body.outcome,
          findings=body.findings, late=on > complaint.consideration_due)
    _notify_employer(session, complaint, EmployerNoticeStage.findings, on=on)
    return complaint


async def close(session: AsyncSession, complaint_id: uuid.UUID, *, body: ClosureIn, identity: Identity) -> Complaint:
    complaint = await _for_inspectorate(session, complaint_id, identity)
    on = checked_day(body.on, "/on", not_before=complaint.findings_on or complaint.received_on,
                     what="the complaint's last step")
    previous = _move(complaint, ComplaintAction.close)
    complaint.closed_on = on
    await cancel_deadline(session, deadline_key(complaint.id))
    audit(session, complaint, identity, "closed")
    _emit(session, contracts.ComplaintClosed, complaint, on=on, reason=body.reason)
    # An employer never told of the complaint (closed before any inspection) is not told now.
    if previous != ComplaintStatus.received:
        _notify_employer(session, complaint, EmployerNoticeStage.closed, on=on)
    return complaint


async def on_deadline_missed(session: AsyncSession, deadline: Deadline) -> None:
    """The consideration period ran out: the complaint is marked overdue (in the sweeper's transaction)."""
    if deadline.kind != CONSIDERATION:
        return
    complaint = await session.get(Complaint, uuid.UUID(deadline.subject_id), with_for_update=True)
    if complaint is None or complaint.status not in (ComplaintStatus.received, ComplaintStatus.under_inspection):
        return
    complaint.overdue_since = deadline.due_on + timedelta(days=1)
    complaint.version += 1
    audit(session, complaint, "system:deadline-sweeper", "overdue")
    # For the labour inspectors' desk (the union hears of the period through deadline.missed already).
    _emit(session, contracts.ComplaintConsiderationOverdue, complaint, on=complaint.overdue_since,
          consideration_due=complaint.consideration_due)


# --- listing and the audit log ---------------------------------------------------------------

async def list_complaints(session: AsyncSession, *, identity: Identity, status: str | None, limit: int,
                          offset: int) -> tuple[list[tuple[Complaint, View]], int]:
    query = select(Complaint)
    if not identity.acts_as_staff(*rules.INSPECTORS, *rules.SHIELDED_READERS):
        if identity.organisation_id is None:
            return [], 0
        own = uuid.UUID(identity.organisation_id)
        query = query.where(or_(and_(Complaint.employer_id == own,
                                     Complaint.inspection_started_on.is_not(None)),  # type: ignore[union-attr]
                                Complaint.union_id == own))
    if status is not None:
        query = query.where(Complaint.status == status)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = (await session.execute(query.order_by(Complaint.received_on.desc(),  # type: ignore[attr-defined]
                                                 Complaint.id).limit(limit).offset(offset))).scalars()
    page: list[tuple[Complaint, View]] = []
    for complaint in rows:
        view = view_of(identity, complaint)
        if view is None:  # pragma: no cover - the query admits only what the caller may see
            continue
        if view is View.full:
            audit(session, complaint, identity, "listed")
        page.append((complaint, view))
    return page, int(total or 0)


async def access_log(session: AsyncSession, complaint_id: uuid.UUID, identity: Identity) -> list[ComplaintAccess]:
    complaint, _ = await require_complaint(session, complaint_id, identity)
    if not identity.acts_as_staff(*rules.INSPECTORS):
        raise Problem(403, "forbidden", "Forbidden", FORBIDDEN)
    query = (select(ComplaintAccess).where(ComplaintAccess.complaint_id == complaint.id)
             .order_by(ComplaintAccess.at, ComplaintAccess.id))  # type: ignore[arg-type]
    return list((await session.execute(query)).scalars())
