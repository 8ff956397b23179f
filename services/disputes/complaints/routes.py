"""Freedom-of-association complaints over HTTP: thin routes; the service decides and audits.

Reads commit too: the audit row of a read of the full record is written with it.
"""

import uuid
from datetime import date

from fastapi import APIRouter, status
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.calendar import checked_day
from kernel.db import SessionDep
from kernel.paging import Limit, Offset
from kernel.problems import PROBLEM_JSON, ProblemBody, invalid
from services.disputes.access import Caller
from services.disputes.complaints import rules, service
from services.disputes.complaints.models import Complaint
from services.disputes.complaints.rules import ComplaintStatus, View
from services.disputes.complaints.schemas import (
    AccessLog,
    AccessRecord,
    ClosureIn,
    ComplainantPublic,
    ComplaintCreate,
    ComplaintPage,
    ComplaintPublic,
    ComplaintShielded,
    ComplaintView,
    FindingsIn,
    FindingsPublic,
    InspectionIn,
)

router = APIRouter(prefix="/complaints", tags=["freedom-of-association complaints"])
CONFLICT: dict[int | str, dict[str, object]] = {
    409: {"model": ProblemBody, "content": {PROBLEM_JSON: {}},
          "description": "Not allowed in the complaint's current state; `allowed` names what is"},
}


def _findings(complaint: Complaint) -> FindingsPublic | None:
    if complaint.outcome is None or complaint.findings is None or complaint.findings_on is None:
        return None
    return FindingsPublic.model_validate({"outcome": complaint.outcome, "findings": complaint.findings,
                                          "on": complaint.findings_on})


def complaint_view(complaint: Complaint, view: View) -> ComplaintPublic | ComplaintShielded:
    if view is View.shielded:
        # Built field by field from what the employer may know: nothing else can slip in.
        return ComplaintShielded(id=complaint.id, status=complaint.status, employer_id=complaint.employer_id,
                                 employer_name=complaint.employer_name,
                                 inspection_started_on=complaint.inspection_started_on,
                                 findings=_findings(complaint), closed_on=complaint.closed_on)
    law = rules.rules_on(complaint.received_on)
    category = law.category(complaint.category)
    return ComplaintPublic(
        **complaint.model_dump(include={
            "id", "status", "category", "employer_id", "employer_name", "union_id", "received_via", "description",
            "received_on", "consideration_due", "overdue_since", "inspector", "inspection_started_on", "closed_on",
            "updated_at", "version"}),
        category_article=category.article if category else "",
        complainant=ComplainantPublic(name=complaint.complainant_name, contact=complaint.complainant_contact,
                                      position=complaint.complainant_position),
        consideration_article=law.consideration_period_working_days.article,
        consideration_verify=law.consideration_period_working_days.verify,
        findings=_findings(complaint),
        allowed_actions=[a.value for a in rules.allowed_actions(complaint.status)],
    )


async def _committed(session: AsyncSession, complaint: Complaint, view: View) -> ComplaintView:
    result = complaint_view(complaint, view)
    await session.commit()
    return result


@router.get("/rules", summary="The categories of complaint and the inspectorate's period in force on a day")
async def rules_in_force(_: Caller, on: date | None = None) -> rules.ComplaintRules:
    day = checked_day(on, "query:/on")
    try:
        return rules.rules_on(day)
    except LookupError as exc:
        raise invalid("query:/on", "rules_in_force", str(exc)) from None


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ComplaintPublic,
             summary="A complaint taken in (from a union, or by staff for a worker) and routed to the labour "
                     "inspectorate; the complainant is shielded from the employer")
async def receive(body: ComplaintCreate, session: SessionDep, identity: Caller) -> ComplaintView:
    complaint = await service.receive(session, body=body, identity=identity)
    # Whoever filed it has just written the complainant's identity: it is returned to them once.
    return await _committed(session, complaint, View.full)


@router.get("", summary="Complaints: in full for the inspectorate and the complainant's union; for the employer "
            "(and other staff) only that one concerns it and its findings")
async def list_complaints(session: SessionDep, identity: Caller, status: ComplaintStatus | None = None,
                          limit: Limit = 50, offset: Offset = 0) -> ComplaintPage:
    rows, total = await service.list_complaints(session, identity=identity, status=status, limit=limit,
                                                offset=offset)
    page = ComplaintPage(items=[complaint_view(c, v) for c, v in rows], total=total)
    await session.commit()
    return page


@router.get("/{complaint_id}", summary="One complaint, in the view the caller may have (full reads are audited)")
async def get_complaint(complaint_id: uuid.UUID, session: SessionDep, identity: Caller) -> ComplaintView:
    complaint, view = await service.read(session, complaint_id, identity)
    return await _committed(session, complaint, view)


@router.get("/{complaint_id}/access-log", summary="Every read of the complaint's record and every decision on it "
            "(the inspectorate)")
async def access_log(complaint_id: uuid.UUID, session: SessionDep, identity: Caller) -> AccessLog:
    rows = await service.access_log(session, complaint_id, identity)
    return AccessLog(complaint_id=complaint_id, items=[
        AccessRecord(at=r.at, actor=r.actor, action=r.action, detail=r.detail) for r in rows])


@router.post("/{complaint_id}/inspection", responses=CONFLICT,
             summary="The labour inspectorate begins its inspection (the employer is told a complaint concerns it)")
async def inspection(complaint_id: uuid.UUID, body: InspectionIn, session: SessionDep,
                     identity: Caller) -> ComplaintView:
    complaint = await service.start_inspection(session, complaint_id, body=body, identity=identity)
    return await _committed(session, complaint, View.full)


@router.post("/{complaint_id}/findings", responses=CONFLICT,
             summary="The inspectorate's findings: upheld or not upheld (seen by the union and the employer)")
async def findings(complaint_id: uuid.UUID, body: FindingsIn, session: SessionDep, identity: Caller) -> ComplaintView:
    complaint = await service.record_findings(session, complaint_id, body=body, identity=identity)
    return await _committed(session, complaint, View.full)


@router.post("/{complaint_id}/closure", responses=CONFLICT, summary="The inspectorate closes the complaint")
async def closure(complaint_id: uuid.UUID, body: ClosureIn, session: SessionDep, identity: Caller) -> ComplaintView:
    complaint = await service.close(session, complaint_id, body=body, identity=identity)
    return await _committed(session, complaint, View.full)
