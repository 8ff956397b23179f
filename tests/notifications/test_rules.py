"""Routing, SSRF and retry rules as plain code: no database, no bus, no HTTP."""

from __future__ import annotations

import ipaddress
from datetime import UTC, date, datetime, timedelta

import pytest

from services.notifications.email.templates import Language, event_name, render, templates
from services.notifications.routing import rules
from services.notifications.routing.rules import Channel, SubscriptionView
from services.notifications.webhooks import rules as webhook_rules
from services.notifications.webhooks.rules import AllowList, Outcome, Refusal

LAW = rules.rules_on(date(2026, 11, 27))


@pytest.mark.parametrize("pattern, event_type, expected", [
    ("kz.ntc.disputes.>", "kz.ntc.disputes.strike.ruled.v1", True),
    ("kz.ntc.disputes.>", "kz.ntc.disputesx.strike.ruled.v1", False),
    ("kz.ntc.*.deadline.missed.v1", "kz.ntc.registry.deadline.missed.v1", True),
    ("kz.ntc.*.deadline.missed.v1", "kz.ntc.registry.deadline.missed.v2", False),
    ("kz.ntc.registry.organisation.registered.v1", "kz.ntc.registry.organisation.registered.v1", True),
    ("kz.ntc.registry.>", "kz.ntc.registry", False),
])
def test_patterns_match_as_the_bus_does(pattern, event_type, expected):
    assert rules.matches(pattern, event_type) is expected


@pytest.mark.parametrize("pattern", ["kz.ntc.>.missed", "x.ntc.>", "kz.ntc.Disputes.>", "kz.ntc.", "kz.ntc.a b.>"])
def test_bad_patterns_are_named(pattern):
    assert rules.pattern_problem(pattern) is not None


def test_deadlines_and_decisions_reach_a_party_without_a_subscription():
    for event_type in ("kz.ntc.registry.deadline.approaching.v1", "kz.ntc.disputes.deadline.missed.v1",
                       "kz.ntc.disputes.strike.ruled.v1", "kz.ntc.registry.application.refused.v1"):
        route = rules.route(event_type, [], ["c1", "c2"], LAW)
        assert route.inbox and route.email_now == {"c1", "c2"} and not route.endpoint_ids
    ordinary = rules.route("kz.ntc.bargaining.clause.proposed.v1", [], ["c1"], LAW)
    assert ordinary.inbox and not ordinary.email_now and not ordinary.email_digest


def test_subscriptions_choose_channels_and_the_digest_never_holds_a_deadline():
    subscriptions = [SubscriptionView("kz.ntc.bargaining.>", Channel.email, contact_id="c1", digest=True),
                     SubscriptionView("kz.ntc.bargaining.>", Channel.email, contact_id=None),
                     SubscriptionView("kz.ntc.bargaining.>", Channel.webhook, endpoint_id="e1"),
                     SubscriptionView("kz.ntc.disputes.>", Channel.inbox)]
    low = rules.route("kz.ntc.bargaining.clause.proposed.v1", subscriptions[:1], ["c1", "c2"], LAW)
    assert low.email_digest == {"c1"} and not low.email_now
    mixed = rules.route("kz.ntc.bargaining.clause.proposed.v1", subscriptions, ["c1", "c2"], LAW)
    assert mixed.email_now == {"c1", "c2"} and mixed.endpoint_ids == {"e1"}
    assert mixed.inbox is False  # the inbox was narrowed to disputes
    deadline = rules.route("kz.ntc.bargaining.deadline.missed.v1", subscriptions[:1], ["c1"], LAW)
    assert deadline.email_now == {"c1"} and not deadline.email_digest and deadline.inbox


def test_a_complaint_leaves_as_a_thin_notice():
    assert LAW.is_sensitive("kz.ntc.disputes.complaint.received.v1")
    assert not LAW.is_sensitive("kz.ntc.disputes.demands.submitted.v1")
    envelope = {"specversion": "1.0", "id": "e1", "source": "/disputes",
                "type": "kz.ntc.disputes.complaint.received.v1", "subject": "s1", "time": "2026-11-27T10:00:00Z",
                "correlationid": "c", "data": {"name": "secret"}}
    link = LAW.link("https://ntc.kz/", envelope["type"], "s1")
    assert link == "https://ntc.kz/api/v1/disputes/complaints/s1"
    thin = rules.thin_envelope(envelope, link)
    assert thin["data"] == {"thin": True, "link": link} and "correlationid" not in thin


@pytest.mark.parametrize("address, refusal", [
    ("169.254.169.254", Refusal.metadata), ("fd00:ec2::254", Refusal.metadata), ("127.0.0.1", Refusal.loopback),
    ("::1", Refusal.loopback), ("0.0.0.0", Refusal.loopback), ("10.1.2.3", Refusal.private),
    ("172.16.0.1", Refusal.private), ("192.168.0.1", Refusal.private), ("169.254.1.1", Refusal.link_local),
    ("fe80::1", Refusal.link_local), ("::ffff:10.0.0.1", Refusal.private), ("100.64.0.1", Refusal.not_global),
    ("224.0.0.1", Refusal.not_global), ("93.184.216.34", None), ("2606:4700::1111", None),
])
def test_webhook_addresses(address, refusal):
    assert webhook_rules.refused_address(ipaddress.ip_address(address)) == refusal


def test_the_allow_list_admits_only_what_it_names():
    allow = AllowList.parse(["127.0.0.1", "10.0.0.0/8", "receiver.test"])
    assert allow.allows("x", ipaddress.ip_address("127.0.0.1")) and allow.allows("x", ipaddress.ip_address("10.9.9.9"))
    assert not allow.allows("x", ipaddress.ip_address("127.0.0.2")) and allow.allows("Receiver.test.")
    problem = webhook_rules.addresses_problem("h", [ipaddress.ip_address("8.8.8.8"),
                                                    ipaddress.ip_address("192.168.1.1")], AllowList.parse([]))
    assert problem is not None and problem[0] == "private_address"  # one bad address is enough
    assert webhook_rules.addresses_problem("h", [], AllowList.parse([]))[0] == "resolvable"


def test_retries_back_off_with_jitter_over_about_three_days_and_honour_retry_after():
    schedule = (5, 300, 1800, 7200, 18000, 36000, 36000, 36000, 36000, 36000, 36000)
    assert 2.5 * 86400 < sum(schedule) < 3.5 * 86400
    now = datetime(2026, 11, 27, tzinfo=UTC)
    low = webhook_rules.next_attempt_at(now, 2, schedule, jitter=0.1, retry_after=None, max_retry_after=86400,
                                        random=lambda: 0.0)
    high = webhook_rules.next_attempt_at(now, 2, schedule, jitter=0.1, retry_after=None, max_retry_after=86400,
                                         random=lambda: 1.0)
    assert (low - now, high - now) == (timedelta(seconds=270), timedelta(seconds=330))
    later = webhook_rules.next_attempt_at(now, 1, schedule, jitter=0, retry_after=600, max_retry_after=86400,
                                          random=lambda: 0.5)
    assert later - now == timedelta(seconds=600)
    capped = webhook_rules.next_attempt_at(now, 1, schedule, jitter=0, retry_after=10**9, max_retry_after=86400,
                                           random=lambda: 0.5)
    assert capped - now == timedelta(days=1)
    assert webhook_rules.parse_retry_after("120", now) == 120
    assert webhook_rules.parse_retry_after("Fri, 27 Nov 2026 00:02:00 GMT", now) == 120
    assert webhook_rules.parse_retry_after("soon", now) is None
    assert webhook_rules.outcome_of(200, 1, schedule) is Outcome.delivered
    assert webhook_rules.outcome_of(410, 1, schedule) is Outcome.gone
    assert webhook_rules.outcome_of(None, len(schedule), schedule) is Outcome.retry
    assert webhook_rules.outcome_of(503, len(schedule) + 1, schedule) is Outcome.exhausted


def test_every_language_has_every_text():
    assert set(templates()) == {language.value for language in Language}
    subject, body = render("kk", "event", what="x", type="t", subject="s", time="now", link="L")
    assert subject == "ҰҮК: x" and "L" in body
    assert event_name("ru", "kz.ntc.registry.deadline.missed.v1") == "срок пропущен"
    assert event_name("kk", "kz.ntc.disputes.strike.ruled.v1") == "ереуіл туралы сот шешімі"
    assert event_name("en", "kz.ntc.bargaining.clause.proposed.v1") == "bargaining clause proposed"


def test_every_routing_pattern_names_events_that_exist():
    from contracts import load_catalog

    types = list(load_catalog())
    for pattern in [*LAW.always_delivered.patterns, *LAW.sensitive.patterns, *(link.pattern for link in LAW.links),
                    *(p for desk in LAW.staff_desks.values() for p in desk.patterns)]:
        assert any(rules.matches(pattern, t) for t in types), f"{pattern} matches no published event type"


def test_every_staff_role_has_a_desk_entry_and_no_desk_is_unknown():
    from gateway.staff.service import STAFF_ROLES

    assert set(LAW.staff_desks) == set(STAFF_ROLES)
    assert all(desk.why.strip() for desk in LAW.staff_desks.values())
    assert rules.problems_of(LAW) == []


@pytest.mark.parametrize("event_type, desks", [
    ("kz.ntc.registry.application.submitted.v1", ("registrar",)),
    ("kz.ntc.registry.organisation.status_lapsed.v1", ("registrar",)),
    ("kz.ntc.registry.deadline.missed.v1", ("registrar",)),
    ("kz.ntc.bargaining.agreement.signed.v1", ("bargaining_officer",)),
    ("kz.ntc.bargaining.agreement.filed.v1", ("bargaining_officer",)),
    ("kz.ntc.bargaining.accession.requested.v1", ("bargaining_officer",)),
    ("kz.ntc.bargaining.negotiation.evaded.v1", ("bargaining_officer",)),
    ("kz.ntc.bargaining.deadline.missed.v1", ("bargaining_officer",)),
    ("kz.ntc.disputes.demands.submitted.v1", ("dispute_officer",)),
    ("kz.ntc.disputes.dispute.stalled.v1", ("dispute_officer",)),
    ("kz.ntc.disputes.strike.started.v1", ("dispute_officer",)),
    ("kz.ntc.disputes.deadline.missed.v1", ("dispute_officer",)),
    ("kz.ntc.disputes.complaint.received.v1", ("labour_inspector",)),
    ("kz.ntc.disputes.complaint.consideration_overdue.v1", ("labour_inspector",)),
    ("kz.ntc.registry.deadline.approaching.v1", ()),   # a reminder to the party, not work for the ministry
    ("kz.ntc.bargaining.clause.proposed.v1", ()),
    ("kz.ntc.disputes.complaint.employer_notified.v1", ()),
])
def test_an_event_lands_on_the_desks_of_the_roles_it_concerns(event_type, desks):
    assert LAW.desks_for(event_type) == desks


def test_an_overdue_complaint_is_the_inspectors_work_as_a_thin_notice_the_union_is_not_told_twice():
    overdue = "kz.ntc.disputes.complaint.consideration_overdue.v1"
    assert LAW.desks_for(overdue) == ("labour_inspector",) and LAW.is_sensitive(overdue)
    # The union already hears of the period through deadline.missed without subscribing; this one it may
    # subscribe to, and is not sent unasked.
    assert LAW.always("kz.ntc.disputes.deadline.missed.v1") and not LAW.always(overdue)
    unasked = rules.route(overdue, [], ["c1"], LAW)
    assert not unasked.email_now and not unasked.email_digest and not unasked.endpoint_ids
    assert LAW.link("https://ntc.kz/", overdue, "s1") == "https://ntc.kz/api/v1/disputes/complaints/s1"


def test_no_published_event_lands_on_two_desks():
    from contracts import load_catalog

    # One person with two roles would see it twice; the rule data keeps the desks apart.
    assert [t for t in load_catalog() if len(LAW.desks_for(t)) > 1] == []


def test_only_roles_with_patterns_have_a_desk():
    assert LAW.desks_of(["analyst", "administrator"]) == ()
    assert LAW.desks_of(["registrar", "analyst", "dispute_officer"]) == ("dispute_officer", "registrar")
    assert LAW.desks_of(["reader", "Registrar"]) == ()


def test_a_bad_desk_is_named():
    desks = {"registrar": {"patterns": ["kz.ntc.registry.>.v1"], "why": "w"},
             "Bad Role": {"patterns": [], "why": "w"}}
    problems = rules.problems_of(rules.RoutingRules.model_validate({**LAW.model_dump(mode="json"),
                                                                    "staff_desks": desks}))
    assert len(problems) == 2
    assert "'>' may only be the last token" in problems[0] and "'Bad Role'" in problems[1]
