"""Tripartite commissions over HTTP: thin routes, one commit each."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from contracts.bargaining import CommissionLevel, ConsultationStance, Side
from kernel.db import SessionDep
from kernel.paging import Limit, Offset
from kernel.problems import PROBLEM_JSON, ProblemBody
from services.bargaining.access import Caller
from services.bargaining.commissions import rules, service
from services.bargaining.commissions.models import (
    Commission,
    CommissionParty,
    CommissionSeat,
    Consultation,
    Notice,
    NoticeReceipt,
    Sitting,
)
from services.bargaining.commissions.rules import PARTIES, ConsultationStatus, MemberRole
from services.bargaining.commissions.schemas import (
    AgendaItemIn,
    AgendaItemPublic,
    AttendanceIn,
    CommissionCreate,
    CommissionPage,
    CommissionPublic,
    ConsultationCreate,
    ConsultationPositionIn,
    ConsultationPositionPublic,
    ConsultationPublic,
    ConsultationResultIn,
    DecisionIn,
    DecisionPublic,
    DocumentIn,
    MemberIn,
    MemberPublic,
    MinutesIn,
    NoticeIn,
    NoticePublic,
    PartyPublic,
    PositionIn,
    Recall,
    ReceiptPublic,
    SittingCreate,
    SittingPublic,
)

router = APIRouter(prefix="/commissions", tags=["commissions"])
RESPONSES: dict[int | str, dict[str, object]] = {
    404: {"model": ProblemBody, "content": {PROBLEM_JSON: {}},
          "description": "No such commission, or not one the caller sits in"},
    409: {"model": ProblemBody, "content": {PROBLEM_JSON: {}}, "description": "Not possible in the current state"},
}


def member_view(seat: CommissionSeat) -> MemberPublic:
    return MemberPublic(id=seat.id, organisation_id=seat.organisation_id, side=Side(seat.side),
                        role=MemberRole(seat.role), name=seat.name, position=seat.position, term_from=seat.term_from,
                        term_to=seat.term_to, recalled_on=seat.recalled_on)


def commission_view(commission: Commission, parties: list[CommissionParty],
                    seats: list[CommissionSeat]) -> CommissionPublic:
    law = rules.rules_on(commission.term_from)
    level = CommissionLevel(commission.level)
    return CommissionPublic(
        id=commission.id, name=commission.name, level=level, sector=commission.sector,
        region_code=commission.region_code, chair_name=commission.chair_name,
        chair_position=commission.chair_position, secretariat=commission.secretariat,
        term_from=commission.term_from, term_to=commission.term_to,
        parties=[PartyPublic(organisation_id=p.organisation_id, side=Side(p.side), name_ru=p.name_ru)
                 for p in sorted(parties, key=lambda p: (PARTIES.index(Side(p.side)), p.name_ru))],
        members=[member_view(s) for s in seats], max_members_per_party=law.max_members_per_party.value[level],
        max_members_article=law.max_members_per_party.article, max_members_verify=law.max_members_per_party.verify,
        created_at=commission.created_at)


async def _commission_view(session: SessionDep, commission: Commission) -> CommissionPublic:
    return commission_view(commission, await service.parties_of(session, commission.id),
                           await service.seats_of(session, commission.id))


async def sitting_view(session: SessionDep, sitting: Sitting) -> SittingPublic:
    agenda = await service.agenda_of(session, sitting.id)
    decisions = await service.decisions_of(session, sitting.id)
    return SittingPublic(
        id=sitting.id, commission_id=sitting.commission_id, number=sitting.number, held_on=sitting.held_on,
        place=sitting.place, remote=sitting.remote, status=sitting.status,
        agenda=[AgendaItemPublic(number=i.number, title=i.title, summary=i.summary, side=Side(i.side),
                                 documents=[DocumentIn.model_validate(d) for d in i.documents]) for i in agenda],
        attendance=sitting.attendance, quorum=sitting.quorum, quorum_met=sitting.quorum_met,
        decisions=[DecisionPublic(id=d.id, number=d.number, agenda_item_number=d.agenda_item_number, text=d.text,
                                  positions=[PositionIn.model_validate(p) for p in d.positions], adopted=d.adopted,
                                  rules=d.rules) for d in decisions],
        minutes=sitting.minutes, minutes_documents=[DocumentIn.model_validate(d) for d in sitting.minutes_documents],
        minutes_published_on=sitting.minutes_published_on)


async def consultation_view(session: SessionDep, consultation: Consultation) -> ConsultationPublic:
    filed = {p.side: p for p in await service.positions_of(session, consultation.id)}
    positions = []
    for side in PARTIES:
        given = filed.get(side.value)
        positions.append(ConsultationPositionPublic(
            side=side, position=ConsultationStance(given.position) if given else None,
            text=given.text if given else None, filed_on=given.filed_on if given else None,
            late=given.late if given else False, overdue=side.value in consultation.overdue_sides))
    return ConsultationPublic(
        id=consultation.id, commission_id=consultation.commission_id, title=consultation.title,
        summary=consultation.summary, documents=[DocumentIn.model_validate(d) for d in consultation.documents],
        opened_by_side=Side(consultation.opened_by_side), opened_on=consultation.opened_on,
        working_days=consultation.working_days, positions_due=consultation.positions_due,
        positions_article=rules.rules_on(consultation.opened_on).consultation_working_days.article,
        status=consultation.status, positions=positions, result=consultation.result,
        closed_on=consultation.closed_on)


def notice_view(notice: Notice, receipts: list[NoticeReceipt], parties: list[CommissionParty]) -> NoticePublic:
    read = {r.organisation_id for r in receipts}
    return NoticePublic(id=notice.id, commission_id=notice.commission_id, title=notice.title, body=notice.body,
                        documents=[DocumentIn.model_validate(d) for d in notice.documents],
                        shared_by_side=Side(notice.shared_by_side) if notice.shared_by_side else None,
                        shared_on=notice.shared_on,
                        receipts=[ReceiptPublic(organisation_id=r.organisation_id, side=Side(r.side),
                                                read_at=r.read_at) for r in receipts],
                        unread_by=[p.organisation_id for p in parties if p.organisation_id not in read])


# --- commissions and members ---------------------------------------------------------------

@router.post("", status_code=status.HTTP_201_CREATED, responses=RESPONSES,
             summary="The secretariat sets up a tripartite commission with its three parties, chair and term")
async def create_commission(body: CommissionCreate, session: SessionDep, identity: Caller) -> CommissionPublic:
    commission = await service.create_commission(session, body=body, identity=identity)
    await session.commit()
    return await _commission_view(session, commission)


@router.get("", summary="Commissions: all for staff, those it sits in for an organisation")
async def list_commissions(session: SessionDep, identity: Caller, level: CommissionLevel | None = None,
                           limit: Limit = 50, offset: Offset = 0) -> CommissionPage:
    rows, total = await service.list_commissions(session, identity=identity, level=level, limit=limit, offset=offset)
    return CommissionPage(items=[await _commission_view(session, c) for c in rows], total=total)


@router.get("/{commission_id}", responses=RESPONSES, summary="A commission: parties, members and alternates serving")
async def get_commission(commission_id: uuid.UUID, session: SessionDep, identity: Caller) -> CommissionPublic:
    commission, parties = await service.require_commission(session, commission_id, identity)
    return commission_view(commission, parties, await service.seats_of(session, commission.id))


@router.post("/{commission_id}/members", status_code=status.HTTP_201_CREATED, responses=RESPONSES,
             summary="A party's organisation appoints a member or alternate (at most the rule's number per party)")
async def appoint(commission_id: uuid.UUID, body: MemberIn, session: SessionDep, identity: Caller) -> MemberPublic:
    seat = await service.appoint(session, commission_id, body=body, identity=identity)
    await session.commit()
    return member_view(seat)


@router.post("/{commission_id}/members/{member_id}/recall", responses=RESPONSES,
             summary="The appointing organisation (or the secretariat) recalls a member or alternate")
async def recall(commission_id: uuid.UUID, member_id: uuid.UUID, body: Recall, session: SessionDep,
                 identity: Caller) -> MemberPublic:
    seat = await service.recall(session, commission_id, member_id, body=body, identity=identity)
    await session.commit()
    return member_view(seat)


# --- sittings ------------------------------------------------------------------------------

@router.post("/{commission_id}/sittings", status_code=status.HTTP_201_CREATED, responses=RESPONSES,
             summary="The secretariat schedules a sitting (in a place, or remote)")
async def schedule_sitting(commission_id: uuid.UUID, body: SittingCreate, session: SessionDep,
                           identity: Caller) -> SittingPublic:
    sitting = await service.schedule_sitting(session, commission_id, body=body, identity=identity)
    await session.commit()
    return await sitting_view(session, sitting)


@router.get("/{commission_id}/sittings", responses=RESPONSES, summary="The commission's sittings, first first")
async def list_sittings(commission_id: uuid.UUID, session: SessionDep, identity: Caller) -> list[SittingPublic]:
    commission, _ = await service.require_commission(session, commission_id, identity)
    return [await sitting_view(session, s) for s in await service.sittings_of(session, commission.id)]


@router.get("/{commission_id}/sittings/{sitting_id}", responses=RESPONSES,
            summary="A sitting: agenda, attendance, quorum per party, decisions with positions, minutes")
async def get_sitting(commission_id: uuid.UUID, sitting_id: uuid.UUID, session: SessionDep,
                      identity: Caller) -> SittingPublic:
    commission, _ = await service.require_commission(session, commission_id, identity)
    return await sitting_view(session, await service.require_sitting(session, commission, sitting_id))


@router.post("/{commission_id}/sittings/{sitting_id}/cancellation", responses=RESPONSES,
             summary="The secretariat cancels a sitting not yet held")
async def cancel_sitting(commission_id: uuid.UUID, sitting_id: uuid.UUID, session: SessionDep,
                         identity: Caller) -> SittingPublic:
    sitting = await service.cancel_sitting(session, commission_id, sitting_id, identity=identity)
    await session.commit()
    return await sitting_view(session, sitting)


@router.post("/{commission_id}/sittings/{sitting_id}/agenda", status_code=status.HTTP_201_CREATED,
             responses=RESPONSES, summary="A party proposes an agenda item, with its documents")
async def add_agenda_item(commission_id: uuid.UUID, sitting_id: uuid.UUID, body: AgendaItemIn, session: SessionDep,
                          identity: Caller) -> SittingPublic:
    item = await service.add_agenda_item(session, commission_id, sitting_id, body=body, identity=identity)
    await session.commit()
    sitting = await session.get(Sitting, item.sitting_id)
    assert sitting is not None
    return await sitting_view(session, sitting)


@router.post("/{commission_id}/sittings/{sitting_id}/attendance", responses=RESPONSES,
             summary="The secretariat records attendance; quorum is checked per party")
async def record_attendance(commission_id: uuid.UUID, sitting_id: uuid.UUID, body: AttendanceIn,
                            session: SessionDep, identity: Caller) -> SittingPublic:
    sitting = await service.record_attendance(session, commission_id, sitting_id, body=body, identity=identity)
    await session.commit()
    return await sitting_view(session, sitting)


@router.post("/{commission_id}/sittings/{sitting_id}/decisions", status_code=status.HTTP_201_CREATED,
             responses=RESPONSES, summary="The secretariat records a decision with each party's position")
async def record_decision(commission_id: uuid.UUID, sitting_id: uuid.UUID, body: DecisionIn, session: SessionDep,
                          identity: Caller) -> DecisionPublic:
    decision = await service.record_decision(session, commission_id, sitting_id, body=body, identity=identity)
    await session.commit()
    return DecisionPublic(id=decision.id, number=decision.number, agenda_item_number=decision.agenda_item_number,
                          text=decision.text, positions=[PositionIn.model_validate(p) for p in decision.positions],
                          adopted=decision.adopted, rules=decision.rules)


@router.post("/{commission_id}/sittings/{sitting_id}/minutes", responses=RESPONSES,
             summary="The secretariat publishes the minutes to the parties")
async def publish_minutes(commission_id: uuid.UUID, sitting_id: uuid.UUID, body: MinutesIn, session: SessionDep,
                          identity: Caller) -> SittingPublic:
    sitting = await service.publish_minutes(session, commission_id, sitting_id, body=body, identity=identity)
    await session.commit()
    return await sitting_view(session, sitting)


# --- consultations -------------------------------------------------------------------------

@router.post("/{commission_id}/consultations", status_code=status.HTTP_201_CREATED, responses=RESPONSES,
             summary="A party puts a draft regulation or policy before the commission for positions")
async def open_consultation(commission_id: uuid.UUID, body: ConsultationCreate, session: SessionDep,
                            identity: Caller) -> ConsultationPublic:
    consultation = await service.open_consultation(session, commission_id, body=body, identity=identity)
    await session.commit()
    return await consultation_view(session, consultation)


@router.get("/{commission_id}/consultations", responses=RESPONSES, summary="Consultations, newest first")
async def list_consultations(commission_id: uuid.UUID, session: SessionDep, identity: Caller,
                             status: Annotated[ConsultationStatus | None, Query()] = None
                             ) -> list[ConsultationPublic]:
    commission, _ = await service.require_commission(session, commission_id, identity)
    return [await consultation_view(session, c)
            for c in await service.consultations_of(session, commission.id, status)]


@router.get("/{commission_id}/consultations/{consultation_id}", responses=RESPONSES,
            summary="A consultation with every party's position side by side (overdue ones flagged)")
async def get_consultation(commission_id: uuid.UUID, consultation_id: uuid.UUID, session: SessionDep,
                           identity: Caller) -> ConsultationPublic:
    commission, _ = await service.require_commission(session, commission_id, identity)
    return await consultation_view(session, await service.require_consultation(session, commission,
                                                                               consultation_id))


@router.post("/{commission_id}/consultations/{consultation_id}/positions", status_code=status.HTTP_201_CREATED,
             responses=RESPONSES, summary="A party files its position: support, support with amendments, oppose")
async def file_position(commission_id: uuid.UUID, consultation_id: uuid.UUID, body: ConsultationPositionIn,
                        session: SessionDep, identity: Caller) -> ConsultationPublic:
    consultation = await service.file_position(session, commission_id, consultation_id, body=body,
                                               identity=identity)
    await session.commit()
    return await consultation_view(session, consultation)


@router.post("/{commission_id}/consultations/{consultation_id}/result", responses=RESPONSES,
             summary="The secretariat publishes the consultation's result and closes it")
async def close_consultation(commission_id: uuid.UUID, consultation_id: uuid.UUID, body: ConsultationResultIn,
                             session: SessionDep, identity: Caller) -> ConsultationPublic:
    consultation = await service.close_consultation(session, commission_id, consultation_id, body=body,
                                                    identity=identity)
    await session.commit()
    return await consultation_view(session, consultation)


# --- information exchange ------------------------------------------------------------------

@router.post("/{commission_id}/notices", status_code=status.HTTP_201_CREATED, responses=RESPONSES,
             summary="Share a notice and documents with every party of the commission")
async def share_notice(commission_id: uuid.UUID, body: NoticeIn, session: SessionDep,
                       identity: Caller) -> NoticePublic:
    notice = await service.share_notice(session, commission_id, body=body, identity=identity)
    await session.commit()
    return notice_view(notice, [], await service.parties_of(session, notice.commission_id))


@router.get("/{commission_id}/notices", responses=RESPONSES, summary="Notices, newest first, with read receipts")
async def list_notices(commission_id: uuid.UUID, session: SessionDep, identity: Caller) -> list[NoticePublic]:
    commission, parties = await service.require_commission(session, commission_id, identity)
    notices = await service.notices_of(session, commission.id)
    receipts = await service.receipts_of(session, [n.id for n in notices])
    return [notice_view(n, receipts[n.id], parties) for n in notices]


@router.post("/{commission_id}/notices/{notice_id}/receipt", responses=RESPONSES,
             summary="An organisation of the commission confirms it read the notice")
async def mark_read(commission_id: uuid.UUID, notice_id: uuid.UUID, session: SessionDep,
                    identity: Caller) -> NoticePublic:
    notice = await service.mark_read(session, commission_id, notice_id, identity=identity)
    await session.commit()
    parties = await service.parties_of(session, notice.commission_id)
    return notice_view(notice, (await service.receipts_of(session, [notice.id]))[notice.id], parties)
