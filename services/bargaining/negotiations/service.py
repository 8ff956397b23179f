"""Negotiations: validate, change state, record events. Never commits (the route's unit of work does).

Every party comes through `eligible_party` (the registry's projection), so an unknown,
lapsed or liquidated organisation is refused by name. Every event names all the parties.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import bargaining as contracts
from contracts.bargaining import Level, OpenClause, Side, SidePosition
from kernel.calendar import checked_day, load_calendar
from kernel.db import utcnow
from kernel.deadlines import Deadline, cancel_deadline, lock_deadlines_of, meet_deadline, schedule_deadline
from kernel.events import EventData
from kernel.identity import Identity
from kernel.outbox import record_event
from kernel.problems import Conflict, FieldError, NotFound, Problem, invalid
from services.bargaining.access import STAFF_ACTORS, STAFF_READERS, actor_of, is_staff
from services.bargaining.negotiations import rules
from services.bargaining.negotiations.models import (
    Clause,
    ClauseVersion,
    CommissionMember,
    DisagreementProtocol,
    Meeting,
    Negotiation,
    NegotiationParty,
    Signature,
)
from services.bargaining.negotiations.rules import (
    CLAUSE_EDITING,
    PROTOCOL_EDITING,
    IllegalTransition,
    NegotiationAction,
    NegotiationStatus,
)
from services.bargaining.negotiations.schemas import (
    Acceptance,
    ClauseCreate,
    ClauseProposal,
    CommissionSide,
    Declining,
    Entry,
    Expiry,
    FilingIn,
    InForce,
    MeetingCreate,
    NegotiationCreate,
    SignatureIn,
    Termination,
)
from services.bargaining.parties.service import eligible_party

SOURCE = "/bargaining"
ENTRY = "negotiation_entry"
EXPIRY = "agreement_expiry"  # the last day of the term; missed: the agreement expires by itself





def entry_key(negotiation_id: uuid.UUID) -> str:
    return f"{ENTRY}:{negotiation_id}"


def expiry_key(negotiation_id: uuid.UUID) -> str:
    return f"{EXPIRY}:{negotiation_id}"


async def schedule_expiry(session: AsyncSession, negotiation: Negotiation,
                          parties: Sequence[NegotiationParty]) -> None:
    """Track the end of the term: a reminder ``expiry_notice_days`` before, and the expiry itself after it."""
    assert negotiation.term_to is not None
    law = rules.rules_on(negotiation.proposed_on)
    await schedule_deadline(
        session, key=expiry_key(negotiation.id), kind=EXPIRY, subject_id=negotiation.id, due_on=negotiation.term_to,
        approaching_on=rules.expiry_reminder_on(negotiation.term_to, law), audience=_audience(parties),
        article=law.term_months.article, details={"rules": law.code, "registration_number":
                                                  negotiation.registration_number})


# --- loading, access and events ------------------------------------------------------------

async def parties_of(session: AsyncSession, negotiation_id: uuid.UUID) -> list[NegotiationParty]:
    query = (select(NegotiationParty).where(NegotiationParty.negotiation_id == negotiation_id)
             .order_by(NegotiationParty.side, NegotiationParty.name_ru, NegotiationParty.organisation_id))
    return list((await session.execute(query)).scalars())


def _sides(parties: Sequence[NegotiationParty]) -> list[Side]:
    present = {Side(p.side) for p in parties}
    return [side for side in Side if side in present]


def _audience(parties: Sequence[NegotiationParty]) -> list[uuid.UUID]:
    return sorted({p.organisation_id for p in parties}, key=str)


def _party_of(identity: Identity, parties: Sequence[NegotiationParty]) -> NegotiationParty | None:
    if identity.organisation_id is None:
        return None
    return next((p for p in parties if str(p.organisation_id) == identity.organisation_id), None)


def may_read(identity: Identity, parties: Sequence[NegotiationParty]) -> bool:
    return is_staff(identity, *STAFF_READERS) or _party_of(identity, parties) is not None


async def require_negotiation(session: AsyncSession, negotiation_id: uuid.UUID, identity: Identity, *,
                              for_update: bool = False) -> tuple[Negotiation, list[NegotiationParty]]:
    """The negotiation if the caller may see it; 404, as for a missing id, otherwise."""
    if for_update:
        await lock_deadlines_of(session, negotiation_id)  # in the sweeper's order: its deadlines, then the negotiation
    negotiation = await session.get(Negotiation, negotiation_id, with_for_update=for_update,
                                    populate_existing=for_update)
    if negotiation is None:
        raise NotFound("negotiation")
    parties = await parties_of(session, negotiation.id)
    if not may_read(identity, parties):
        raise NotFound("negotiation")
    return negotiation, parties


def _acting_side(identity: Identity, parties: Sequence[NegotiationParty], requested: Side | None,
                 pointer: str = "/side") -> Side:
    """The side the caller acts for: an organisation for its own, staff for the side they name."""
    party = _party_of(identity, parties)
    if party is not None:
        if requested is not None and requested != Side(party.side):
            raise invalid(pointer, "own_side", f"an organisation acts for its own side ({party.side})")
        return Side(party.side)
    if not is_staff(identity, *STAFF_ACTORS):
        raise Problem(403, "forbidden", "Forbidden", "This action is for the parties or staff with the role "
                                                     "bargaining_officer or administrator.")
    if requested is None:
        raise invalid(pointer, "required", "staff recording an act name the side it is for")
    if requested not in _sides(parties):
        raise invalid(pointer, "side_of_negotiation", f"this negotiation has no {requested.value} side")
    return requested


def _require_actor(identity: Identity, parties: Sequence[NegotiationParty]) -> None:
    if _party_of(identity, parties) is None and not is_staff(identity, *STAFF_ACTORS):
        raise Problem(403, "forbidden", "Forbidden", "This action is for the parties or staff with the role "
                                                     "bargaining_officer or administrator.")


def _illegal(exc: IllegalTransition) -> Problem:
    return Problem(409, "illegal-transition", "Not allowed in this state", str(exc),
                   status_now=exc.current.value, allowed=[a.value for a in exc.allowed])


def _check(negotiation: Negotiation, action: NegotiationAction) -> NegotiationStatus:
    try:
        return rules.next_status(negotiation.status, action)
    except IllegalTransition as exc:
        raise _illegal(exc) from None


def _transition(negotiation: Negotiation, action: NegotiationAction) -> None:
    negotiation.status = _check(negotiation, action)
    _touch(negotiation)


def _touch(negotiation: Negotiation) -> None:
    negotiation.version += 1
    negotiation.updated_at = utcnow()


def _emit(session: AsyncSession, event_class: type[EventData], negotiation: Negotiation,
          parties: Sequence[NegotiationParty], /, **fields: Any) -> None:
    record_event(session, event_class(audience=_audience(parties), negotiation_id=negotiation.id,
                                      level=Level(negotiation.level), status=negotiation.status, **fields),
                 source=SOURCE)


# --- proposal, entry, refusal, evasion -----------------------------------------------------

async def propose(session: AsyncSession, *, proposal: NegotiationCreate, identity: Identity) -> Negotiation:
    if not is_staff(identity, *STAFF_ACTORS) and identity.organisation_id != str(proposal.initiator_id):
        if identity.organisation_id is None:
            raise Problem(403, "forbidden", "Forbidden", "A proposal is made by a party, or recorded by staff "
                                                         "with the role bargaining_officer or administrator.")
        raise invalid("/initiator_id", "own_proposal", "an organisation proposes bargaining only for itself")
    ids = [p.organisation_id for p in proposal.parties]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise invalid("/parties", "unique_parties", "each organisation appears once: " +
                      ", ".join(sorted(str(d) for d in duplicates)))
    if proposal.initiator_id not in ids:
        raise invalid("/initiator_id", "initiator_is_party", "the initiator must be one of the parties")
    registered = [await eligible_party(session, p.organisation_id) for p in proposal.parties]
    problems = rules.side_problems(proposal.level, [(r.name_ru, p.side, r.kind)
                                                    for r, p in zip(registered, proposal.parties, strict=True)])
    missing = rules.missing_sides(proposal.level, [p.side for p in proposal.parties])
    if problems or missing:
        errors = [FieldError(pointer=f"/parties/{i}" if i < len(ids) else "/parties", rule=rule, detail=detail)
                  for i, rule, detail in problems]
        errors += [FieldError(pointer="/parties", rule="sides_of_level",
                              detail=f"a {proposal.level.value} negotiation needs the {side.value} side")
                   for side in missing]
        raise Problem(422, "validation", "Invalid request", "The parties do not fit the level; see errors.",
                      errors=errors)
    proposed_on = checked_day(proposal.proposed_on, "/proposed_on")
    try:
        law = rules.rules_on(proposed_on)
    except LookupError as exc:
        raise invalid("/proposed_on", "rules_in_force", str(exc)) from None
    due = rules.entry_due(proposed_on, law, await load_calendar(session))
    negotiation = Negotiation(level=proposal.level.value, status=NegotiationStatus.proposed.value,
                              subject_matter=proposal.subject_matter, initiator_id=proposal.initiator_id,
                              proposed_on=proposed_on, entry_due=due, rules_code=law.code)
    session.add(negotiation)
    await session.flush()
    initiator_side = next(p.side for p in proposal.parties if p.organisation_id == proposal.initiator_id)
    parties = []
    for party, row in zip(proposal.parties, registered, strict=True):
        role = ("initiator" if party.organisation_id == proposal.initiator_id
                else "co_initiator" if party.side == initiator_side else "addressee")
        parties.append(NegotiationParty(negotiation_id=negotiation.id, organisation_id=party.organisation_id,
                                        side=party.side.value, role=role, name_ru=row.name_ru))
    session.add_all(parties)
    await session.flush()
    await schedule_deadline(
        session, key=entry_key(negotiation.id), kind=ENTRY, subject_id=negotiation.id, due_on=due,
        approaching_on=rules.entry_reminder_on(due, proposed_on, law), audience=_audience(parties),
        article=law.entry_period_days.article,
        details={"rules": law.code, "addressees": [str(p.organisation_id) for p in parties if p.role == "addressee"]})
    _emit(session, contracts.NegotiationProposed, negotiation, parties, initiator_id=negotiation.initiator_id,
          subject_matter=negotiation.subject_matter, proposed_on=proposed_on, entry_due=due,
          parties=[contracts.NegotiationParty(organisation_id=p.organisation_id, side=Side(p.side), role=p.role)
                   for p in parties])
    return negotiation


def _addressee(identity: Identity, parties: Sequence[NegotiationParty], named: uuid.UUID | None) -> NegotiationParty:
    party = _party_of(identity, parties)
    if party is None:
        _require_actor(identity, parties)
        if named is None:
            raise invalid("/organisation_id", "required", "staff recording an act name the addressee")
        party = next((p for p in parties if p.organisation_id == named), None)
        if party is None:
            raise invalid("/organisation_id", "party_of_negotiation", "not a party to this negotiation")
    elif named is not None and named != party.organisation_id:
        raise invalid("/organisation_id", "own_act", "an organisation acts only for itself")
    if party.role != "addressee":
        raise invalid("/organisation_id", "addressee", "only an addressee of the proposal enters or declines it")
    return party


async def enter(session: AsyncSession, negotiation_id: uuid.UUID, *, entry: Entry, identity: Identity) -> Negotiation:
    negotiation, parties = await require_negotiation(session, negotiation_id, identity, for_update=True)
    _check(negotiation, NegotiationAction.enter)
    party = _addressee(identity, parties, entry.organisation_id)
    if party.entered_on is not None:
        raise Conflict(f"{party.name_ru} entered negotiations on {party.entered_on.isoformat()}.")
    party.entered_on = checked_day(entry.entered_on, "/entered_on", not_before=negotiation.proposed_on,
                                   what="the proposal")
    if all(p.entered_on is not None for p in parties if p.role == "addressee"):
        late = negotiation.status == NegotiationStatus.evaded
        _transition(negotiation, NegotiationAction.enter)
        negotiation.entered_on = max(p.entered_on for p in parties if p.entered_on is not None)
        await meet_deadline(session, entry_key(negotiation.id))
        _emit(session, contracts.NegotiationEntered, negotiation, parties, entered_on=negotiation.entered_on,
              late=late or negotiation.entered_on > negotiation.entry_due)
    else:
        _touch(negotiation)
    return negotiation


async def decline(session: AsyncSession, negotiation_id: uuid.UUID, *, declining: Declining,
                  identity: Identity) -> Negotiation:
    negotiation, parties = await require_negotiation(session, negotiation_id, identity, for_update=True)
    _check(negotiation, NegotiationAction.decline)
    party = _addressee(identity, parties, declining.organisation_id)
    declined_on = checked_day(declining.declined_on, "/declined_on", not_before=negotiation.proposed_on,
                       what="the proposal")
    _transition(negotiation, NegotiationAction.decline)
    negotiation.declined_reason = declining.reason
    negotiation.ended_on = declined_on
    await meet_deadline(session, entry_key(negotiation.id))  # answered in writing: the period is closed
    _emit(session, contracts.NegotiationDeclined, negotiation, parties, declined_by=party.organisation_id,
          declined_on=declined_on, reason=declining.reason)
    return negotiation


async def on_deadline_missed(session: AsyncSession, deadline: Deadline) -> None:
    """In the sweeper's transaction: an entry period that ran out is recorded as evasion; a term that ran
    out makes the agreement expire."""
    if deadline.kind == EXPIRY:
        await _expire_at_end_of_term(session, uuid.UUID(deadline.subject_id))
        return
    if deadline.kind != ENTRY:
        return
    negotiation = await session.get(Negotiation, uuid.UUID(deadline.subject_id), with_for_update=True)
    if negotiation is None or negotiation.status != NegotiationStatus.proposed:
        return
    parties = await parties_of(session, negotiation.id)
    _transition(negotiation, NegotiationAction.record_evasion)
    _emit(session, contracts.NegotiationEvaded, negotiation, parties, entry_due=negotiation.entry_due,
          not_entered=[p.organisation_id for p in parties if p.role == "addressee" and p.entered_on is None])


async def _expire_at_end_of_term(session: AsyncSession, negotiation_id: uuid.UUID) -> None:
    negotiation = await session.get(Negotiation, negotiation_id, with_for_update=True)
    if negotiation is None or negotiation.status != NegotiationStatus.in_force or negotiation.term_to is None:
        return
    parties = await parties_of(session, negotiation.id)
    _transition(negotiation, NegotiationAction.expire)
    negotiation.ended_on = rules.expired_on(negotiation.term_to)
    _emit(session, contracts.AgreementExpired, negotiation, parties, expired_on=negotiation.ended_on)


# --- the commission ------------------------------------------------------------------------

async def members_of(session: AsyncSession, negotiation_id: uuid.UUID) -> list[CommissionMember]:
    query = (select(CommissionMember).where(CommissionMember.negotiation_id == negotiation_id)
             .order_by(CommissionMember.side, CommissionMember.name))
    return list((await session.execute(query)).scalars())


def parity(negotiation: Negotiation, members: Sequence[CommissionMember]) -> str | None:
    counts: dict[Side, int] = defaultdict(int)
    for member in members:
        counts[Side(member.side)] += 1
    return rules.parity_problem(Level(negotiation.level), counts)


def _parity_problem(detail: str) -> Problem:
    return Problem(422, "parity", "The commission is not on a parity basis",
                   f"The bargaining commission is formed on a parity basis (Labour Code, art. 156): {detail}.",
                   errors=[FieldError(pointer="/commission", rule="parity", detail=detail)])


async def set_commission_side(session: AsyncSession, negotiation_id: uuid.UUID, side: Side, *,
                              commission: CommissionSide, identity: Identity) -> Negotiation:
    negotiation, parties = await require_negotiation(session, negotiation_id, identity, for_update=True)
    _acting_side(identity, parties, side, pointer="path:/side")
    if negotiation.status not in (NegotiationStatus.entered, NegotiationStatus.negotiating):
        raise Conflict(f"The commission is formed once negotiations are entered and before signing; this "
                       f"negotiation is {negotiation.status}.", status_now=negotiation.status)
    on_side = {p.organisation_id for p in parties if p.side == side.value}
    wrong = [i for i, m in enumerate(commission.members) if m.organisation_id not in on_side]
    if wrong:
        raise Problem(422, "validation", "Invalid request", "A member represents a party of this side.",
                      errors=[FieldError(pointer=f"/members/{i}/organisation_id", rule="party_on_side",
                                         detail=f"not a party on the {side.value} side") for i in wrong])
    await session.execute(delete(CommissionMember).where(CommissionMember.negotiation_id == negotiation.id,
                                                         CommissionMember.side == side.value))
    session.add_all(CommissionMember(negotiation_id=negotiation.id, side=side.value, organisation_id=m.organisation_id,
                                     name=m.name, position=m.position) for m in commission.members)
    _touch(negotiation)
    await session.flush()
    return negotiation


async def constitute_commission(session: AsyncSession, negotiation_id: uuid.UUID, *,
                                identity: Identity) -> Negotiation:
    """Parity is checked here, when the commission starts to work, and again before signing."""
    negotiation, parties = await require_negotiation(session, negotiation_id, identity, for_update=True)
    _require_actor(identity, parties)
    _check(negotiation, NegotiationAction.constitute_commission)
    members = await members_of(session, negotiation.id)
    problem = parity(negotiation, members)
    if problem:
        raise _parity_problem(problem)
    _transition(negotiation, NegotiationAction.constitute_commission)
    counts: dict[Side, int] = defaultdict(int)
    for member in members:
        counts[Side(member.side)] += 1
    _emit(session, contracts.CommissionConstituted, negotiation, parties, members_by_side=dict(counts))
    return negotiation


# --- clauses -------------------------------------------------------------------------------

async def clauses_of(session: AsyncSession, negotiation_id: uuid.UUID) -> list[Clause]:
    query = select(Clause).where(Clause.negotiation_id == negotiation_id).order_by(Clause.number)
    return list((await session.execute(query)).scalars())


async def versions_of(session: AsyncSession, clause_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[ClauseVersion]]:
    found: dict[uuid.UUID, list[ClauseVersion]] = defaultdict(list)
    if clause_ids:
        query = (select(ClauseVersion).where(ClauseVersion.clause_id.in_(clause_ids))  # type: ignore[attr-defined]
                 .order_by(ClauseVersion.clause_id, ClauseVersion.number))
        for row in (await session.execute(query)).scalars():
            found[row.clause_id].append(row)
    return found


async def _signatures(session: AsyncSession, negotiation_id: uuid.UUID) -> list[Signature]:
    query = select(Signature).where(Signature.negotiation_id == negotiation_id).order_by(Signature.side)
    return list((await session.execute(query)).scalars())


async def _require_editable(session: AsyncSession, negotiation: Negotiation, clause: Clause | None) -> None:
    status = NegotiationStatus(negotiation.status)
    if status in CLAUSE_EDITING:
        if status is NegotiationStatus.negotiating and await _signatures(session, negotiation.id):
            raise Conflict("The agreement is being signed: a side that signed would have signed another text. "
                           "It withdraws its signature first.", status_now=status.value)
        return
    if status in PROTOCOL_EDITING and clause is not None and clause.in_protocol and clause.status == "open":
        return  # the open clauses of a protocol of disagreements stay under negotiation
    raise Conflict(f"Clauses are negotiated after entry and before signing (afterwards only those left in a "
                   f"protocol of disagreements); this negotiation is {status.value}.", status_now=status.value)


def require_clause_version(clause: Clause, if_match: str | None) -> None:
    """Optimistic concurrency: an edit names the clause version it was based on (ETag / If-Match)."""
    if if_match is None:
        raise Problem(428, "precondition-required", "Precondition required",
                      "Send If-Match with the ETag of the clause you read, so that the other side's concurrent "
                      "proposal is not overwritten.")
    if if_match.strip().removeprefix("W/").strip('"') != str(clause.version):
        raise Problem(412, "precondition-failed", "Precondition failed",
                      f"The clause changed since it was read (now at ETag \"{clause.version}\"); read it again.",
                      current_etag=f'"{clause.version}"')


async def require_clause(session: AsyncSession, negotiation: Negotiation, clause_id: uuid.UUID, *,
                         for_update: bool = False) -> Clause:
    clause = await session.get(Clause, clause_id, with_for_update=for_update, populate_existing=for_update)
    if clause is None or clause.negotiation_id != negotiation.id:
        raise NotFound("clause")
    return clause


def _new_version(session: AsyncSession, negotiation: Negotiation, parties: Sequence[NegotiationParty],
                 clause: Clause, *, number: int, side: Side, text: str, identity: Identity) -> None:
    session.add(ClauseVersion(clause_id=clause.id, number=number, side=side.value, text=text,
                              proposed_by=actor_of(identity)))
    clause.current_version = number
    # A side proposing a text accepts it; every other side has yet to.
    clause.accepted = {side.value: number}
    clause.status = "open"
    clause.agreed_version = None
    clause.version += 1
    clause.updated_at = utcnow()
    _emit(session, contracts.ClauseProposed, negotiation, parties, clause_id=clause.id, number=clause.number,
          category=clause.category, title=clause.title, version=number, side=side, text=text)


async def add_clause(session: AsyncSession, negotiation_id: uuid.UUID, *, body: ClauseCreate,
                     identity: Identity) -> Clause:
    negotiation, parties = await require_negotiation(session, negotiation_id, identity, for_update=True)
    side = _acting_side(identity, parties, body.side)
    await _require_editable(session, negotiation, None)
    number = int(await session.scalar(select(func.coalesce(func.max(Clause.number), 0))
                                      .where(Clause.negotiation_id == negotiation.id)) or 0) + 1
    clause = Clause(negotiation_id=negotiation.id, number=number, category=body.category.value, title=body.title,
                    status="open", current_version=0, version=0)
    session.add(clause)
    await session.flush()
    _new_version(session, negotiation, parties, clause, number=1, side=side, text=body.text, identity=identity)
    await session.flush()
    return clause


async def propose_version(session: AsyncSession, negotiation_id: uuid.UUID, clause_id: uuid.UUID, *,
                          body: ClauseProposal, if_match: str | None, identity: Identity) -> Clause:
    negotiation, parties = await require_negotiation(session, negotiation_id, identity)
    side = _acting_side(identity, parties, body.side)
    # The clause row is locked (PostgreSQL) or the single SQLite connection serialises writers,
    # so of two edits made from the same ETag exactly one finds it unchanged.
    clause = await require_clause(session, negotiation, clause_id, for_update=True)
    await _require_editable(session, negotiation, clause)
    require_clause_version(clause, if_match)
    _new_version(session, negotiation, parties, clause, number=clause.current_version + 1, side=side,
                 text=body.text, identity=identity)
    await session.flush()
    return clause


async def accept(session: AsyncSession, negotiation_id: uuid.UUID, clause_id: uuid.UUID, *, body: Acceptance,
                 if_match: str | None, identity: Identity) -> Clause:
    negotiation, parties = await require_negotiation(session, negotiation_id, identity)
    side = _acting_side(identity, parties, body.side)
    clause = await require_clause(session, negotiation, clause_id, for_update=True)
    await _require_editable(session, negotiation, clause)
    if if_match is not None:
        require_clause_version(clause, if_match)
    problem = rules.acceptance_problem(clause.current_version, body.version)
    if problem:
        raise Problem(409, "stale-version", "Not the current version", problem,
                      errors=[FieldError(pointer="/version", rule="current_version", detail=problem)],
                      current_version=clause.current_version)
    if clause.status == "agreed" or clause.accepted.get(side.value) == body.version:
        raise Conflict(f"The {side.value} side has already accepted version {body.version}.",
                       clause_status=clause.status)
    clause.accepted = {**clause.accepted, side.value: body.version}
    clause.version += 1
    clause.updated_at = utcnow()
    accepted = {Side(s): n for s, n in clause.accepted.items()}
    if rules.is_agreed(clause.current_version, accepted, _sides(parties)):
        clause.status = "agreed"
        clause.agreed_version = clause.current_version
        _emit(session, contracts.ClauseAgreed, negotiation, parties, clause_id=clause.id, number=clause.number,
              category=clause.category, title=clause.title, version=clause.agreed_version,
              after_signing=clause.in_protocol)
    return clause


# --- meetings ------------------------------------------------------------------------------

async def add_meeting(session: AsyncSession, negotiation_id: uuid.UUID, *, body: MeetingCreate,
                      identity: Identity) -> Meeting:
    negotiation, parties = await require_negotiation(session, negotiation_id, identity)
    _require_actor(identity, parties)
    if negotiation.status in (NegotiationStatus.proposed, NegotiationStatus.declined, NegotiationStatus.evaded):
        raise Conflict(f"The commission meets once negotiations are entered; this negotiation is "
                       f"{negotiation.status}.", status_now=negotiation.status)
    checked_day(body.held_on, "/held_on", not_before=negotiation.proposed_on, what="the proposal")
    sides = _sides(parties)
    stray = [s for s in body.attendees if s not in sides]
    if stray:
        raise invalid(f"/attendees/{stray[0].value}", "side_of_negotiation",
                      f"this negotiation has no {stray[0].value} side")
    meeting = Meeting(negotiation_id=negotiation.id, held_on=body.held_on, minutes=body.minutes,
                      attendees={s.value: names for s, names in body.attendees.items()},
                      recorded_by=actor_of(identity))
    session.add(meeting)
    await session.flush()
    return meeting


async def meetings_of(session: AsyncSession, negotiation_id: uuid.UUID) -> list[Meeting]:
    query = (select(Meeting).where(Meeting.negotiation_id == negotiation_id)
             .order_by(Meeting.held_on, Meeting.created_at))
    return list((await session.execute(query)).scalars())


# --- signing, the protocol of disagreements, filing and the agreement's end ----------------

def positions(clause: Clause, versions: Sequence[ClauseVersion], sides: Sequence[Side]) -> list[SidePosition]:
    """Each side's last proposal for a clause (none if it never proposed a text)."""
    last = {Side(v.side): v for v in versions}
    return [SidePosition(side=side, version=last[side].number if side in last else None,
                         text=last[side].text if side in last else None) for side in sides]


async def sign(session: AsyncSession, negotiation_id: uuid.UUID, *, body: SignatureIn,
               identity: Identity) -> Negotiation:
    negotiation, parties = await require_negotiation(session, negotiation_id, identity, for_update=True)
    side = _acting_side(identity, parties, body.side)
    _check(negotiation, NegotiationAction.sign)
    signed_on = checked_day(body.signed_on, "/signed_on", not_before=negotiation.entered_on, what="the entry")
    problem = parity(negotiation, await members_of(session, negotiation.id))
    if problem:
        raise _parity_problem(problem)
    clauses = await clauses_of(session, negotiation.id)
    if not any(c.status == "agreed" for c in clauses):
        raise Problem(422, "nothing-agreed", "Nothing agreed yet",
                      "An agreement is signed when at least one clause is agreed by every side.",
                      errors=[FieldError(pointer="/", rule="agreed_clause_required",
                                         detail="no clause is agreed by every side")])
    signatures = await _signatures(session, negotiation.id)
    if any(s.side == side.value for s in signatures):
        raise Conflict(f"The {side.value} side has signed already.")
    session.add(Signature(negotiation_id=negotiation.id, side=side.value, signatory_name=body.signatory_name,
                          signatory_position=body.signatory_position, signed_on=signed_on,
                          recorded_by=actor_of(identity)))
    sides = _sides(parties)
    if {s.side for s in signatures} | {side.value} != {s.value for s in sides}:
        _touch(negotiation)
        await session.flush()
        return negotiation
    # The last side signed: the agreement is concluded, with a protocol for whatever is still open.
    _transition(negotiation, NegotiationAction.sign)
    negotiation.signed_on = signed_on
    open_clauses = [c for c in clauses if c.status != "agreed"]
    negotiation.with_disagreements = bool(open_clauses)
    _emit(session, contracts.AgreementSigned, negotiation, parties, signed_on=signed_on,
          agreed_clause_ids=[c.id for c in clauses if c.status == "agreed"],
          with_disagreements=bool(open_clauses), open_clause_ids=[c.id for c in open_clauses])
    if open_clauses:
        versions = await versions_of(session, [c.id for c in open_clauses])
        listed = [OpenClause(clause_id=c.id, number=c.number, category=c.category, title=c.title,
                             positions=positions(c, versions[c.id], sides)) for c in open_clauses]
        law = rules.rules_on(negotiation.proposed_on)
        protocol = DisagreementProtocol(
            negotiation_id=negotiation.id, signed_on=signed_on,
            negotiate_until=signed_on + relativedelta(months=law.disagreement_period_months.value),
            clauses=[c.model_dump(mode="json") for c in listed])
        session.add(protocol)
        for clause in open_clauses:
            clause.in_protocol = True
        await session.flush()
        _emit(session, contracts.DisagreementProtocolSigned, negotiation, parties, protocol_id=protocol.id,
              signed_on=signed_on, negotiate_until=protocol.negotiate_until, clauses=listed)
    await session.flush()
    return negotiation


async def withdraw_signature(session: AsyncSession, negotiation_id: uuid.UUID, side: Side, *,
                             identity: Identity) -> Negotiation:
    negotiation, parties = await require_negotiation(session, negotiation_id, identity, for_update=True)
    _acting_side(identity, parties, side, pointer="path:/side")
    if negotiation.status != NegotiationStatus.negotiating:
        raise Conflict("A signature can be withdrawn only until every side has signed.", status_now=negotiation.status)
    removed = await session.execute(delete(Signature).where(Signature.negotiation_id == negotiation.id,
                                                            Signature.side == side.value))
    if not removed.rowcount:  # type: ignore[attr-defined]
        raise NotFound("signature")
    _touch(negotiation)
    return negotiation


async def file(session: AsyncSession, negotiation_id: uuid.UUID, *, body: FilingIn, identity: Identity) -> Negotiation:
    negotiation, parties = await require_negotiation(session, negotiation_id, identity, for_update=True)
    _require_actor(identity, parties)
    _check(negotiation, NegotiationAction.file)
    filed_on = checked_day(body.filed_on, "/filed_on", not_before=negotiation.signed_on, what="the signing")
    problem = rules.term_problem(body.term_from, body.term_to, rules.rules_on(negotiation.proposed_on))
    if problem:
        law = rules.rules_on(negotiation.proposed_on)
        raise Problem(422, "validation", "Invalid request", problem, article=law.term_months.article,
                      errors=[FieldError(pointer="/term_to", rule="term_range", detail=problem)])
    _transition(negotiation, NegotiationAction.file)
    negotiation.authority, negotiation.registration_number = body.authority, body.registration_number
    negotiation.filed_on, negotiation.term_from, negotiation.term_to = filed_on, body.term_from, body.term_to
    _emit(session, contracts.AgreementFiled, negotiation, parties, authority=body.authority,
          registration_number=body.registration_number, filed_on=filed_on, term_from=body.term_from,
          term_to=body.term_to)
    return negotiation


async def enter_into_force(session: AsyncSession, negotiation_id: uuid.UUID, *, body: InForce,
                           identity: Identity) -> Negotiation:
    negotiation, parties = await require_negotiation(session, negotiation_id, identity, for_update=True)
    _require_actor(identity, parties)
    _check(negotiation, NegotiationAction.enter_into_force)
    assert negotiation.term_from is not None and negotiation.term_to is not None
    start = body.in_force_from or negotiation.term_from
    if start < negotiation.term_from or start > negotiation.term_to:
        raise invalid("/in_force_from", "within_term", "an agreement is in force within its term "
                      f"({negotiation.term_from.isoformat()} to {negotiation.term_to.isoformat()})")
    _transition(negotiation, NegotiationAction.enter_into_force)
    await schedule_expiry(session, negotiation, parties)
    _emit(session, contracts.AgreementInForce, negotiation, parties, in_force_from=start, term_to=negotiation.term_to)
    return negotiation


async def expire(session: AsyncSession, negotiation_id: uuid.UUID, *, body: Expiry, identity: Identity) -> Negotiation:
    negotiation, parties = await require_negotiation(session, negotiation_id, identity, for_update=True)
    _require_actor(identity, parties)
    _check(negotiation, NegotiationAction.expire)
    assert negotiation.term_to is not None
    expired_on = checked_day(body.expired_on, "/expired_on")
    if expired_on <= negotiation.term_to:
        raise invalid("/expired_on", "term_over", f"the term runs until {negotiation.term_to.isoformat()}")
    _transition(negotiation, NegotiationAction.expire)
    negotiation.ended_on = expired_on
    await meet_deadline(session, expiry_key(negotiation.id))  # recorded by hand: the sweeper has nothing to do
    _emit(session, contracts.AgreementExpired, negotiation, parties, expired_on=expired_on)
    return negotiation


async def terminate(session: AsyncSession, negotiation_id: uuid.UUID, *, body: Termination,
                    identity: Identity) -> Negotiation:
    negotiation, parties = await require_negotiation(session, negotiation_id, identity, for_update=True)
    _require_actor(identity, parties)
    _check(negotiation, NegotiationAction.terminate)
    by = body.terminated_by
    caller = _party_of(identity, parties)
    if body.unilateral:
        by = by or (caller.organisation_id if caller else None)
        if by is None or by not in {p.organisation_id for p in parties}:
            raise invalid("/terminated_by", "party_of_negotiation", "a unilateral termination names the party "
                                                                    "that ended the agreement")
        if caller is not None and caller.organisation_id != by:
            raise invalid("/terminated_by", "own_act", "an organisation records only its own termination")
    elif by is not None:
        raise invalid("/terminated_by", "mutual", "a termination by agreement of the parties names no single party")
    terminated_on = checked_day(body.terminated_on, "/terminated_on", not_before=negotiation.signed_on,
                                what="the signing")
    _transition(negotiation, NegotiationAction.terminate)
    await cancel_deadline(session, expiry_key(negotiation.id))  # ended early: no reminder, no expiry
    negotiation.ended_on, negotiation.unilateral = terminated_on, body.unilateral
    negotiation.terminated_by, negotiation.end_reason = by, body.reason
    _emit(session, contracts.AgreementTerminated, negotiation, parties, terminated_on=terminated_on,
          unilateral=body.unilateral, terminated_by=by, reason=body.reason)
    return negotiation


# --- listing and the agreement's text ------------------------------------------------------

async def list_negotiations(session: AsyncSession, *, identity: Identity, status: str | None, level: Level | None,
                            limit: int, offset: int) -> tuple[list[Negotiation], int]:
    query = select(Negotiation)
    if not is_staff(identity, *STAFF_READERS):
        if identity.organisation_id is None:
            return [], 0
        own = select(NegotiationParty.negotiation_id).where(
            NegotiationParty.organisation_id == uuid.UUID(identity.organisation_id))
        query = query.where(Negotiation.id.in_(own))  # type: ignore[attr-defined]
    if status is not None:
        query = query.where(Negotiation.status == status)
    if level is not None:
        query = query.where(Negotiation.level == level.value)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = (await session.execute(query.order_by(Negotiation.proposed_on.desc(), Negotiation.id)  # type: ignore[attr-defined]
                                  .limit(limit).offset(offset))).scalars()
    return list(rows), int(total or 0)


async def protocols_of(session: AsyncSession, negotiation_id: uuid.UUID) -> list[DisagreementProtocol]:
    query = (select(DisagreementProtocol).where(DisagreementProtocol.negotiation_id == negotiation_id)
             .order_by(DisagreementProtocol.created_at))
    return list((await session.execute(query)).scalars())


LEVEL_TITLES = {Level.general: "General agreement", Level.sectoral: "Sectoral agreement",
                Level.regional: "Regional agreement", Level.enterprise: "Collective agreement"}


async def agreement_text(session: AsyncSession, negotiation: Negotiation, parties: Sequence[NegotiationParty], *,
                         markdown: bool) -> str:
    """The agreement assembled from the agreed clauses, with any open clauses in an annex."""
    heading = "# " if markdown else ""
    sub = "## " if markdown else ""
    clauses = await clauses_of(session, negotiation.id)
    versions = await versions_of(session, [c.id for c in clauses])
    lines = [f"{heading}{LEVEL_TITLES[Level(negotiation.level)]}: {negotiation.subject_matter}", ""]
    lines.append(f"Status: {negotiation.status}" + (f", signed on {negotiation.signed_on.isoformat()}"
                                                    if negotiation.signed_on else ""))
    if negotiation.registration_number:
        lines.append(f"Filed with {negotiation.authority} under No. {negotiation.registration_number} "
                     f"on {negotiation.filed_on}; term {negotiation.term_from} to {negotiation.term_to}")
    lines.append("")
    lines.append("Parties:")
    for party in parties:
        lines.append(f"- {party.side}: {party.name_ru}")
    lines.append("")
    for clause in clauses:
        if clause.status != "agreed" or clause.agreed_version is None:
            continue
        text = next(v.text for v in versions[clause.id] if v.number == clause.agreed_version)
        lines += [f"{sub}{clause.number}. {clause.title} ({clause.category})", "", text, ""]
    open_clauses = [c for c in clauses if c.status != "agreed"]
    if open_clauses and negotiation.with_disagreements:
        lines += [f"{sub}Annex: protocol of disagreements", ""]
        for clause in open_clauses:
            lines.append(f"{clause.number}. {clause.title} ({clause.category})")
            for position in positions(clause, versions[clause.id], _sides(parties)):
                shown = position.text if position.text is not None else "(no text proposed)"
                lines.append(f"- {position.side.value}: {shown}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
