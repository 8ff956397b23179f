"""The roster: staff keep mediators and arbitrators; assignment checks the conflict of interest and rotates.

Never commits (the route does). Reading the roster is for staff; the parties see who is assigned
to their own dispute.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import disputes as contracts
from kernel.calendar import checked_day
from kernel.db import utcnow
from kernel.identity import Identity
from kernel.outbox import record_event
from kernel.problems import Conflict, FieldError, NotFound, Problem, invalid
from services.disputes.access import STAFF_ACTORS, STAFF_READERS, is_staff
from services.disputes.collective import rules as dispute_rules
from services.disputes.collective.models import CollectiveDispute
from services.disputes.collective.service import SOURCE, audience, require_dispute
from services.disputes.roster import rules
from services.disputes.roster.models import RosterAssignment, RosterMember
from services.disputes.roster.schemas import AssignmentCreate, ConsentIn, MemberCreate, MemberUpdate

STAFF_ONLY = "The roster is kept by staff with the role dispute_officer or administrator."


def require_staff(identity: Identity, *roles: str) -> None:
    if not is_staff(identity, *roles):
        raise Problem(403, "forbidden", "Forbidden", STAFF_ONLY)


async def require_member(session: AsyncSession, member_id: uuid.UUID, *, for_update: bool = False) -> RosterMember:
    member = await session.get(RosterMember, member_id, with_for_update=for_update, populate_existing=for_update)
    if member is None:
        raise NotFound("roster member")
    return member


async def create_member(session: AsyncSession, *, body: MemberCreate, identity: Identity) -> RosterMember:
    require_staff(identity, *STAFF_ACTORS)
    member = RosterMember(name=body.name, kind=body.kind.value, specialisations=body.specialisations,
                          regions=body.regions, languages=body.languages, available=body.available,
                          affiliations=[str(a) for a in body.affiliations])
    session.add(member)
    await session.flush()
    return member


async def update_member(session: AsyncSession, member_id: uuid.UUID, *, body: MemberUpdate,
                        identity: Identity) -> RosterMember:
    require_staff(identity, *STAFF_ACTORS)
    member = await require_member(session, member_id, for_update=True)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    if "affiliations" in changes and changes["affiliations"] is not None:
        changes["affiliations"] = [str(a) for a in changes["affiliations"]]
    for field, value in changes.items():
        if value is None:
            raise invalid(f"/{field}", "not_null", f"{field} cannot be emptied with null")
        setattr(member, field, value)
    member.version += 1
    member.updated_at = utcnow()
    await session.flush()
    return member


async def list_members(session: AsyncSession, *, identity: Identity, kind: str | None, available: bool | None,
                       limit: int, offset: int) -> tuple[list[RosterMember], int]:
    require_staff(identity, *STAFF_READERS)
    query = select(RosterMember)
    if kind is not None:
        query = query.where(RosterMember.kind == kind)
    if available is not None:
        query = query.where(RosterMember.available == available)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = (await session.execute(query.order_by(RosterMember.name, RosterMember.id).limit(limit)
                                  .offset(offset))).scalars()
    return list(rows), int(total or 0)


def _candidate(member: RosterMember) -> rules.Candidate:
    return rules.Candidate(id=member.id, name=member.name, kind=member.kind, regions=tuple(member.regions),
                           languages=tuple(member.languages), available=member.available,
                           affiliations=frozenset(member.affiliations), last_assigned_at=member.last_assigned_at)


def _conflict_of_interest(member: RosterMember, linked: list[str]) -> Problem:
    return Problem(409, "conflict-of-interest", "Conflict of interest",
                   f"{member.name} is affiliated with a party to the dispute ({', '.join(linked)}).",
                   errors=[FieldError(pointer="/member_id", rule="no_affiliation_with_party",
                                      detail="affiliated with a party to the dispute")])


async def assign(session: AsyncSession, dispute_id: uuid.UUID, *, body: AssignmentCreate,
                 identity: Identity) -> tuple[RosterAssignment, RosterMember]:
    """Assign a named person (checked) or the one whose turn it is; the dispute's parties and the person learn of it."""
    require_staff(identity, *STAFF_ACTORS)
    dispute = await require_dispute(session, dispute_id, identity, for_update=True)
    if dispute.status in dispute_rules.TERMINAL:
        raise Conflict(f"the dispute is {dispute.status}: nobody is assigned to an ended dispute",
                       status_now=dispute.status)
    parties = [dispute.union_id, dispute.employer_id]
    assigned_on = checked_day(body.assigned_on, "/assigned_on", not_before=dispute.submitted_on, what="the demands")
    taken = set((await session.execute(select(RosterAssignment.member_id)
                                       .where(RosterAssignment.dispute_id == dispute.id))).scalars())
    if body.member_id is not None:
        member = await session.get(RosterMember, body.member_id, with_for_update=True)
        if member is None:
            raise invalid("/member_id", "on_roster", "no such person on the roster")
        if member.kind != body.kind.value:
            raise invalid("/member_id", "kind", f"{member.name} is on the roster as {member.kind}")
        if not member.available:
            raise invalid("/member_id", "available", f"{member.name} is not available")
        linked = rules.conflicts(member.affiliations, parties)
        if linked:
            raise _conflict_of_interest(member, linked)
    else:
        members = list((await session.execute(select(RosterMember).where(RosterMember.kind == body.kind.value,
                                                                          RosterMember.available.is_(True))))
                       .scalars())  # type: ignore[attr-defined]
        ordered = rules.rotation([_candidate(m) for m in members if m.id not in taken], kind=body.kind.value,
                                 parties=parties, region_code=dispute.region_code, language=body.language)
        if not ordered:
            raise Problem(422, "no-candidate", "Nobody on the roster may take the dispute",
                          "No available person of this kind serves the region, speaks the language and is free of "
                          "affiliation with both parties.",
                          errors=[FieldError(pointer="/kind", rule="rotation_candidate",
                                             detail="no eligible person on the roster")])
        member = next(m for m in members if m.id == ordered[0].id)
    if member.id in taken:
        raise Conflict(f"{member.name} is already assigned to this dispute")
    assignment = RosterAssignment(dispute_id=dispute.id, member_id=member.id, kind=body.kind.value,
                                  assigned_on=assigned_on, by_rotation=body.member_id is None,
                                  assigned_by=identity.actor)
    session.add(assignment)
    # Rotation turns on this: the person moves to the back of the queue.
    member.last_assigned_at = utcnow()
    member.version += 1
    await session.flush()
    record_event(session, contracts.RosterMemberAssigned(
        audience=_with_member(dispute, member.id), assignment_id=assignment.id, dispute_id=dispute.id,
        member_id=member.id, member_name=member.name, kind=member.kind, assigned_on=assigned_on,
        by_rotation=assignment.by_rotation), source=SOURCE)
    return assignment, member


def _with_member(dispute: CollectiveDispute, member_id: uuid.UUID) -> list[uuid.UUID]:
    return sorted({*audience(dispute), member_id}, key=str)


async def record_consent(session: AsyncSession, dispute_id: uuid.UUID, assignment_id: uuid.UUID, *,
                         body: ConsentIn, identity: Identity) -> tuple[RosterAssignment, RosterMember]:
    require_staff(identity, *STAFF_ACTORS)
    dispute = await require_dispute(session, dispute_id, identity)
    assignment = await session.get(RosterAssignment, assignment_id, with_for_update=True)
    if assignment is None or assignment.dispute_id != dispute.id:
        raise NotFound("assignment")
    consent_on = checked_day(body.consent_on, "/consent_on", not_before=assignment.assigned_on,
                             what="the assignment")
    if assignment.consent_on is not None:
        raise Conflict(f"consent was recorded on {assignment.consent_on.isoformat()}")
    assignment.consent_on, assignment.consent_document = consent_on, body.consent_document
    member = await require_member(session, assignment.member_id)
    record_event(session, contracts.RosterConsentRecorded(
        audience=_with_member(dispute, member.id), assignment_id=assignment.id, dispute_id=dispute.id,
        member_id=member.id, consent_on=consent_on, consent_document=body.consent_document), source=SOURCE)
    await session.flush()
    return assignment, member


async def assignments_of(session: AsyncSession, dispute_id: uuid.UUID,
                         identity: Identity) -> list[tuple[RosterAssignment, RosterMember]]:
    dispute = await require_dispute(session, dispute_id, identity)
    rows = await session.execute(select(RosterAssignment, RosterMember)
                                 .join(RosterMember, RosterMember.id == RosterAssignment.member_id)
                                 .where(RosterAssignment.dispute_id == dispute.id)
                                 .order_by(RosterAssignment.created_at))
    return [(a, m) for a, m in rows.all()]
