"""Monitoring of commitments: what a concluded agreement promised, progress reported by the responsible
party, lateness recorded by the deadline sweeper, and the share fulfilled per agreement, sector and region.

Never commits (the route's unit of work does). Events name every party to the agreement; the
due-date deadline names the responsible party, so its reminders reach that party alone.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import bargaining as contracts
from contracts.bargaining import CommitmentStatus, Level, Side
from kernel.calendar import checked_day, kazakhstan_today
from kernel.db import utcnow
from kernel.deadlines import Deadline, cancel_deadline, lock_deadlines_of, meet_deadline, schedule_deadline
from kernel.events import EventData
from kernel.identity import Identity
from kernel.outbox import record_event
from kernel.problems import Conflict, NotFound, Problem, invalid
from services.bargaining.access import STAFF_ACTORS, STAFF_READERS, actor_of, is_staff
from services.bargaining.agreements.models import AgreementCoverage
from services.bargaining.amendments.rules import AMENDABLE
from services.bargaining.commissions import rules as commission_rules
from services.bargaining.commitments import rules
from services.bargaining.commitments.models import Commitment, ProgressReport
from services.bargaining.commitments.rules import OPEN, Outcome
from services.bargaining.commitments.schemas import CommitmentIn, ReportIn, ShareRow
from services.bargaining.negotiations import service as negotiations
from services.bargaining.negotiations.models import Negotiation, NegotiationParty

SOURCE = "/bargaining"
COMMITMENT = "commitment_due"


def commitment_key(commitment_id: uuid.UUID) -> str:
    return f"{COMMITMENT}:{commitment_id}"


def responsible_parties(commitment: Commitment, parties: Sequence[NegotiationParty]) -> list[NegotiationParty]:
    """The organisations answering for a commitment: the one named, or every party on the responsible side."""
    return [p for p in parties if p.side == commitment.responsible_side
            and (commitment.responsible_id is None or p.organisation_id == commitment.responsible_id)]


def _emit(session: AsyncSession, event_class: type[EventData], commitment: Commitment,
          parties: Sequence[NegotiationParty], /, **fields: Any) -> None:
    record_event(session, event_class(audience=negotiations._audience(parties), commitment_id=commitment.id,
                                      negotiation_id=commitment.negotiation_id, number=commitment.number,
                                      responsible_side=Side(commitment.responsible_side), due_on=commitment.due_on,
                                      status=CommitmentStatus(commitment.status), **fields),
                 source=SOURCE)


async def record_commitment(session: AsyncSession, negotiation_id: uuid.UUID, *, body: CommitmentIn,
                            identity: Identity) -> Commitment:
    """A party to a concluded agreement (or the secretariat) breaks it into a commitment."""
    negotiation, parties = await negotiations.require_negotiation(session, negotiation_id, identity, for_update=True)
    negotiations._require_actor(identity, parties)
    if negotiation.status not in AMENDABLE:
        raise Conflict(f"Commitments are recorded for a concluded agreement; this one is {negotiation.status}.",
                       status_now=negotiation.status)
    if body.responsible_side not in negotiations._sides(parties):
        raise invalid("/responsible_side", "side_of_agreement",
                      f"the agreement has no {body.responsible_side.value} side")
    if body.responsible_id is not None and not any(
            p.organisation_id == body.responsible_id and p.side == body.responsible_side.value for p in parties):
        raise invalid("/responsible_id", "party_on_side",
                      f"not a party on the {body.responsible_side.value} side of this agreement")
    number = int(await session.scalar(select(func.coalesce(func.max(Commitment.number), 0))
                                      .where(Commitment.negotiation_id == negotiation.id)) or 0) + 1
    commitment = Commitment(negotiation_id=negotiation.id, number=number, clause_number=body.clause_number,
                            what=body.what, responsible_side=body.responsible_side.value,
                            responsible_id=body.responsible_id, due_on=body.due_on, indicator=body.indicator,
                            status=CommitmentStatus.on_track.value, recorded_by=actor_of(identity))
    session.add(commitment)
    await session.flush()
    today = kazakhstan_today()
    law = commission_rules.rules_on(today)
    await schedule_deadline(
        session, key=commitment_key(commitment.id), kind=COMMITMENT, subject_id=commitment.id,
        due_on=commitment.due_on, approaching_on=commission_rules.commitment_reminder_on(commitment.due_on, today, law),
        audience=[p.organisation_id for p in responsible_parties(commitment, parties)],
        article=f"{negotiation.subject_matter} ({negotiation.registration_number or negotiation.id}), "
                f"commitment {number}",
        details={"negotiation_id": str(negotiation.id), "number": number, "what": commitment.what[:300]})
    return commitment


async def require_commitment(session: AsyncSession, commitment_id: uuid.UUID, identity: Identity, *,
                             for_update: bool = False) -> tuple[Commitment, Negotiation, list[NegotiationParty]]:
    commitment = await session.get(Commitment, commitment_id, with_for_update=for_update,
                                   populate_existing=for_update)
    if commitment is None:
        raise NotFound("commitment")
    try:
        negotiation, parties = await negotiations.require_negotiation(session, commitment.negotiation_id, identity)
    except NotFound:
        raise NotFound("commitment") from None
    return commitment, negotiation, parties


async def report(session: AsyncSession, commitment_id: uuid.UUID, *, body: ReportIn,
                 identity: Identity) -> Commitment:
    """The responsible party reports progress with evidence; done or not done closes the commitment."""
    await lock_deadlines_of(session, commitment_id)  # before the commitment, in the sweeper's order
    commitment, negotiation, parties = await require_commitment(session, commitment_id, identity, for_update=True)
    responsible = responsible_parties(commitment, parties)
    if not any(identity.acts_for(p.organisation_id) for p in responsible) and not is_staff(identity, *STAFF_ACTORS):
        raise Problem(403, "forbidden", "Forbidden", "Progress is reported by the responsible party (or recorded by "
                                                     "staff with the role bargaining_officer or administrator).")
    current = CommitmentStatus(commitment.status)
    if current not in OPEN:
        raise Conflict(f"Commitment {commitment.number} is {current.value} since {commitment.closed_on}.",
                       status_now=current.value)
    reported_on = checked_day(body.reported_on, "/reported_on")
    evidence = [d.model_dump() for d in body.evidence]
    if body.outcome is Outcome.done and not evidence:
        raise invalid("/evidence", "evidence_of_fulfilment", "a commitment reported done carries its evidence")
    session.add(ProgressReport(commitment_id=commitment.id, reported_on=reported_on, outcome=body.outcome.value,
                               progress=body.progress, indicator_value=body.indicator_value, evidence=evidence,
                               reported_by=actor_of(identity)))
    status = rules.status_after_report(current, body.outcome)
    commitment.status = status.value
    commitment.updated_at = utcnow()
    if status is CommitmentStatus.done:
        commitment.closed_on = reported_on
        await meet_deadline(session, commitment_key(commitment.id))
    elif status is CommitmentStatus.not_done:
        commitment.closed_on = reported_on
        await cancel_deadline(session, commitment_key(commitment.id))
    await session.flush()
    _emit(session, contracts.ProgressReported, commitment, parties, reported_on=reported_on,
          outcome=body.outcome.value, evidence=evidence)
    if status is CommitmentStatus.done:
        _emit(session, contracts.CommitmentFulfilled, commitment, parties, fulfilled_on=reported_on,
              late=reported_on > commitment.due_on)
    return commitment


async def on_commitment_missed(session: AsyncSession, deadline: Deadline) -> None:
    """In the sweeper's transaction: the due date passed with no report of it done, so the commitment is late.
    The deadline's missed event (audience: the responsible party) is its one reminder."""
    commitment = await session.get(Commitment, uuid.UUID(deadline.subject_id), with_for_update=True,
                                   populate_existing=True)
    if commitment is None or commitment.status != CommitmentStatus.on_track:
        return
    commitment.status = CommitmentStatus.late.value
    commitment.late_since = commitment.due_on + timedelta(days=1)
    commitment.updated_at = utcnow()
    _emit(session, contracts.CommitmentLate, commitment, await negotiations.parties_of(session,
                                                                                       commitment.negotiation_id))


async def reports_of(session: AsyncSession, commitment_id: uuid.UUID) -> list[ProgressReport]:
    query = (select(ProgressReport).where(ProgressReport.commitment_id == commitment_id)
             .order_by(ProgressReport.reported_on, ProgressReport.created_at))
    return list((await session.execute(query)).scalars())


async def last_reports(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
    if not ids:
        return {}
    query = (select(ProgressReport.commitment_id, func.max(ProgressReport.reported_on))
             .where(ProgressReport.commitment_id.in_(ids))  # type: ignore[attr-defined]
             .group_by(ProgressReport.commitment_id))
    return {row[0]: row[1] for row in (await session.execute(query)).all()}


# --- the board and the summary -------------------------------------------------------------

def _board_query(identity: Identity, *, negotiation_id: uuid.UUID | None, side: Side | None,
                 organisation_id: uuid.UUID | None, status: CommitmentStatus | None, level: Level | None,
                 region_code: str | None, sector: str | None):  # type: ignore[no-untyped-def]
    query = (select(Commitment, Negotiation, AgreementCoverage)
             .join(Negotiation, Negotiation.id == Commitment.negotiation_id)  # type: ignore[arg-type]
             .outerjoin(AgreementCoverage,
                        AgreementCoverage.negotiation_id == Commitment.negotiation_id))  # type: ignore[arg-type]
    if not is_staff(identity, *STAFF_READERS):
        own = select(NegotiationParty.negotiation_id).where(
            NegotiationParty.organisation_id == uuid.UUID(identity.organisation_id or str(uuid.UUID(int=0))))
        query = query.where(Commitment.negotiation_id.in_(own))  # type: ignore[attr-defined]
    if negotiation_id is not None:
        query = query.where(Commitment.negotiation_id == negotiation_id)
    if side is not None:
        query = query.where(Commitment.responsible_side == side.value)
    if organisation_id is not None:
        # The commitments this organisation answers for: named alone, or as a party on the responsible side.
        on_side = select(NegotiationParty.negotiation_id).where(
            NegotiationParty.organisation_id == organisation_id,
            NegotiationParty.negotiation_id == Commitment.negotiation_id,
            NegotiationParty.side == Commitment.responsible_side)
        query = query.where(or_(Commitment.responsible_id == organisation_id,
                                and_(Commitment.responsible_id.is_(None),  # type: ignore[union-attr]
                                     on_side.exists())))
    if status is not None:
        query = query.where(Commitment.status == status.value)
    if level is not None:
        query = query.where(Negotiation.level == level.value)
    if region_code is not None:
        query = query.where(AgreementCoverage.region_code == region_code)
    if sector is not None:
        query = query.where(AgreementCoverage.sector == sector)
    return query


async def board(session: AsyncSession, *, identity: Identity, limit: int, offset: int,
                **filters: Any) -> tuple[list[tuple[Commitment, Negotiation, AgreementCoverage | None]], int,
                                         dict[str, int]]:
    query = _board_query(identity, **filters)
    sub = query.subquery()
    by_status = {str(s): int(n) for s, n in (await session.execute(
        select(sub.c.status, func.count()).group_by(sub.c.status))).all()}
    rows = (await session.execute(query.order_by(Commitment.due_on, Commitment.negotiation_id,
                                                 Commitment.number).limit(limit).offset(offset))).all()
    return [(c, n, cov) for c, n, cov in rows], sum(by_status.values()), by_status


def _row(key: str | None, label: str | None, statuses: list[CommitmentStatus]) -> ShareRow:
    counts = Counter(statuses)
    return ShareRow(key=key, label=label, total=len(statuses), done=counts[CommitmentStatus.done],
                    on_track=counts[CommitmentStatus.on_track], late=counts[CommitmentStatus.late],
                    not_done=counts[CommitmentStatus.not_done], share_fulfilled=rules.share_fulfilled(statuses),
                    share_done_of_all=rules.share_done_of_all(statuses))


async def summary(session: AsyncSession, *, identity: Identity, level: Level | None) -> tuple[ShareRow, list[ShareRow],
                                                                                           list[ShareRow],
                                                                                           list[ShareRow]]:
    """The share of commitments fulfilled overall, per agreement, per sector and per region."""
    query = _board_query(identity, negotiation_id=None, side=None, organisation_id=None, status=None, level=level,
                         region_code=None, sector=None)
    rows = (await session.execute(query)).all()
    everything: list[CommitmentStatus] = []
    agreements: dict[uuid.UUID, tuple[str, list[CommitmentStatus]]] = {}
    sectors: dict[str | None, list[CommitmentStatus]] = defaultdict(list)
    regions: dict[str | None, list[CommitmentStatus]] = defaultdict(list)
    for commitment, negotiation, coverage in rows:
        status = CommitmentStatus(commitment.status)
        everything.append(status)
        agreements.setdefault(negotiation.id, (negotiation.subject_matter, []))[1].append(status)
        sectors[coverage.sector if coverage else None].append(status)
        regions[coverage.region_code if coverage else None].append(status)
    by_agreement = [_row(str(i), label, s) for i, (label, s) in agreements.items()]
    by_agreement.sort(key=lambda r: (r.label or "", r.key or ""))
    return (_row(None, None, everything), by_agreement,
            [_row(k, None, s) for k, s in sorted(sectors.items(), key=lambda kv: kv[0] or "")],
            [_row(k, None, s) for k, s in sorted(regions.items(), key=lambda kv: kv[0] or "")])
