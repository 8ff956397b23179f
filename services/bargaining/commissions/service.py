"""Tripartite commissions: composition, sittings, consultations and information exchange.

Never commits (the route's unit of work does). Every event names every organisation sitting in
the commission. The secretariat (staff with the role bargaining_officer or administrator) manages
the commission; each party's organisations appoint their own members, propose agenda items, file
positions and share information for their own party; anyone else gets 404 as for a missing id.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import bargaining as contracts
from contracts.bargaining import CommissionLevel, PartyPosition, Side
from kernel.calendar import checked_day, kazakhstan_today, load_calendar
from kernel.db import upsert, utcnow
from kernel.deadlines import Deadline, cancel_deadline, lock_deadlines_of, meet_deadline, schedule_deadline
from kernel.events import EventData
from kernel.identity import Identity
from kernel.outbox import record_event
from kernel.problems import Conflict, FieldError, NotFound, Problem, invalid
from services.bargaining.access import STAFF_ACTORS, STAFF_READERS, actor_of, is_staff
from services.bargaining.commissions import rules
from services.bargaining.commissions.models import (
    AgendaItem,
    Commission,
    CommissionParty,
    CommissionSeat,
    Consultation,
    ConsultationPosition,
    Decision,
    Notice,
    NoticeReceipt,
    Sitting,
)
from services.bargaining.commissions.rules import PARTIES, ConsultationStatus, MemberRole, SittingStatus
from services.bargaining.commissions.schemas import (
    AgendaItemIn,
    AttendanceIn,
    CommissionCreate,
    ConsultationCreate,
    ConsultationPositionIn,
    ConsultationResultIn,
    DecisionIn,
    MemberIn,
    MinutesIn,
    NoticeIn,
    Recall,
    SittingCreate,
)
from services.bargaining.parties.models import Party
from services.bargaining.parties.rules import may_bargain

SOURCE = "/bargaining"
CONSULTATION = "consultation_position"  # one deadline per party: its position on a draft


def consultation_key(consultation_id: uuid.UUID, side: Side | str) -> str:
    return f"{CONSULTATION}:{consultation_id}:{Side(side).value}"


def _forbidden(detail: str) -> Problem:
    return Problem(403, "forbidden", "Forbidden", detail)


def law_on(day: date, pointer: str) -> rules.CommissionRules:
    """The commission rules in force on ``day``, or a clear answer naming the field if none were."""
    try:
        return rules.rules_on(day)
    except LookupError:
        first = rules.all_rules()[0].effective_from
        raise invalid(pointer, "rules_in_force", f"no commission rules are in force before {first}") from None


def _validation(errors: list[FieldError]) -> Problem:
    return Problem(422, "validation", "Invalid request", "One or more fields are invalid; see errors.", errors=errors)


# --- loading, access and events ------------------------------------------------------------

async def parties_of(session: AsyncSession, commission_id: uuid.UUID) -> list[CommissionParty]:
    query = (select(CommissionParty).where(CommissionParty.commission_id == commission_id)
             .order_by(CommissionParty.side, CommissionParty.name_ru, CommissionParty.organisation_id))
    return list((await session.execute(query)).scalars())


def audience(parties: Sequence[CommissionParty], side: Side | None = None) -> list[uuid.UUID]:
    return sorted({p.organisation_id for p in parties if side is None or p.side == side.value}, key=str)


def party_of(identity: Identity, parties: Sequence[CommissionParty]) -> CommissionParty | None:
    if identity.organisation_id is None:
        return None
    return next((p for p in parties if str(p.organisation_id) == identity.organisation_id), None)


async def require_commission(session: AsyncSession, commission_id: uuid.UUID, identity: Identity, *,
                             for_update: bool = False) -> tuple[Commission, list[CommissionParty]]:
    """The commission if the caller may see it (staff, or an organisation sitting in it); 404 otherwise."""
    commission = await session.get(Commission, commission_id, with_for_update=for_update,
                                   populate_existing=for_update)
    if commission is None:
        raise NotFound("commission")
    parties = await parties_of(session, commission.id)
    if not is_staff(identity, *STAFF_READERS) and party_of(identity, parties) is None:
        raise NotFound("commission")
    return commission, parties


def require_secretariat(identity: Identity) -> None:
    if not is_staff(identity, *STAFF_ACTORS):
        raise _forbidden("The commission's secretariat does this: staff with the role bargaining_officer or "
                         "administrator.")


def acting_side(identity: Identity, parties: Sequence[CommissionParty], requested: Side | None,
                pointer: str = "/side") -> Side:
    """The party the caller acts for: an organisation for its own, the secretariat for the party it names."""
    party = party_of(identity, parties)
    if party is not None:
        if requested is not None and requested.value != party.side:
            raise invalid(pointer, "own_party", f"an organisation acts for its own party ({party.side})")
        return Side(party.side)
    require_secretariat(identity)
    if requested is None:
        raise invalid(pointer, "required", "the secretariat recording an act names the party it is for")
    return requested


def _emit(session: AsyncSession, event_class: type[EventData], commission: Commission,
          parties: Sequence[CommissionParty], /, **fields: Any) -> None:
    record_event(session, event_class(audience=audience(parties), commission_id=commission.id,
                                      commission_level=CommissionLevel(commission.level), **fields),
                 source=SOURCE)


def _touch(row: Any) -> None:
    row.updated_at = utcnow()


async def _next_number(session: AsyncSession, column: Any, where: Any) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(column), 0)).where(where)) or 0) + 1


# --- commissions and members ---------------------------------------------------------------

async def create_commission(session: AsyncSession, *, body: CommissionCreate, identity: Identity) -> Commission:
    require_secretariat(identity)
    law_on(body.term_from, "/term_from")
    errors: list[FieldError] = []
    found: list[tuple[str, Side, str]] = []
    names: dict[uuid.UUID, str] = {}
    for index, listed in enumerate(body.parties):
        party = await session.get(Party, listed.organisation_id)
        pointer = f"/parties/{index}/organisation_id"
        if party is None:
            errors.append(FieldError(pointer=pointer, rule="known_party",
                                     detail=f"organisation {listed.organisation_id} is not in the register known "
                                            "to bargaining"))
            continue
        if not may_bargain(party.registry_status):
            errors.append(FieldError(pointer=pointer, rule="eligible_party",
                                     detail=f"{party.name_ru} has registry status '{party.registry_status}'"))
        names[party.id] = party.name_ru
        found.append((party.name_ru, listed.side, party.kind))
    if not errors:
        for index, rule, detail in rules.party_problems(body.level, found):
            pointer = f"/parties/{index}" if index < len(body.parties) else "/parties"
            errors.append(FieldError(pointer=pointer, rule=rule, detail=detail))
    if errors:
        raise _validation(errors)
    commission = Commission(name=body.name, level=body.level.value, sector=body.sector, region_code=body.region_code,
                            chair_name=body.chair_name, chair_position=body.chair_position,
                            secretariat=body.secretariat, term_from=body.term_from, term_to=body.term_to,
                            created_by=actor_of(identity))
    session.add(commission)
    await session.flush()
    for listed in body.parties:
        session.add(CommissionParty(commission_id=commission.id, organisation_id=listed.organisation_id,
                                    side=listed.side.value, name_ru=names[listed.organisation_id]))
    await session.flush()
    return commission


async def seats_of(session: AsyncSession, commission_id: uuid.UUID, *,
                   serving_only: bool = True) -> list[CommissionSeat]:
    query = select(CommissionSeat).where(CommissionSeat.commission_id == commission_id)
    if serving_only:
        query = query.where(CommissionSeat.recalled_on.is_(None))  # type: ignore[union-attr]
    query = query.order_by(CommissionSeat.side, CommissionSeat.role, CommissionSeat.name)
    return list((await session.execute(query)).scalars())


async def list_commissions(session: AsyncSession, *, identity: Identity, level: CommissionLevel | None,
                           limit: int, offset: int) -> tuple[list[Commission], int]:
    query = select(Commission)
    if not is_staff(identity, *STAFF_READERS):
        if identity.organisation_id is None:
            return [], 0
        own = select(CommissionParty.commission_id).where(
            CommissionParty.organisation_id == uuid.UUID(identity.organisation_id))
        query = query.where(Commission.id.in_(own))  # type: ignore[attr-defined]
    if level is not None:
        query = query.where(Commission.level == level.value)
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = (await session.execute(query.order_by(Commission.level, Commission.name, Commission.id)
                                  .limit(limit).offset(offset))).scalars().all()
    return list(rows), total


async def appoint(session: AsyncSession, commission_id: uuid.UUID, *, body: MemberIn,
                  identity: Identity) -> CommissionSeat:
    """A party's organisation appoints one of its members or alternates (the secretariat may record it)."""
    commission, parties = await require_commission(session, commission_id, identity, for_update=True)
    own = party_of(identity, parties)
    if own is not None:
        if body.organisation_id is not None and body.organisation_id != own.organisation_id:
            raise invalid("/organisation_id", "own_members", "an organisation appoints only its own members")
        appointing = own
    else:
        require_secretariat(identity)
        if body.organisation_id is None:
            raise invalid("/organisation_id", "required", "the secretariat recording an appointment names the "
                                                          "appointing organisation")
        named = next((p for p in parties if p.organisation_id == body.organisation_id), None)
        if named is None:
            raise invalid("/organisation_id", "party_of_commission", "the organisation does not sit in this "
                                                                     "commission")
        appointing = named
    term_from = body.term_from or commission.term_from
    term_to = body.term_to or commission.term_to
    errors = []
    if term_from < commission.term_from or term_from > commission.term_to:
        errors.append(FieldError(pointer="/term_from", rule="within_commission_term",
                                 detail=f"the term of office lies within the commission's "
                                        f"({commission.term_from} to {commission.term_to})"))
    if term_to > commission.term_to or term_to < term_from:
        errors.append(FieldError(pointer="/term_to", rule="within_commission_term",
                                 detail=f"the term of office ends after it begins and by {commission.term_to}"))
    if errors:
        raise _validation(errors)
    side = Side(appointing.side)
    # Seats whose term of office overlaps the new one count against the party's limit.
    serving = sum(1 for seat in await seats_of(session, commission.id)
                  if seat.side == side.value and seat.role == body.role.value
                  and seat.term_from <= term_to and seat.term_to >= term_from)
    law = rules.rules_on(term_from)
    problem = rules.appointment_problem(CommissionLevel(commission.level), body.role, serving, law)
    if problem:
        raise invalid("/role", "max_per_party", problem)
    seat = CommissionSeat(commission_id=commission.id, organisation_id=appointing.organisation_id, side=side.value,
                          role=body.role.value, name=body.name, position=body.position, term_from=term_from,
                          term_to=term_to, appointed_by=actor_of(identity))
    session.add(seat)
    _touch(commission)
    await session.flush()
    return seat


async def recall(session: AsyncSession, commission_id: uuid.UUID, member_id: uuid.UUID, *, body: Recall,
                 identity: Identity) -> CommissionSeat:
    commission, parties = await require_commission(session, commission_id, identity, for_update=True)
    seat = await session.get(CommissionSeat, member_id, with_for_update=True, populate_existing=True)
    if seat is None or seat.commission_id != commission.id:
        raise NotFound("member")
    if not identity.acts_for(seat.organisation_id):
        if party_of(identity, parties) is not None:
            raise _forbidden("An organisation recalls only the members it appointed.")
        require_secretariat(identity)
    if seat.recalled_on is not None:
        raise Conflict(f"{seat.name} was recalled on {seat.recalled_on}.")
    seat.recalled_on = checked_day(body.recalled_on, "/recalled_on")
    _touch(commission)
    return seat


# --- sittings ------------------------------------------------------------------------------

async def require_sitting(session: AsyncSession, commission: Commission, sitting_id: uuid.UUID, *,
                          for_update: bool = False) -> Sitting:
    sitting = await session.get(Sitting, sitting_id, with_for_update=for_update, populate_existing=for_update)
    if sitting is None or sitting.commission_id != commission.id:
        raise NotFound("sitting")
    return sitting


async def sittings_of(session: AsyncSession, commission_id: uuid.UUID) -> list[Sitting]:
    query = select(Sitting).where(Sitting.commission_id == commission_id).order_by(Sitting.number)
    return list((await session.execute(query)).scalars())


async def agenda_of(session: AsyncSession, sitting_id: uuid.UUID) -> list[AgendaItem]:
    query = select(AgendaItem).where(AgendaItem.sitting_id == sitting_id).order_by(AgendaItem.number)
    return list((await session.execute(query)).scalars())


async def decisions_of(session: AsyncSession, sitting_id: uuid.UUID) -> list[Decision]:
    query = select(Decision).where(Decision.sitting_id == sitting_id).order_by(Decision.number)
    return list((await session.execute(query)).scalars())


async def schedule_sitting(session: AsyncSession, commission_id: uuid.UUID, *, body: SittingCreate,
                           identity: Identity) -> Sitting:
    commission, parties = await require_commission(session, commission_id, identity, for_update=True)
    require_secretariat(identity)
    if not commission.term_from <= body.held_on <= commission.term_to:
        raise invalid("/held_on", "within_commission_term", f"the commission sits from {commission.term_from} to "
                                                            f"{commission.term_to}")
    number = await _next_number(session, Sitting.number, Sitting.commission_id == commission.id)
    sitting = Sitting(commission_id=commission.id, number=number, held_on=body.held_on, place=body.place,
                      remote=body.remote, status=SittingStatus.scheduled.value, scheduled_by=actor_of(identity))
    session.add(sitting)
    await session.flush()
    _emit(session, contracts.SittingScheduled, commission, parties, sitting_id=sitting.id, number=number,
          held_on=sitting.held_on, place=sitting.place, remote=sitting.remote)
    return sitting


async def cancel_sitting(session: AsyncSession, commission_id: uuid.UUID, sitting_id: uuid.UUID, *,
                         identity: Identity) -> Sitting:
    """The secretariat cancels a sitting not yet held; the parties are told."""
    commission, parties = await require_commission(session, commission_id, identity)
    require_secretariat(identity)
    sitting = await require_sitting(session, commission, sitting_id, for_update=True)
    if sitting.status != SittingStatus.scheduled:
        raise Conflict(f"Sitting {sitting.number} is {sitting.status}; only a scheduled sitting is cancelled.",
                       status_now=sitting.status)
    sitting.status = SittingStatus.cancelled.value
    _touch(sitting)
    _emit(session, contracts.SittingCancelled, commission, parties, sitting_id=sitting.id, number=sitting.number,
          held_on=sitting.held_on)
    return sitting


async def add_agenda_item(session: AsyncSession, commission_id: uuid.UUID, sitting_id: uuid.UUID, *,
                          body: AgendaItemIn, identity: Identity) -> AgendaItem:
    """Any party proposes an item for a sitting not yet held."""
    commission, parties = await require_commission(session, commission_id, identity)
    side = acting_side(identity, parties, body.side)
    sitting = await require_sitting(session, commission, sitting_id, for_update=True)
    if sitting.status != SittingStatus.scheduled:
        raise Conflict(f"Sitting {sitting.number} is {sitting.status}; items are proposed before it is held.",
                       status_now=sitting.status)
    number = await _next_number(session, AgendaItem.number, AgendaItem.sitting_id == sitting.id)
    documents = [d.model_dump() for d in body.documents]
    item = AgendaItem(sitting_id=sitting.id, number=number, title=body.title, summary=body.summary, side=side.value,
                      documents=documents, proposed_by=actor_of(identity))
    session.add(item)
    _touch(sitting)
    await session.flush()
    _emit(session, contracts.AgendaItemProposed, commission, parties, sitting_id=sitting.id, item_number=number,
          title=body.title, proposed_by_side=side, documents=documents)
    return item


async def record_attendance(session: AsyncSession, commission_id: uuid.UUID, sitting_id: uuid.UUID, *,
                            body: AttendanceIn, identity: Identity) -> Sitting:
    """The secretariat records who is present; quorum is checked per party (rule data)."""
    commission, _ = await require_commission(session, commission_id, identity)
    require_secretariat(identity)
    sitting = await require_sitting(session, commission, sitting_id, for_update=True)
    if sitting.status not in (SittingStatus.scheduled, SittingStatus.held):
        raise Conflict(f"Sitting {sitting.number} is {sitting.status}; attendance is recorded at the sitting.",
                       status_now=sitting.status)
    if sitting.held_on > kazakhstan_today():
        raise Conflict(f"Sitting {sitting.number} is on {sitting.held_on}; attendance is recorded on the day.",
                       held_on=sitting.held_on.isoformat())
    if await decisions_of(session, sitting.id):
        raise Conflict(f"Sitting {sitting.number} has taken decisions on the attendance recorded; it stands.")
    # Quorum counts the members in office on the day of the sitting.
    seats = {s.id: s for s in await seats_of(session, commission.id)
             if s.term_from <= sitting.held_on <= s.term_to}
    errors = [FieldError(pointer=f"/present/{i}", rule="member_of_commission",
                         detail="not a member or alternate of this commission in office on the day")
              for i, member_id in enumerate(body.present) if member_id not in seats]
    if len(set(body.present)) != len(body.present):
        errors.append(FieldError(pointer="/present", rule="once", detail="each person is listed once"))
    errors += [FieldError(pointer=f"/remote/{i}", rule="present", detail="a remote participant is listed as present")
               for i, member_id in enumerate(body.remote) if member_id not in body.present]
    if errors:
        raise _validation(errors)
    members = Counter(Side(s.side) for s in seats.values() if s.role == MemberRole.member.value)
    present = [seats[m] for m in body.present]
    present_members = Counter(Side(s.side) for s in present if s.role == MemberRole.member.value)
    present_alternates = Counter(Side(s.side) for s in present if s.role == MemberRole.alternate.value)
    quorum = rules.quorum(members, present_members, present_alternates, rules.rules_on(sitting.held_on))
    remote = set(body.remote)
    sitting.attendance = [{"member_id": str(s.id), "name": s.name, "side": s.side, "role": s.role,
                           "remote": s.id in remote} for s in present]
    sitting.quorum = [q.model_dump(mode="json") for q in quorum]
    sitting.quorum_met = all(q.met for q in quorum)
    sitting.status = SittingStatus.held.value
    _touch(sitting)
    return sitting


async def record_decision(session: AsyncSession, commission_id: uuid.UUID, sitting_id: uuid.UUID, *,
                          body: DecisionIn, identity: Identity) -> Decision:
    commission, parties = await require_commission(session, commission_id, identity)
    require_secretariat(identity)
    sitting = await require_sitting(session, commission, sitting_id, for_update=True)
    if sitting.status != SittingStatus.held:
        raise Conflict(f"Sitting {sitting.number} is {sitting.status}; decisions are recorded once attendance is "
                       "recorded and before the minutes are published.", status_now=sitting.status)
    if not sitting.quorum_met:
        short = [q["side"] for q in sitting.quorum if not q["met"]]
        raise Conflict(f"Sitting {sitting.number} has no quorum of: {', '.join(short)}; it cannot decide.",
                       quorum=sitting.quorum)
    errors = []
    sides = [p.side for p in body.positions]
    if sorted(sides) != sorted(PARTIES):
        errors.append(FieldError(pointer="/positions", rule="every_party",
                                 detail="one position for each of the three parties"))
    for index, given in enumerate(body.positions):
        if given.position in rules.POSITION_NEEDS_TEXT and given.text is None:
            errors.append(FieldError(pointer=f"/positions/{index}/text", rule="reasons_given",
                                     detail=f"a position '{given.position.value}' states its reasons"))
    if body.agenda_item_number is not None and body.agenda_item_number not in {
            i.number for i in await agenda_of(session, sitting.id)}:
        errors.append(FieldError(pointer="/agenda_item_number", rule="agenda_item",
                                 detail="no such item on this sitting's agenda"))
    if errors:
        raise _validation(errors)
    law = rules.rules_on(sitting.held_on)
    positions: dict[Side, PartyPosition] = {p.side: p.position for p in body.positions}
    is_adopted = rules.adopted(positions, law)
    number = await _next_number(session, Decision.number, Decision.sitting_id == sitting.id)
    ordered = sorted(body.positions, key=lambda p: PARTIES.index(p.side))
    decision = Decision(sitting_id=sitting.id, number=number, agenda_item_number=body.agenda_item_number,
                        text=body.text, positions=[p.model_dump(mode="json") for p in ordered], adopted=is_adopted,
                        rules=law.code, recorded_by=actor_of(identity))
    session.add(decision)
    _touch(sitting)
    await session.flush()
    _emit(session, contracts.DecisionRecorded, commission, parties, sitting_id=sitting.id, decision_id=decision.id,
          decision_number=number, agenda_item_number=body.agenda_item_number, text=body.text,
          positions=[contracts.DecisionPosition(side=p.side, position=p.position, text=p.text) for p in ordered],
          adopted=is_adopted)
    return decision


async def publish_minutes(session: AsyncSession, commission_id: uuid.UUID, sitting_id: uuid.UUID, *,
                          body: MinutesIn, identity: Identity) -> Sitting:
    commission, parties = await require_commission(session, commission_id, identity)
    require_secretariat(identity)
    sitting = await require_sitting(session, commission, sitting_id, for_update=True)
    if sitting.status != SittingStatus.held:
        raise Conflict(f"Sitting {sitting.number} is {sitting.status}; minutes are published once, after the "
                       "sitting is held.", status_now=sitting.status)
    published_on = checked_day(body.published_on, "/published_on", not_before=sitting.held_on, what="the sitting")
    sitting.minutes = body.text
    sitting.minutes_documents = [d.model_dump() for d in body.documents]
    sitting.minutes_published_on = published_on
    sitting.status = SittingStatus.minutes_published.value
    _touch(sitting)
    decisions = await decisions_of(session, sitting.id)
    _emit(session, contracts.MinutesPublished, commission, parties, sitting_id=sitting.id, number=sitting.number,
          held_on=sitting.held_on, published_on=published_on,
          quorum=[contracts.PartyQuorum.model_validate(q) for q in sitting.quorum], decisions=len(decisions))
    return sitting


# --- consultations -------------------------------------------------------------------------

async def require_consultation(session: AsyncSession, commission: Commission, consultation_id: uuid.UUID, *,
                               for_update: bool = False) -> Consultation:
    consultation = await session.get(Consultation, consultation_id, with_for_update=for_update,
                                     populate_existing=for_update)
    if consultation is None or consultation.commission_id != commission.id:
        raise NotFound("consultation")
    return consultation


async def positions_of(session: AsyncSession, consultation_id: uuid.UUID) -> list[ConsultationPosition]:
    query = select(ConsultationPosition).where(ConsultationPosition.consultation_id == consultation_id)
    return list((await session.execute(query)).scalars())


async def consultations_of(session: AsyncSession, commission_id: uuid.UUID,
                           status: ConsultationStatus | None) -> list[Consultation]:
    query = select(Consultation).where(Consultation.commission_id == commission_id)
    if status is not None:
        query = query.where(Consultation.status == status.value)
    return list((await session.execute(query.order_by(Consultation.opened_on.desc(),  # type: ignore[attr-defined]
                                                      Consultation.id))).scalars())


async def open_consultation(session: AsyncSession, commission_id: uuid.UUID, *, body: ConsultationCreate,
                            identity: Identity) -> Consultation:
    """A party puts a draft before the commission; each party owes its position within the period (working
    days), tracked as one deadline per party."""
    commission, parties = await require_commission(session, commission_id, identity)
    side = acting_side(identity, parties, body.side)
    opened_on = checked_day(body.opened_on, "/opened_on")
    law = law_on(opened_on, "/opened_on")
    calendar = await load_calendar(session)
    working_days = body.working_days or law.consultation_working_days.value
    due = rules.positions_due(opened_on, working_days, calendar)
    consultation = Consultation(commission_id=commission.id, title=body.title, summary=body.summary,
                                documents=[d.model_dump() for d in body.documents], opened_by_side=side.value,
                                opened_on=opened_on, working_days=working_days, positions_due=due,
                                status=ConsultationStatus.open.value, opened_by=actor_of(identity))
    session.add(consultation)
    await session.flush()
    reminder = rules.positions_reminder_on(due, opened_on, law, calendar)
    for party_side in PARTIES:
        await schedule_deadline(
            session, key=consultation_key(consultation.id, party_side), kind=CONSULTATION,
            subject_id=consultation.id, due_on=due, approaching_on=reminder,
            audience=audience(parties, party_side), article=law.consultation_working_days.article,
            details={"rules": law.code, "commission_id": str(commission.id), "side": party_side.value,
                     "title": consultation.title})
    _emit(session, contracts.ConsultationOpened, commission, parties, consultation_id=consultation.id,
          title=consultation.title, opened_by_side=side, opened_on=opened_on, positions_due=due,
          documents=consultation.documents)
    return consultation


async def file_position(session: AsyncSession, commission_id: uuid.UUID, consultation_id: uuid.UUID, *,
                        body: ConsultationPositionIn, identity: Identity) -> Consultation:
    commission, parties = await require_commission(session, commission_id, identity)
    side = acting_side(identity, parties, body.side)
    await lock_deadlines_of(session, consultation_id)
    consultation = await require_consultation(session, commission, consultation_id, for_update=True)
    if consultation.status != ConsultationStatus.open:
        raise Conflict(f"The consultation was closed on {consultation.closed_on}.", status_now=consultation.status)
    if await session.get(ConsultationPosition, (consultation.id, side.value)) is not None:
        raise Conflict(f"The {side.value} party has filed its position already.")
    filed_on = checked_day(body.filed_on, "/filed_on", not_before=consultation.opened_on, what="the draft")
    # Late when filed after the last day, or after the sweeper found it missing at the deadline.
    late = filed_on > consultation.positions_due or side.value in consultation.overdue_sides
    session.add(ConsultationPosition(consultation_id=consultation.id, side=side.value, position=body.position.value,
                                     text=body.text, filed_on=filed_on, late=late, filed_by=actor_of(identity)))
    _touch(consultation)
    await meet_deadline(session, consultation_key(consultation.id, side))
    await session.flush()
    _emit(session, contracts.PositionFiled, commission, parties, consultation_id=consultation.id, side=side,
          position=body.position, filed_on=filed_on, late=late)
    return consultation


async def close_consultation(session: AsyncSession, commission_id: uuid.UUID, consultation_id: uuid.UUID, *,
                             body: ConsultationResultIn, identity: Identity) -> Consultation:
    """The secretariat publishes the result; positions not filed by then are owed no more."""
    commission, parties = await require_commission(session, commission_id, identity)
    require_secretariat(identity)
    await lock_deadlines_of(session, consultation_id)
    consultation = await require_consultation(session, commission, consultation_id, for_update=True)
    if consultation.status != ConsultationStatus.open:
        raise Conflict(f"The consultation was closed on {consultation.closed_on}.", status_now=consultation.status)
    closed_on = checked_day(body.closed_on, "/closed_on", not_before=consultation.opened_on, what="the draft")
    filed = {p.side: p for p in await positions_of(session, consultation.id)}
    for side in PARTIES:
        if side.value not in filed:
            await cancel_deadline(session, consultation_key(consultation.id, side))
    consultation.status, consultation.result, consultation.closed_on = (ConsultationStatus.closed.value,
                                                                         body.result, closed_on)
    _touch(consultation)
    _emit(session, contracts.ConsultationClosed, commission, parties, consultation_id=consultation.id,
          closed_on=closed_on, result=body.result,
          positions=[contracts.ConsultationPositionSummary(
              side=side, position=filed[side.value].position if side.value in filed else None,
              overdue=side.value in consultation.overdue_sides) for side in PARTIES])
    return consultation


async def on_consultation_missed(session: AsyncSession, deadline: Deadline) -> None:
    """In the sweeper's transaction: a party's position missing at the deadline is flagged overdue. The
    deadline's missed event (audience: that party's organisations) is its one notice."""
    consultation = await session.get(Consultation, uuid.UUID(deadline.subject_id), with_for_update=True,
                                     populate_existing=True)
    side = str(deadline.details.get("side"))
    if consultation is None or consultation.status != ConsultationStatus.open or side in consultation.overdue_sides:
        return
    if await session.get(ConsultationPosition, (consultation.id, side)) is not None:
        return
    consultation.overdue_sides = [*consultation.overdue_sides, side]
    _touch(consultation)


# --- information exchange ------------------------------------------------------------------

async def share_notice(session: AsyncSession, commission_id: uuid.UUID, *, body: NoticeIn,
                       identity: Identity) -> Notice:
    commission, parties = await require_commission(session, commission_id, identity)
    own = party_of(identity, parties)
    if own is not None:
        side: Side | None = acting_side(identity, parties, body.side)
    else:
        require_secretariat(identity)
        side = body.side
    notice = Notice(commission_id=commission.id, title=body.title, body=body.body,
                    documents=[d.model_dump() for d in body.documents], shared_by_side=side.value if side else None,
                    shared_on=kazakhstan_today(), shared_by=actor_of(identity))
    session.add(notice)
    await session.flush()
    _emit(session, contracts.NoticeShared, commission, parties, notice_id=notice.id, title=notice.title,
          shared_on=notice.shared_on, shared_by_side=side, documents=notice.documents)
    return notice


async def require_notice(session: AsyncSession, commission: Commission, notice_id: uuid.UUID) -> Notice:
    notice = await session.get(Notice, notice_id)
    if notice is None or notice.commission_id != commission.id:
        raise NotFound("notice")
    return notice


async def notices_of(session: AsyncSession, commission_id: uuid.UUID) -> list[Notice]:
    query = select(Notice).where(Notice.commission_id == commission_id).order_by(
        Notice.created_at.desc(), Notice.id)  # type: ignore[attr-defined]
    return list((await session.execute(query)).scalars())


async def receipts_of(session: AsyncSession, notice_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[NoticeReceipt]]:
    found: dict[uuid.UUID, list[NoticeReceipt]] = {i: [] for i in notice_ids}
    if notice_ids:
        query = select(NoticeReceipt).where(NoticeReceipt.notice_id.in_(notice_ids)).order_by(  # type: ignore[attr-defined]
            NoticeReceipt.read_at)
        for receipt in (await session.execute(query)).scalars():
            found[receipt.notice_id].append(receipt)
    return found


async def mark_read(session: AsyncSession, commission_id: uuid.UUID, notice_id: uuid.UUID, *,
                    identity: Identity) -> Notice:
    """An organisation of the commission confirms it read a notice; the first reading is kept."""
    commission, parties = await require_commission(session, commission_id, identity)
    own = party_of(identity, parties)
    if own is None:
        raise _forbidden("A read receipt is given by an organisation sitting in the commission.")
    notice = await require_notice(session, commission, notice_id)
    if await session.get(NoticeReceipt, (notice.id, own.organisation_id)) is None:
        await upsert(session, NoticeReceipt, {"notice_id": notice.id, "organisation_id": own.organisation_id,
                                              "side": own.side, "read_at": utcnow()},
                     key=["notice_id", "organisation_id"])
    return notice

