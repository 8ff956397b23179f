"""Accession to enterprise agreements, the workers each agreement covers, the register and the coverage rate.

Never commits (the route's unit of work does). Events name the union and the employer.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import bargaining as contracts
from contracts.bargaining import Level, Side
from kernel.calendar import checked_day, load_calendar
from kernel.db import utcnow
from kernel.deadlines import Deadline, lock_deadlines_of, meet_deadline, schedule_deadline
from kernel.events import EventData
from kernel.identity import Identity
from kernel.outbox import record_event
from kernel.problems import Conflict, FieldError, NotFound, Problem, invalid
from services.bargaining.access import STAFF_ACTORS, STAFF_READERS, actor_of, is_staff
from services.bargaining.agreements import rules
from services.bargaining.agreements.models import AccessionRequest, AgreementCoverage, EmployeesFigures
from services.bargaining.agreements.rules import OPEN_ACCESSION, AccessionStatus, CoveredAgreement
from services.bargaining.agreements.schemas import AccessionAnswerIn, AccessionRequestIn, CoverageIn, EmployeesIn
from services.bargaining.commissions import service as commissions
from services.bargaining.commitments import service as commitments
from services.bargaining.negotiations import service as negotiations
from services.bargaining.negotiations.models import Negotiation, NegotiationParty
from services.bargaining.negotiations.rules import UNION_KINDS, NegotiationStatus, rules_on
from services.bargaining.parties.models import Party
from services.bargaining.parties.service import eligible_party

ACCESSION = "accession_answer"
ACCEDED = "acceded"  # the role of a union that joined an agreement in force


def accession_key(request_id: uuid.UUID) -> str:
    return f"{ACCESSION}:{request_id}"


def _forbidden(detail: str) -> Problem:
    return Problem(403, "forbidden", "Forbidden", detail)


def _employer(parties: Sequence[NegotiationParty]) -> NegotiationParty:
    return next(p for p in parties if p.side == Side.employers.value)


def _emit(session: AsyncSession, event_class: type[EventData], request: AccessionRequest, /, **fields: object) -> None:
    record_event(session, event_class(audience=sorted({request.union_id, request.employer_id}, key=str),
                                      request_id=request.id, negotiation_id=request.negotiation_id,
                                      union_id=request.union_id, employer_id=request.employer_id,
                                      status=request.status, answer_due=request.answer_due, **fields),
                 source=negotiations.SOURCE)


# --- accession -----------------------------------------------------------------------------

async def request_accession(session: AsyncSession, negotiation_id: uuid.UUID, *, body: AccessionRequestIn,
                            identity: Identity) -> AccessionRequest:
    """A union asks to join an enterprise agreement in force.

    The union is not yet a party, so the agreement is looked up without the parties-only rule:
    an agreement filed with the labour authority is no secret to a union at the same employer.
    """
    if is_staff(identity, *STAFF_ACTORS):
        if body.union_id is None:
            raise invalid("/union_id", "required", "staff recording a request name the union")
        union_id = body.union_id
    elif identity.organisation_id is None:
        raise _forbidden("A request to join is made by the union, or recorded by staff with the role "
                         "bargaining_officer or administrator.")
    elif body.union_id is not None and not identity.acts_for(body.union_id):
        raise invalid("/union_id", "own_request", "a union asks to join only for itself")
    else:
        union_id = uuid.UUID(identity.organisation_id)
    negotiation = await session.get(Negotiation, negotiation_id, with_for_update=True, populate_existing=True)
    if negotiation is None:
        raise NotFound("agreement")
    parties = await negotiations.parties_of(session, negotiation.id)
    problem = rules.accession_problem(negotiation.level, negotiation.status)
    if problem:
        # Only an enterprise agreement in force is open to every union; any other negotiation is the
        # business of its parties and staff: to anyone else it answers as a missing id would.
        if not (is_staff(identity, *STAFF_ACTORS) or any(identity.acts_for(p.organisation_id) for p in parties)):
            raise NotFound("agreement")
        raise Conflict(problem, status_now=negotiation.status, level=negotiation.level)
    union = await eligible_party(session, union_id)
    if union.kind not in UNION_KINDS:
        raise invalid("/union_id", "union", f"{union.name_ru} ({union.kind}) is not a union")
    if any(p.organisation_id == union_id for p in parties):
        raise Conflict(f"{union.name_ru} is already a party to this agreement.")
    pending = await session.scalar(select(AccessionRequest.id).where(
        AccessionRequest.negotiation_id == negotiation.id, AccessionRequest.union_id == union_id,
        AccessionRequest.status.in_([s.value for s in OPEN_ACCESSION])))  # type: ignore[attr-defined]
    if pending is not None:
        raise Conflict(f"{union.name_ru} has a request awaiting the employer's answer.", request_id=str(pending))
    requested_on = checked_day(body.requested_on, "/requested_on")
    try:
        law = rules_on(requested_on)
    except LookupError as exc:
        raise invalid("/requested_on", "rules_in_force", str(exc)) from None
    due = rules.answer_due(requested_on, law, await load_calendar(session))
    employer = _employer(parties)
    request = AccessionRequest(negotiation_id=negotiation.id, union_id=union_id, union_name_ru=union.name_ru,
                               employer_id=employer.organisation_id, status=AccessionStatus.pending.value,
                               requested_on=requested_on, answer_due=due, note=body.note,
                               requested_by=actor_of(identity))
    session.add(request)
    await session.flush()
    await schedule_deadline(
        session, key=accession_key(request.id), kind=ACCESSION, subject_id=request.id, due_on=due,
        approaching_on=rules.answer_reminder_on(due, requested_on, law),
        audience=[request.union_id, request.employer_id], article=law.accession_answer_days.article,
        details={"rules": law.code, "negotiation_id": str(negotiation.id)})
    _emit(session, contracts.AccessionRequested, request, requested_on=requested_on)
    return request


def _may_see_request(identity: Identity, request: AccessionRequest) -> bool:
    return (is_staff(identity, *STAFF_READERS) or identity.acts_for(request.union_id)
            or identity.acts_for(request.employer_id))


async def accession_requests(session: AsyncSession, negotiation_id: uuid.UUID, *,
                             identity: Identity) -> list[AccessionRequest]:
    """Every request to join this agreement for staff; for an organisation, those where it is the union or employer.

    An organisation that may not know of the negotiation (no party to it, no request on it, and the agreement
    not open to accession) gets 404, exactly as for a missing id: an empty listing would tell it that the
    negotiation exists.
    """
    negotiation = await session.get(Negotiation, negotiation_id)
    if negotiation is None:
        raise NotFound("agreement")
    query = select(AccessionRequest).where(AccessionRequest.negotiation_id == negotiation_id)
    if is_staff(identity, *STAFF_READERS):
        return list((await session.execute(query.order_by(AccessionRequest.requested_on,
                                                          AccessionRequest.created_at))).scalars())
    if identity.organisation_id is None:
        raise NotFound("agreement")
    own = uuid.UUID(identity.organisation_id)
    query = query.where(or_(AccessionRequest.union_id == own, AccessionRequest.employer_id == own))
    rows = list((await session.execute(query.order_by(AccessionRequest.requested_on,
                                                      AccessionRequest.created_at))).scalars())
    if not rows and rules.accession_problem(negotiation.level, negotiation.status) is not None:
        parties = await negotiations.parties_of(session, negotiation.id)
        if not negotiations.may_read(identity, parties):
            raise NotFound("agreement")
    return rows


async def answer_accession(session: AsyncSession, negotiation_id: uuid.UUID, request_id: uuid.UUID, *,
                           body: AccessionAnswerIn, identity: Identity) -> AccessionRequest:
    """The employer answers: accepted makes the union a party on the workers' side; a refusal gives reasons."""
    await lock_deadlines_of(session, request_id)  # in the sweeper's order: the answer period, then the request
    request = await session.get(AccessionRequest, request_id, with_for_update=True, populate_existing=True)
    if request is None or request.negotiation_id != negotiation_id or not _may_see_request(identity, request):
        raise NotFound("accession request")
    if not identity.acts_for(request.employer_id) and not is_staff(identity, *STAFF_ACTORS):
        raise _forbidden("The employer answers a request to join its agreement (or staff with the role "
                         "bargaining_officer or administrator record the answer).")
    if AccessionStatus(request.status) not in OPEN_ACCESSION:
        raise Conflict(f"The request was answered on {request.answered_on}: {request.status}.",
                       status_now=request.status)
    if not body.accepted and body.reasons is None:
        raise invalid("/reasons", "required_when_refused", "a refusal states its reasons")
    answered_on = checked_day(body.answered_on, "/answered_on", not_before=request.requested_on,
                                    what="the request")
    if body.accepted:
        negotiation = await session.get(Negotiation, negotiation_id, with_for_update=True, populate_existing=True)
        assert negotiation is not None
        if negotiation.status != NegotiationStatus.in_force:
            raise Conflict(f"The agreement is no longer in force ({negotiation.status}); the union cannot join it.",
                           status_now=negotiation.status)
        union = await eligible_party(session, request.union_id)
        session.add(NegotiationParty(negotiation_id=negotiation.id, organisation_id=request.union_id,
                                     side=Side.workers.value, role=ACCEDED, name_ru=union.name_ru,
                                     entered_on=answered_on))
        negotiations._touch(negotiation)
    request.status = (AccessionStatus.accepted if body.accepted else AccessionStatus.refused).value
    request.answered_on, request.reasons, request.answered_by = answered_on, body.reasons, actor_of(identity)
    request.updated_at = utcnow()
    await meet_deadline(session, accession_key(request.id))
    await session.flush()
    _emit(session, contracts.AccessionAnswered, request, accepted=body.accepted, answered_on=answered_on,
          reasons=body.reasons, late=answered_on > request.answer_due)
    return request


async def on_deadline_missed(session: AsyncSession, deadline: Deadline) -> None:
    """The service's hook for missed periods: an unanswered accession is recorded as overdue; a consultation
    position missing at its deadline is flagged overdue; a commitment past its due date turns late; the entry
    period keeps its own handling (the negotiation is recorded as evaded)."""
    if deadline.kind == commissions.CONSULTATION:
        await commissions.on_consultation_missed(session, deadline)
        return
    if deadline.kind == commitments.COMMITMENT:
        await commitments.on_commitment_missed(session, deadline)
        return
    if deadline.kind != ACCESSION:
        await negotiations.on_deadline_missed(session, deadline)
        return
    request = await session.get(AccessionRequest, uuid.UUID(deadline.subject_id), with_for_update=True)
    if request is None or request.status != AccessionStatus.pending:
        return
    request.status = AccessionStatus.overdue.value
    request.overdue_since = request.answer_due + timedelta(days=1)
    request.updated_at = utcnow()
    _emit(session, contracts.AccessionOverdue, request)


# --- the workers an agreement covers -------------------------------------------------------

async def _region_and_sector(session: AsyncSession, negotiation: Negotiation, parties: Sequence[NegotiationParty],
                             region_code: str | None, sector: str | None, pointer: str) -> tuple[str | None,
                                                                                                 str | None]:
    """Region defaults to the employer's in the register (enterprise and regional agreements, which have one);
    the register holds no sector, so the sector is always given."""
    level = Level(negotiation.level)
    if region_code is None and level in (Level.enterprise, Level.regional):
        employers = [p.organisation_id for p in parties if p.side == Side.employers.value]
        found = [await session.get(Party, e) for e in employers]
        regions = {p.region_code for p in found if p is not None and p.region_code}
        region_code = regions.pop() if len(regions) == 1 else None
    missing = rules.coverage_fields_missing(level, region_code, sector)
    if missing:
        raise Problem(422, "validation", "Invalid request", "The agreement's region or sector is needed to count "
                      "its coverage; see errors.",
                      errors=[FieldError(pointer=f"{pointer}/{name}", rule="required_at_level",
                                         detail=f"a {level.value} agreement states its {name.replace('_', ' ')}"
                                         + (" (the employer's region is not in the register)"
                                            if name == "region_code" else ""))
                              for name in missing])
    return region_code, sector


async def record_coverage_at_filing(session: AsyncSession, negotiation: Negotiation, *, workers_covered: int,
                                    region_code: str | None, sector: str | None, identity: Identity) -> None:
    parties = await negotiations.parties_of(session, negotiation.id)
    region_code, sector = await _region_and_sector(session, negotiation, parties, region_code, sector, "")
    session.add(AgreementCoverage(negotiation_id=negotiation.id, workers_covered=workers_covered,
                                  region_code=region_code, sector=sector, recorded_by=actor_of(identity)))
    await session.flush()


def require_coverage_version(current: int, if_match: str | None) -> None:
    """Optimistic concurrency as for clauses; an agreement whose coverage was never set is at ETag "0"."""
    if if_match is None:
        raise Problem(428, "precondition-required", "Precondition required",
                      "Send If-Match with the coverage ETag you read (\"0\" if none was recorded yet).")
    if if_match.strip().removeprefix("W/").strip('"') != str(current):
        raise Problem(412, "precondition-failed", "Precondition failed",
                      f"The coverage changed since it was read (now at ETag \"{current}\"); read it again.",
                      current_etag=f'"{current}"')


async def set_coverage(session: AsyncSession, negotiation_id: uuid.UUID, *, body: CoverageIn, if_match: str | None,
                       identity: Identity) -> AgreementCoverage:
    negotiation, parties = await negotiations.require_negotiation(session, negotiation_id, identity, for_update=True)
    negotiations._require_actor(identity, parties)
    if NegotiationStatus(negotiation.status) not in rules.CONCLUDED:
        raise Conflict(f"Coverage is recorded for a concluded agreement; this negotiation is {negotiation.status}.",
                       status_now=negotiation.status)
    coverage = await session.get(AgreementCoverage, negotiation.id, with_for_update=True, populate_existing=True)
    require_coverage_version(coverage.version if coverage else 0, if_match)
    region_code, sector = await _region_and_sector(session, negotiation, parties, body.region_code, body.sector, "")
    if coverage is None:
        coverage = AgreementCoverage(negotiation_id=negotiation.id, workers_covered=body.workers_covered,
                                     region_code=region_code, sector=sector, recorded_by=actor_of(identity))
        session.add(coverage)
    else:
        coverage.workers_covered, coverage.region_code, coverage.sector = body.workers_covered, region_code, sector
        coverage.recorded_by, coverage.updated_at = actor_of(identity), utcnow()
        coverage.version += 1
    await session.flush()
    return coverage


# --- the register and the rate -------------------------------------------------------------

def _in_force_query(day: date):  # type: ignore[no-untyped-def]
    statuses = [s.value for s in rules.HAS_BEEN_IN_FORCE]
    return (select(Negotiation, AgreementCoverage)
            .outerjoin(AgreementCoverage, AgreementCoverage.negotiation_id == Negotiation.id)  # type: ignore[arg-type]
            .where(Negotiation.status.in_(statuses),  # type: ignore[attr-defined]
                   Negotiation.term_from <= day, Negotiation.term_to >= day,  # type: ignore[operator]
                   or_(Negotiation.ended_on.is_(None), Negotiation.ended_on > day)))  # type: ignore[union-attr,operator]


async def agreements_in_force(session: AsyncSession, *, identity: Identity, day: date, level: Level | None,
                              region_code: str | None, sector: str | None, limit: int,
                              offset: int) -> tuple[list[tuple[Negotiation, AgreementCoverage | None]], int]:
    """The register: agreements in force on ``day`` (all for staff; an organisation's own for an organisation)."""
    query = _in_force_query(day)
    if not is_staff(identity, *STAFF_READERS):
        if identity.organisation_id is None:
            return [], 0
        own = select(NegotiationParty.negotiation_id).where(
            NegotiationParty.organisation_id == uuid.UUID(identity.organisation_id))
        query = query.where(Negotiation.id.in_(own))  # type: ignore[attr-defined]
    if level is not None:
        query = query.where(Negotiation.level == level.value)
    if region_code is not None:
        query = query.where(AgreementCoverage.region_code == region_code)
    if sector is not None:
        query = query.where(AgreementCoverage.sector == sector)
    rows = [(n, c) for n, c in (await session.execute(query.order_by(
        Negotiation.term_to, Negotiation.id))).all()  # type: ignore[arg-type]
        if rules.in_force_on(day, status=n.status, term_from=n.term_from, term_to=n.term_to, ended_on=n.ended_on)]
    return rows[offset:offset + limit], len(rows)


async def put_employees(session: AsyncSession, year: int, *, body: EmployeesIn, identity: Identity) -> EmployeesFigures:
    if not is_staff(identity, *STAFF_ACTORS):
        raise _forbidden("Employees figures are loaded by staff with the role bargaining_officer or administrator.")
    if not 1990 <= year <= 2100:
        raise invalid("path:/year", "year", "a calendar year between 1990 and 2100")
    figures = await session.get(EmployeesFigures, year, with_for_update=True, populate_existing=True)
    if figures is None:
        figures = EmployeesFigures(year=year, national=body.national, recorded_by=actor_of(identity))
        session.add(figures)
    figures.national, figures.by_region, figures.by_sector = body.national, dict(body.by_region), dict(body.by_sector)
    figures.source, figures.recorded_by, figures.updated_at = body.source, actor_of(identity), utcnow()
    await session.flush()
    return figures


async def coverage_on(session: AsyncSession, day: date, *, identity: Identity
                      ) -> tuple[EmployeesFigures, list[CoveredAgreement], int]:
    if not is_staff(identity, *STAFF_READERS):
        raise _forbidden("The coverage rate is for staff with the role bargaining_officer, administrator or analyst.")
    figures = await session.get(EmployeesFigures, day.year)
    if figures is None:
        raise Problem(422, "employees-not-loaded", "Employees figures missing",
                      f"Load the employees figures for {day.year} first (PUT /coverage/employees/{day.year}).",
                      errors=[FieldError(pointer="query:/on", rule="employees_loaded",
                                         detail=f"no employees figures for {day.year}")])
    rows = (await session.execute(_in_force_query(day))).all()
    in_force = [(n, c) for n, c in rows if rules.in_force_on(day, status=n.status, term_from=n.term_from,
                                                             term_to=n.term_to, ended_on=n.ended_on)]
    ids = [n.id for n, _ in in_force]
    employers: dict[uuid.UUID, set[str]] = {i: set() for i in ids}
    if ids:
        for party in (await session.execute(select(NegotiationParty).where(
                NegotiationParty.negotiation_id.in_(ids),  # type: ignore[attr-defined]
                NegotiationParty.side == Side.employers.value))).scalars():
            employers[party.negotiation_id].add(str(party.organisation_id))
    counted = [CoveredAgreement(agreement_id=str(n.id), employer_ids=frozenset(employers[n.id]),
                                workers=c.workers_covered, region_code=c.region_code, sector=c.sector)
               for n, c in in_force if c is not None]
    return figures, counted, len(in_force) - len(counted)
