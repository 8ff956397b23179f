"""Amendments to concluded agreements: proposed by a side, signed by every side, then adopted as a new
version of the agreement. Never commits (the route's unit of work does). Events name every party.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import bargaining as contracts
from contracts.bargaining import AmendedClause, Side
from kernel.calendar import checked_day
from kernel.db import utcnow
from kernel.identity import Identity
from kernel.problems import Conflict, FieldError, NotFound, Problem, invalid
from services.bargaining.access import actor_of
from services.bargaining.amendments import rules
from services.bargaining.amendments.models import Amendment
from services.bargaining.amendments.rules import AMENDABLE, AmendmentStatus
from services.bargaining.amendments.schemas import AmendmentCreate, AmendmentSignatureIn
from services.bargaining.negotiations import rules as negotiation_rules
from services.bargaining.negotiations import service as negotiations
from services.bargaining.negotiations.models import Clause, ClauseVersion, Negotiation, NegotiationParty


def _not_amendable(negotiation: Negotiation) -> Conflict:
    return Conflict(f"An agreement is amended once signed and while it lasts; this one is {negotiation.status}.",
                    status_now=negotiation.status)


async def _amendment(session: AsyncSession, negotiation_id: uuid.UUID, number: int, *,
                     for_update: bool = False) -> Amendment:
    query = select(Amendment).where(Amendment.negotiation_id == negotiation_id, Amendment.number == number)
    if for_update:
        query = query.with_for_update()
    found = (await session.execute(query)).scalar_one_or_none()
    if found is None:
        raise NotFound("amendment")
    return found


async def amendments_of(session: AsyncSession, negotiation_id: uuid.UUID) -> list[Amendment]:
    query = select(Amendment).where(Amendment.negotiation_id == negotiation_id).order_by(Amendment.number)
    return list((await session.execute(query)).scalars())


async def propose(session: AsyncSession, negotiation_id: uuid.UUID, *, body: AmendmentCreate,
                  identity: Identity) -> Amendment:
    negotiation, parties = await negotiations.require_negotiation(session, negotiation_id, identity, for_update=True)
    side = negotiations._acting_side(identity, parties, body.side)
    if negotiation.status not in AMENDABLE:
        raise _not_amendable(negotiation)
    proposed_on = checked_day(body.proposed_on, "/proposed_on", not_before=negotiation.signed_on, what="the signing")
    clauses = {c.id: c for c in await negotiations.clauses_of(session, negotiation.id)}
    errors = []
    for index, change in enumerate(body.changes):
        if change.clause_id is None:
            continue
        clause = clauses.get(change.clause_id)
        if clause is None:
            errors.append(FieldError(pointer=f"/changes/{index}/clause_id", rule="clause_of_agreement",
                                     detail="no such clause in this agreement"))
        elif clause.status != "agreed":
            errors.append(FieldError(pointer=f"/changes/{index}/clause_id", rule="agreed_clause",
                                     detail=f"clause {clause.number} is still open (it is negotiated under the "
                                            "protocol of disagreements, not amended)"))
    amended = [c.clause_id for c in body.changes if c.clause_id is not None]
    if len(amended) != len(set(amended)):
        errors.append(FieldError(pointer="/changes", rule="one_change_per_clause",
                                 detail="each clause appears at most once in an amendment"))
    if body.term_to is not None and negotiation.term_from is not None:
        problem = negotiation_rules.term_problem(negotiation.term_from, body.term_to,
                                                 negotiation_rules.rules_on(negotiation.proposed_on))
        if problem:
            errors.append(FieldError(pointer="/term_to", rule="term_range", detail=problem))
    elif body.term_to is not None:
        errors.append(FieldError(pointer="/term_to", rule="filed_term", detail="the agreement has no term until it "
                                                                              "is filed"))
    if errors:
        raise Problem(422, "validation", "Invalid request", "One or more fields are invalid; see errors.",
                      errors=errors)
    open_one = (await session.execute(select(Amendment.number).where(
        Amendment.negotiation_id == negotiation.id, Amendment.status == AmendmentStatus.proposed.value))).first()
    if open_one is not None:
        raise Conflict(f"Amendment {open_one[0]} is still awaiting signatures; adopt or withdraw it first.")
    number = int(await session.scalar(select(func.coalesce(func.max(Amendment.number), 0))
                                      .where(Amendment.negotiation_id == negotiation.id)) or 0) + 1
    amendment = Amendment(negotiation_id=negotiation.id, number=number, status=AmendmentStatus.proposed.value,
                          proposed_by_side=side.value, proposed_on=proposed_on, summary=body.summary,
                          changes=[c.model_dump(mode="json") for c in body.changes], term_to=body.term_to,
                          recorded_by=actor_of(identity))
    session.add(amendment)
    await session.flush()
    negotiations._emit(session, contracts.AmendmentProposed, negotiation, parties, amendment_id=amendment.id,
                       amendment_number=number, proposed_by_side=side, proposed_on=proposed_on,
                       summary=body.summary, term_to=body.term_to)
    return amendment


async def sign(session: AsyncSession, negotiation_id: uuid.UUID, number: int, *, body: AmendmentSignatureIn,
               identity: Identity) -> Amendment:
    negotiation, parties = await negotiations.require_negotiation(session, negotiation_id, identity, for_update=True)
    side = negotiations._acting_side(identity, parties, body.side)
    amendment = await _amendment(session, negotiation.id, number, for_update=True)
    if amendment.status != AmendmentStatus.proposed:
        raise Conflict(f"Amendment {number} is {amendment.status}; only a proposed amendment is signed.",
                       status_now=amendment.status)
    if negotiation.status not in AMENDABLE:
        raise _not_amendable(negotiation)
    if side.value in amendment.signatures:
        raise Conflict(f"The {side.value} side has signed amendment {number} already.")
    signed_on = checked_day(body.signed_on, "/signed_on", not_before=amendment.proposed_on, what="the proposal")
    amendment.signatures = {**amendment.signatures, side.value: {
        "signatory_name": body.signatory_name, "signatory_position": body.signatory_position,
        "signed_on": signed_on.isoformat(), "recorded_by": actor_of(identity)}}
    amendment.updated_at = utcnow()
    if not rules.unsigned_sides(negotiations._sides(parties), amendment.signatures):
        await _adopt(session, negotiation, parties, amendment, signed_on)
    return amendment


async def withdraw(session: AsyncSession, negotiation_id: uuid.UUID, number: int, *,
                   identity: Identity) -> Amendment:
    negotiation, parties = await negotiations.require_negotiation(session, negotiation_id, identity, for_update=True)
    amendment = await _amendment(session, negotiation.id, number, for_update=True)
    side = negotiations._acting_side(identity, parties, Side(amendment.proposed_by_side))
    if side.value != amendment.proposed_by_side:
        raise invalid("/side", "proposing_side", "only the proposing side withdraws its amendment")
    if amendment.status != AmendmentStatus.proposed:
        raise Conflict(f"Amendment {number} is {amendment.status}; only a proposed amendment is withdrawn.",
                       status_now=amendment.status)
    amendment.status = AmendmentStatus.withdrawn.value
    amendment.updated_at = utcnow()
    return amendment


async def _adopt(session: AsyncSession, negotiation: Negotiation, parties: Sequence[NegotiationParty],
                 amendment: Amendment, adopted_on: date) -> None:
    """Every side signed: the new texts become the clauses' agreed versions; the term moves if it was changed."""
    sides = [s.value for s in negotiations._sides(parties)]
    clauses = {c.id: c for c in await negotiations.clauses_of(session, negotiation.id)}
    next_number = max((c.number for c in clauses.values()), default=0) + 1
    applied: list[AmendedClause] = []
    for change in amendment.changes:
        if change["clause_id"] is not None:
            clause = clauses[uuid.UUID(change["clause_id"])]
            clause.current_version += 1
            clause.version += 1
            clause.updated_at = utcnow()
            is_new = False
        else:
            clause = Clause(negotiation_id=negotiation.id, number=next_number, category=change["category"],
                            title=change["title"], status="agreed", current_version=1)
            next_number += 1
            is_new = True
        clause.agreed_version = clause.current_version
        clause.accepted = dict.fromkeys(sides, clause.current_version)
        session.add(clause)
        await session.flush()
        session.add(ClauseVersion(clause_id=clause.id, number=clause.current_version,
                                  side=amendment.proposed_by_side, text=change["text"],
                                  proposed_by=f"amendment {amendment.number}"))
        applied.append(AmendedClause(clause_id=clause.id, number=clause.number, title=clause.title,
                                     version=clause.current_version, new=is_new))
    adopted_before = int(await session.scalar(select(func.count()).select_from(Amendment).where(
        Amendment.negotiation_id == negotiation.id, Amendment.status == AmendmentStatus.adopted.value)) or 0)
    amendment.status = AmendmentStatus.adopted.value
    amendment.adopted_on = adopted_on
    amendment.agreement_version = rules.agreement_version(adopted_before)
    amendment.applied = [a.model_dump(mode="json") for a in applied]
    if amendment.term_to is not None:
        negotiation.term_to = amendment.term_to
        if negotiation.status == negotiation_rules.NegotiationStatus.in_force:
            await negotiations.schedule_expiry(session, negotiation, parties)
    negotiations._touch(negotiation)
    negotiations._emit(session, contracts.AgreementAmended, negotiation, parties, amendment_id=amendment.id,
                       amendment_number=amendment.number, agreement_version=amendment.agreement_version,
                       adopted_on=adopted_on, clauses=applied,
                       term_to=negotiation.term_to)
