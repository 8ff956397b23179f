"""The registration procedure and status confirmation: validate, change state, record history and events.

Never commits. A filing is judged under the rule set in force on the day the applicant
filed it, and the decision records which rule set (code and revision) that was; so the
office's delay can change neither the rules that apply nor the applicant's period.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.registry import Ground, OrganisationStatus
from kernel.calendar import KAZAKHSTAN, checked_day, kazakhstan_today, load_calendar
from kernel.deadlines import Deadline, lock_deadlines_of
from kernel.identity import Identity
from kernel.outbox import record_event
from kernel.problems import Conflict, FieldError, NotFound, Problem
from services.registry.access import DECIDERS, actor_of, acts_for, is_staff
from services.registry.organisations import events as organisation_events
from services.registry.organisations.models import Organisation
from services.registry.organisations.service import (
    SOURCE,
    invalid,
    new_organisation,
    record_history,
    require_organisation,
    set_sectors,
)
from services.registry.reference import catalogue
from services.registry.register.rules import search_text
from services.registry.registrations import deadlines, events
from services.registry.registrations.models import RegistrationApplication, StatusConfirmation
from services.registry.registrations.rules import (
    TRANSITIONS,
    ApplicationAction,
    ApplicationFacts,
    ApplicationStatus,
    ConfirmationFacts,
    Geography,
    IllegalTransition,
    check_application,
    check_status_confirmation,
    correction_due,
    grounds_for_decision,
    needs_status_confirmation,
    next_status,
    resume_after_return,
    status_confirmation_due,
)
from services.registry.registrations.schemas import (
    ApplicationCreate,
    ApplicationPublic,
    CitedGround,
    ConfirmationDecision,
    ConfirmationFiling,
    ConfirmationPublic,
    Decision,
    Filing,
    PreCheck,
    PreCheckResult,
)
from services.registry.rulesets.rules import RuleSet
from services.registry.rulesets.service import rule_set_on

# Astana (the capital) and Almaty, which the 2014 thresholds name.
CAPITAL_CITIES = frozenset({"710000000", "750000000"})



def geography() -> Geography:
    return Geography(regions=frozenset(r.code for r in catalogue.regions()), capital_cities=CAPITAL_CITIES)



def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=KAZAKHSTAN).astimezone(UTC)


def _illegal(exc: IllegalTransition) -> Problem:
    return Problem(409, "illegal-transition", "Not allowed in this state", str(exc),
                   status_now=exc.current.value, allowed=[a.value for a in exc.allowed])


def _transition(application: RegistrationApplication, action: ApplicationAction) -> None:
    try:
        application.status = next_status(application.status, action)
    except IllegalTransition as exc:
        raise _illegal(exc) from None
    application.version += 1
    application.updated_at = datetime.now(UTC)


def _grounds_json(grounds: list[Ground]) -> list[dict[str, str]]:
    return [g.model_dump() for g in grounds]


def _cited(rule_set: RuleSet, cited: list[CitedGround]) -> list[Ground]:
    unknown = [i for i, g in enumerate(cited) if not rule_set.knows(g.rule)]
    if unknown:
        known = sorted(g.code for g in rule_set.body.refusal_grounds)
        raise Problem(422, "validation", "Invalid request",
                      f"A ground must be a rule of {rule_set.code}; grounds outside the law cannot be cited.",
                      errors=[FieldError(pointer=f"/grounds/{i}/rule", rule="ground_in_rule_set",
                                         detail=f"'{cited[i].rule}' is not in {rule_set.code}; "
                                                f"its grounds are: {', '.join(known)}") for i in unknown])
    return [Ground(rule=g.rule, article=rule_set.article_of(g.rule), detail=g.detail) for g in cited]


# --- registration applications -------------------------------------------------------------

async def pre_check(session: AsyncSession, check: PreCheck) -> PreCheckResult:
    on = check.on or kazakhstan_today()
    rule_set = await rule_set_on(session, on, pointer="/on")
    grounds = check_application(ApplicationFacts(check.kind, check.founders, frozenset(check.documents)), rule_set)
    return PreCheckResult(rule_set=rule_set.reference, passes=not grounds, grounds=grounds)


async def _open_application(session: AsyncSession, organisation_id: uuid.UUID) -> RegistrationApplication | None:
    return await session.scalar(select(RegistrationApplication).where(
        RegistrationApplication.organisation_id == organisation_id,
        RegistrationApplication.status.in_([ApplicationStatus.submitted, ApplicationStatus.under_review,
                                            ApplicationStatus.returned])))


async def submit_application(session: AsyncSession, *, application: ApplicationCreate,
                             identity: Identity) -> RegistrationApplication:
    actor = actor_of(identity)
    filed_on = checked_day(application.filed_on, "/filed_on")
    if application.organisation_id is None:
        if not is_staff(identity, *DECIDERS):
            raise Problem(403, "forbidden", "Forbidden",
                          "A first application is recorded by a registrar; an organisation re-applies for itself.")
        organisation = new_organisation(application, kind=application.kind, status=OrganisationStatus.applicant)
        session.add(organisation)
        await session.flush()
    else:
        if not (is_staff(identity, *DECIDERS) or acts_for(identity, application.organisation_id)):
            raise NotFound("organisation")
        organisation = await require_organisation(session, application.organisation_id, for_update=True)
        if organisation.status != OrganisationStatus.refused:
            raise Conflict(f"Only an organisation whose application was refused re-applies; this one is "
                           f"{organisation.status}.", status=organisation.status)
        for name, value in application.model_dump(include={"name_kk", "name_ru", "name_en", "legal_address",
                                                           "region_code"}).items():
            setattr(organisation, name, value)
        organisation.officers = [o.model_dump() for o in application.officers]
        organisation.search_name = search_text(organisation.name_kk, organisation.name_ru, organisation.name_en)
        organisation.kind = application.kind
        organisation.status = OrganisationStatus.applicant
        organisation.version += 1
    await set_sectors(session, organisation.id, application.sectors)
    row = RegistrationApplication(
        organisation_id=organisation.id, status=ApplicationStatus.submitted, founders=application.founders,
        documents=application.documents, filed_on=filed_on, first_filed_on=filed_on)
    session.add(row)
    await session.flush()
    record_history(session, organisation.id, "application_submitted", actor, application_id=row.id,
                   detail={"attempt": 1, "founders": row.founders, "documents": row.documents,
                           "filed_on": filed_on.isoformat()})
    record_event(session, events.application_submitted(row, organisation), source=SOURCE)
    return row


async def require_application(session: AsyncSession, application_id: uuid.UUID, identity: Identity, *,
                              for_update: bool = False) -> RegistrationApplication:
    if for_update:
        await lock_deadlines_of(session, application_id)  # in the sweeper's order: its deadlines first
    application = await session.get(RegistrationApplication, application_id, with_for_update=for_update)
    if application is None or not (is_staff(identity, "registrar", "administrator", "analyst")
                                   or acts_for(identity, application.organisation_id)):
        raise NotFound("application")
    return application


async def resubmit(session: AsyncSession, application_id: uuid.UUID, *, filing: Filing,
                   identity: Identity) -> RegistrationApplication:
    application = await require_application(session, application_id, identity, for_update=True)
    if not (is_staff(identity, *DECIDERS) or acts_for(identity, application.organisation_id)):
        raise Problem(403, "forbidden", "Forbidden", "Corrections are filed by the applicant or a registrar.")
    filed_on = checked_day(filing.filed_on, "/filed_on", not_before=application.decided_on, what="the return")
    _transition(application, ApplicationAction.resubmit)
    application.attempt += 1
    application.founders = filing.founders
    application.documents = filing.documents
    application.filed_on = filed_on
    application.correction_due = None
    application.decided_on = None
    application.grounds = []
    application.rule_set_code = application.rule_set_revision = None
    await deadlines.correction_filed(session, application.id)
    organisation = await require_organisation(session, application.organisation_id)
    record_history(session, organisation.id, "application_resubmitted", actor_of(identity),
                   application_id=application.id,
                   detail={"attempt": application.attempt, "founders": filing.founders,
                           "documents": filing.documents, "filed_on": filed_on.isoformat()})
    record_event(session, events.application_submitted(application, organisation), source=SOURCE)
    return application


async def start_review(session: AsyncSession, application_id: uuid.UUID, *,
                       identity: Identity) -> RegistrationApplication:
    application = await require_application(session, application_id, identity, for_update=True)
    _transition(application, ApplicationAction.start_review)
    record_history(session, application.organisation_id, "review_started", actor_of(identity),
                   application_id=application.id, detail={"attempt": application.attempt})
    return application


async def decide(session: AsyncSession, application_id: uuid.UUID, *, decision: Decision,
                 identity: Identity) -> RegistrationApplication:
    application = await require_application(session, application_id, identity, for_update=True)
    decided_on = checked_day(decision.decided_on, "/decided_on", not_before=application.filed_on, what="the filing")
    action = {"register": ApplicationAction.register, "refuse": ApplicationAction.refuse,
              "return": ApplicationAction.return_for_correction}[decision.outcome]
    try:
        next_status(application.status, action)
    except IllegalTransition as exc:
        raise _illegal(exc) from None
    organisation = await require_organisation(session, application.organisation_id, for_update=True)
    rule_set = await rule_set_on(session, application.filed_on, pointer="/decided_on")
    automatic = check_application(ApplicationFacts(organisation.kind, application.founders,
                                                   frozenset(application.documents)), rule_set)
    cited = _cited(rule_set, decision.grounds)
    calendar = await load_calendar(session)
    actor = actor_of(identity)
    if action is ApplicationAction.register:
        if automatic:
            raise Problem(409, "checks-failing", "The application fails the law's checks",
                          "An application that fails a rule cannot be registered; refuse or return it, "
                          "stating these grounds.", grounds=_grounds_json(automatic),
                          rule_set=rule_set.reference.model_dump())
        if cited:
            raise invalid("/grounds", "no_grounds_when_registering", "a registration states no grounds")
    grounds = grounds_for_decision(automatic, cited)
    if action is not ApplicationAction.register and not grounds:
        raise invalid("/grounds", "at_least_one_ground",
                      "a refusal or a return states every ground it rests on; none was given and every check passes")
    _transition(application, action)
    application.decided_on = decided_on
    application.rule_set_code, application.rule_set_revision = rule_set.code, rule_set.revision
    application.grounds = _grounds_json(grounds)
    detail: dict[str, object] = {"attempt": application.attempt, "decided_on": decided_on.isoformat(),
                                 "grounds": application.grounds}
    if action is ApplicationAction.register:
        organisation.status = OrganisationStatus.registered
        organisation.registered_at = datetime.now(UTC) if decided_on == kazakhstan_today() else _start_of(decided_on)
        if needs_status_confirmation(organisation.kind, rule_set):
            organisation.status_confirmation_due = status_confirmation_due(decided_on, rule_set, calendar)
            detail["status_confirmation_due"] = organisation.status_confirmation_due.isoformat()
            await deadlines.schedule_status_confirmation(session, organisation, rule_set)
        record_event(session, organisation_events.organisation_registered(organisation), source=SOURCE)
        history_action = "registered"
    elif action is ApplicationAction.refuse:
        organisation.status = OrganisationStatus.refused
        record_event(session, events.application_refused(application, rule_set.reference), source=SOURCE)
        history_action = "refused"
    else:
        application.correction_due = correction_due(decided_on, rule_set, calendar)
        detail["correction_due"] = application.correction_due.isoformat()
        await deadlines.schedule_correction(session, application, rule_set)
        record_event(session, events.application_returned(application, rule_set.reference), source=SOURCE)
        history_action = "returned"
    organisation.version += 1
    organisation.updated_at = datetime.now(UTC)
    record_history(session, organisation.id, history_action, actor, application_id=application.id,
                   rule_set=rule_set.reference, detail=detail)
    return application


async def list_applications(session: AsyncSession, *, identity: Identity, organisation_id: uuid.UUID | None,
                            status: ApplicationStatus | None, limit: int,
                            offset: int) -> tuple[list[RegistrationApplication], int]:
    query = select(RegistrationApplication)
    if not is_staff(identity, "registrar", "administrator", "analyst"):
        # An organisation sees its own applications only.
        own = identity.organisation_id
        if own is None or (organisation_id is not None and str(organisation_id) != own):
            return [], 0
        organisation_id = uuid.UUID(own)
    if organisation_id is not None:
        query = query.where(RegistrationApplication.organisation_id == organisation_id)
    if status is not None:
        query = query.where(RegistrationApplication.status == status)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(query.order_by(RegistrationApplication.first_filed_on.desc(),
                                                RegistrationApplication.id).limit(limit).offset(offset))
    return list(rows.scalars().all()), int(total or 0)


async def application_views(session: AsyncSession,
                            applications: list[RegistrationApplication]) -> list[ApplicationPublic]:
    ids = {a.organisation_id for a in applications}
    organisations = {o.id: o for o in (await session.execute(
        select(Organisation).where(Organisation.id.in_(ids)))).scalars()} if ids else {}
    views = []
    for a in applications:
        o = organisations[a.organisation_id]
        rule_set = ({"code": a.rule_set_code, "revision": a.rule_set_revision, "title": a.rule_set_code}
                    if a.rule_set_code else None)
        views.append(ApplicationPublic(
            id=a.id, organisation_id=a.organisation_id, kind=o.kind, name_kk=o.name_kk, name_ru=o.name_ru,
            status=a.status, attempt=a.attempt, founders=a.founders, documents=a.documents, filed_on=a.filed_on,
            first_filed_on=a.first_filed_on, correction_due=a.correction_due, decided_on=a.decided_on,
            rule_set=rule_set, grounds=[Ground.model_validate(g) for g in a.grounds],
            allowed_actions=sorted(_allowed(a.status)), version=a.version, updated_at=a.updated_at))
    return views


def _allowed(status: ApplicationStatus) -> list[ApplicationAction]:
    return list(TRANSITIONS[status])


# --- status confirmation -------------------------------------------------------------------

async def _confirmation_check(session: AsyncSession, organisation: Organisation,
                              confirmation: StatusConfirmation) -> tuple[RuleSet, list[Ground]]:
    rule_set = await rule_set_on(session, confirmation.filed_on, pointer="/filed_on")
    facts = ConfirmationFacts(kind=organisation.kind, regions_covered=frozenset(confirmation.regions_covered),
                              members=confirmation.members, affiliated=organisation.parent_id is not None)
    return rule_set, check_status_confirmation(facts, rule_set, geography())


async def confirmation_view(session: AsyncSession, organisation: Organisation,
                            confirmation: StatusConfirmation) -> ConfirmationPublic:
    check = None
    if confirmation.outcome is None:
        rule_set, grounds = await _confirmation_check(session, organisation, confirmation)
        check = PreCheckResult(rule_set=rule_set.reference, passes=not grounds, grounds=grounds)
    rule_set_ref = ({"code": confirmation.rule_set_code, "revision": confirmation.rule_set_revision,
                     "title": confirmation.rule_set_code} if confirmation.rule_set_code else None)
    return ConfirmationPublic(
        id=confirmation.id, organisation_id=confirmation.organisation_id, filed_on=confirmation.filed_on,
        regions_covered=confirmation.regions_covered, members=confirmation.members, outcome=confirmation.outcome,
        decided_on=confirmation.decided_on, rule_set=rule_set_ref,
        grounds=[Ground.model_validate(g) for g in confirmation.grounds], check=check)


async def file_confirmation(session: AsyncSession, organisation_id: uuid.UUID, *, filing: ConfirmationFiling,
                            identity: Identity) -> StatusConfirmation:
    organisation = await require_organisation(session, organisation_id, for_update=True)
    if organisation.status != OrganisationStatus.registered or organisation.status_confirmation_due is None:
        raise Conflict(f"Status confirmation is for a registered union awaiting it; this organisation is "
                       f"{organisation.status}.", status=organisation.status)
    filed_on = checked_day(filing.filed_on, "/filed_on", not_before=organisation.registered_at.date()
                    if organisation.registered_at else None, what="the registration")
    if filed_on > organisation.status_confirmation_due:
        raise Conflict(f"The period to confirm the status ended on {organisation.status_confirmation_due}.",
                       due=organisation.status_confirmation_due.isoformat())
    pending = await session.scalar(select(StatusConfirmation.id).where(
        StatusConfirmation.organisation_id == organisation_id, StatusConfirmation.outcome.is_(None)))
    if pending is not None:
        raise Conflict("A status confirmation is already with the office.", confirmation_id=str(pending))
    unknown = sorted(set(filing.regions_covered) - geography().regions)
    if unknown:
        raise invalid("/regions_covered", "known_region", f"unknown region codes: {', '.join(unknown)}")
    confirmation = StatusConfirmation(organisation_id=organisation_id, filed_on=filed_on,
                                      regions_covered=sorted(set(filing.regions_covered)), members=filing.members)
    session.add(confirmation)
    await session.flush()
    await deadlines.status_confirmation_filed(session, organisation_id)
    record_history(session, organisation_id, "status_confirmation_filed", actor_of(identity),
                   detail={"confirmation_id": str(confirmation.id), "filed_on": filed_on.isoformat(),
                           "members": filing.members, "regions_covered": confirmation.regions_covered})
    return confirmation


async def require_confirmation(session: AsyncSession, organisation_id: uuid.UUID,
                               confirmation_id: uuid.UUID) -> StatusConfirmation:
    confirmation = await session.get(StatusConfirmation, confirmation_id)
    if confirmation is None or confirmation.organisation_id != organisation_id:
        raise NotFound("status confirmation")
    return confirmation


async def decide_confirmation(session: AsyncSession, organisation_id: uuid.UUID, confirmation_id: uuid.UUID, *,
                              decision: ConfirmationDecision, identity: Identity) -> StatusConfirmation:
    organisation = await require_organisation(session, organisation_id, for_update=True)
    confirmation = await require_confirmation(session, organisation_id, confirmation_id)
    if confirmation.outcome is not None:
        raise Conflict(f"This filing was decided on {confirmation.decided_on}: {confirmation.outcome}.")
    decided_on = checked_day(decision.decided_on, "/decided_on", not_before=confirmation.filed_on, what="the filing")
    rule_set, automatic = await _confirmation_check(session, organisation, confirmation)
    cited = _cited(rule_set, decision.grounds)
    actor = actor_of(identity)
    if decision.outcome == "confirm":
        if automatic:
            raise Problem(409, "checks-failing", "The filing fails the law's checks",
                          "A status that fails a rule cannot be confirmed; refuse or return the filing, "
                          "stating these grounds.", grounds=_grounds_json(automatic),
                          rule_set=rule_set.reference.model_dump())
        if cited:
            raise invalid("/grounds", "no_grounds_when_confirming", "a confirmation states no grounds")
        grounds: list[Ground] = []
    else:
        grounds = grounds_for_decision(automatic, cited)
        if not grounds:
            raise invalid("/grounds", "at_least_one_ground",
                          "a refusal or a return states every ground it rests on; none was given and every "
                          "check passes")
    confirmation.outcome = {"confirm": "confirmed", "refuse": "not_confirmed", "return": "returned"}[decision.outcome]
    confirmation.decided_on = decided_on
    confirmation.rule_set_code, confirmation.rule_set_revision = rule_set.code, rule_set.revision
    confirmation.grounds = _grounds_json(grounds)
    detail: dict[str, object] = {"confirmation_id": str(confirmation.id), "decided_on": decided_on.isoformat(),
                                 "grounds": confirmation.grounds}
    if decision.outcome == "confirm":
        organisation.status = OrganisationStatus.confirmed
        organisation.confirmed_on = decided_on
        record_event(session, events.status_confirmed(organisation, rule_set.reference), source=SOURCE)
        action = "status_confirmed"
    elif decision.outcome == "refuse":
        organisation.status = OrganisationStatus.lapsed
        organisation.lapsed_on = decided_on
        record_event(session, events.status_lapsed(organisation, reason="confirmation_refused", grounds=grounds,
                                                    rule_set=rule_set.reference), source=SOURCE)
        action = "status_confirmation_refused"
    else:
        assert organisation.status_confirmation_due is not None
        calendar = await load_calendar(session)
        organisation.status_confirmation_due = resume_after_return(
            organisation.status_confirmation_due, confirmation.filed_on, decided_on, calendar)
        detail["status_confirmation_due"] = organisation.status_confirmation_due.isoformat()
        await deadlines.schedule_status_confirmation(session, organisation, rule_set)
        action = "status_confirmation_returned"
    organisation.version += 1
    organisation.updated_at = datetime.now(UTC)
    record_history(session, organisation_id, action, actor, rule_set=rule_set.reference, detail=detail)
    return confirmation


async def lapse_if_unconfirmed(session: AsyncSession, organisation_id: uuid.UUID, *, on: date) -> bool:
    """The status lapses when the period ended with no filing with the office; True if it lapsed.

    A filing made in time and still undecided keeps the status alive, however long the office takes.
    """
    organisation = await session.get(Organisation, organisation_id, with_for_update=True)
    if (organisation is None or organisation.status != OrganisationStatus.registered
            or organisation.status_confirmation_due is None or on <= organisation.status_confirmation_due):
        return False
    pending = await session.scalar(select(StatusConfirmation.id).where(
        StatusConfirmation.organisation_id == organisation_id, StatusConfirmation.outcome.is_(None)))
    if pending is not None:
        return False
    organisation.status = OrganisationStatus.lapsed
    organisation.lapsed_on = on
    organisation.version += 1
    organisation.updated_at = datetime.now(UTC)
    record_history(session, organisation_id, "status_lapsed", "system",
                   detail={"reason": "deadline_missed", "due": organisation.status_confirmation_due.isoformat()})
    record_event(session, events.status_lapsed(organisation, reason="deadline_missed"), source=SOURCE)
    return True


async def confirmations(session: AsyncSession, organisation_id: uuid.UUID) -> list[StatusConfirmation]:
    rows = await session.execute(select(StatusConfirmation).where(StatusConfirmation.organisation_id == organisation_id)
                                 .order_by(StatusConfirmation.filed_on.desc(), StatusConfirmation.created_at.desc()))
    return list(rows.scalars().all())


async def on_deadline_missed(session: AsyncSession, deadline: Deadline) -> None:
    """The deadline sweeper's hook, run in the transaction that records the missed event."""
    if deadline.kind == deadlines.STATUS_CONFIRMATION:
        await lapse_if_unconfirmed(session, uuid.UUID(deadline.subject_id), on=deadline.due_on + timedelta(days=1))
