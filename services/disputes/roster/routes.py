"""The roster over HTTP: thin routes; the service decides; each write commits once."""

import uuid

from fastapi import APIRouter, status

from kernel.db import SessionDep
from kernel.paging import Limit, Offset
from kernel.problems import PROBLEM_JSON, ProblemBody
from services.disputes.access import Caller
from services.disputes.roster import service
from services.disputes.roster.models import RosterAssignment, RosterMember
from services.disputes.roster.rules import RosterKind
from services.disputes.roster.schemas import (
    AssignmentCreate,
    AssignmentPublic,
    ConsentIn,
    MemberCreate,
    MemberPage,
    MemberPublic,
    MemberUpdate,
)

router = APIRouter(tags=["roster"])
CONFLICT: dict[int | str, dict[str, object]] = {
    409: {"model": ProblemBody, "content": {PROBLEM_JSON: {}},
          "description": "A conflict of interest (rule no_affiliation_with_party), or already assigned"},
}


def member_view(member: RosterMember) -> MemberPublic:
    return MemberPublic.model_validate(member, from_attributes=True)


def assignment_view(assignment: RosterAssignment, member: RosterMember) -> AssignmentPublic:
    return AssignmentPublic(**assignment.model_dump(include={
        "id", "dispute_id", "member_id", "kind", "assigned_on", "by_rotation", "consent_on", "consent_document"}),
        member_name=member.name)


@router.post("/roster", status_code=status.HTTP_201_CREATED, summary="Put a mediator or arbitrator on the roster")
async def create_member(body: MemberCreate, session: SessionDep, identity: Caller) -> MemberPublic:
    member = await service.create_member(session, body=body, identity=identity)
    await session.commit()
    return member_view(member)


@router.get("/roster", summary="The roster (staff)")
async def list_members(session: SessionDep, identity: Caller, kind: RosterKind | None = None,
                       available: bool | None = None, limit: Limit = 50, offset: Offset = 0) -> MemberPage:
    rows, total = await service.list_members(session, identity=identity, kind=kind, available=available,
                                             limit=limit, offset=offset)
    return MemberPage(items=[member_view(m) for m in rows], total=total)


@router.get("/roster/{member_id}", summary="One person on the roster (staff)")
async def get_member(member_id: uuid.UUID, session: SessionDep, identity: Caller) -> MemberPublic:
    service.require_staff(identity, *service.STAFF_READERS)
    return member_view(await service.require_member(session, member_id))


@router.patch("/roster/{member_id}", summary="Change a roster entry (availability, regions, affiliations ...)")
async def update_member(member_id: uuid.UUID, body: MemberUpdate, session: SessionDep,
                        identity: Caller) -> MemberPublic:
    member = await service.update_member(session, member_id, body=body, identity=identity)
    await session.commit()
    return member_view(member)


@router.post("/collective-disputes/{dispute_id}/assignments", status_code=status.HTTP_201_CREATED,
             responses=CONFLICT, summary="Assign a mediator or arbitrator: named (checked for a conflict of "
             "interest) or by rotation")
async def assign(dispute_id: uuid.UUID, body: AssignmentCreate, session: SessionDep,
                 identity: Caller) -> AssignmentPublic:
    assignment, member = await service.assign(session, dispute_id, body=body, identity=identity)
    await session.commit()
    return assignment_view(assignment, member)


@router.get("/collective-disputes/{dispute_id}/assignments", summary="Who from the roster is assigned to the dispute")
async def assignments(dispute_id: uuid.UUID, session: SessionDep, identity: Caller) -> list[AssignmentPublic]:
    return [assignment_view(a, m) for a, m in await service.assignments_of(session, dispute_id, identity)]


@router.post("/collective-disputes/{dispute_id}/assignments/{assignment_id}/consent", responses=CONFLICT,
             summary="The assigned person's written consent")
async def consent(dispute_id: uuid.UUID, assignment_id: uuid.UUID, body: ConsentIn, session: SessionDep,
                  identity: Caller) -> AssignmentPublic:
    assignment, member = await service.record_consent(session, dispute_id, assignment_id, body=body,
                                                      identity=identity)
    await session.commit()
    return assignment_view(assignment, member)
