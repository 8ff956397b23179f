"""Which organisation hears of which event, by which channel: plain rules, no I/O.

An event reaches only the organisations in its ``audience`` (the producer applies the
same access rules as its API when it names them). Within that, an organisation's
subscriptions choose the channels; some events reach a party without any subscription
(its own deadlines and decisions on its own cases); sensitive events leave the platform
only as a thin notice. Apart from the audience, an event can land on the desk of a
ministry staff role (the portal inbox of everyone holding that role) when it asks for the
ministry's work. The lists are rule data (``data/routing-rules.json``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DATA = Path(__file__).parent / "data"

TOKEN = re.compile(r"^[a-z0-9_]+$")
PREFIX = "kz.ntc."


class Channel(StrEnum):
    webhook = "webhook"
    email = "email"
    inbox = "inbox"


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a usable event-type pattern, or None.

    Patterns use the bus's own wildcards: ``*`` one token, ``>`` the rest (last token only),
    e.g. ``kz.ntc.disputes.>`` or ``kz.ntc.*.deadline.missed.v1``.
    """
    if not pattern.startswith(PREFIX):
        return "a pattern starts with kz.ntc."
    tokens = pattern.split(".")
    for i, token in enumerate(tokens):
        if token == ">":
            if i != len(tokens) - 1:
                return "'>' may only be the last token"
        elif token != "*" and not TOKEN.match(token):
            return f"token {token!r} is not a lower-case word, '*' or '>'"
    if len(tokens) < 3 or tokens[2] == "":
        return "a pattern names at least the producer or a wildcard after kz.ntc."
    return None


@lru_cache(maxsize=65_536)  # routing asks the same few (pattern, type) pairs for every event
def matches(pattern: str, event_type: str) -> bool:
    """NATS subject matching: ``*`` is one token, a final ``>`` one or more."""
    p_tokens, s_tokens = pattern.split("."), event_type.split(".")
    for i, token in enumerate(p_tokens):
        if token == ">":
            return len(s_tokens) > i
        if i >= len(s_tokens) or (token != "*" and token != s_tokens[i]):
            return False
    return len(p_tokens) == len(s_tokens)


class _PatternList(BaseModel):
    model_config = ConfigDict(frozen=True)
    patterns: list[str]
    why: str
    verify: bool = False


class _StaffDesk(BaseModel):
    model_config = ConfigDict(frozen=True)
    patterns: list[str]
    why: str


class _Link(BaseModel):
    model_config = ConfigDict(frozen=True)
    pattern: str
    path: str


_NO_DESK = _StaffDesk(patterns=[], why="")


class RoutingRules(BaseModel):
    model_config = ConfigDict(frozen=True)
    code: str
    title: str
    effective_from: date
    always_delivered: _PatternList
    sensitive: _PatternList
    links: list[_Link] = Field(default_factory=list)
    # Per staff role (gateway STAFF_ROLES), the events that reach that role's desk; a role with no
    # patterns has no desk.
    staff_desks: dict[str, _StaffDesk] = Field(default_factory=dict)

    def always(self, event_type: str) -> bool:
        return any(matches(p, event_type) for p in self.always_delivered.patterns)

    def is_sensitive(self, event_type: str) -> bool:
        return any(matches(p, event_type) for p in self.sensitive.patterns)

    def desks_for(self, event_type: str) -> tuple[str, ...]:
        """The staff roles on whose desk ``event_type`` lands, whoever its audience is."""
        return tuple(role for role, desk in self.staff_desks.items()
                     if any(matches(p, event_type) for p in desk.patterns))

    def desks_of(self, roles: Iterable[str]) -> tuple[str, ...]:
        """Of ``roles``, those that have a desk (in a stable order)."""
        return tuple(sorted(role for role in set(roles) if self.staff_desks.get(role, _NO_DESK).patterns))

    def link(self, base_url: str, event_type: str, subject: str | None) -> str:
        for link in self.links:
            if matches(link.pattern, event_type) and (subject or "{subject}" not in link.path):
                return base_url.rstrip("/") + link.path.format(subject=subject or "")
        return base_url.rstrip("/") + "/api/v1/notifications/inbox"


def problems_of(rule_set: RoutingRules) -> list[str]:
    """What is wrong with a rule set's patterns and desk names (empty: usable)."""
    problems = []
    for pattern in [*rule_set.always_delivered.patterns, *rule_set.sensitive.patterns,
                    *(link.pattern for link in rule_set.links),
                    *(p for desk in rule_set.staff_desks.values() for p in desk.patterns)]:
        if (problem := pattern_problem(pattern)) is not None:
            problems.append(f"{pattern!r}: {problem}")
    for role in rule_set.staff_desks:
        if not TOKEN.match(role):  # a desk is named by a role of the identity token, never by a pattern
            problems.append(f"staff desk {role!r}: a desk is named by a lower-case staff role")
    return problems


@cache
def _rule_sets() -> tuple[RoutingRules, ...]:
    raw = json.loads((DATA / "routing-rules.json").read_text())
    sets = sorted((RoutingRules.model_validate(r) for r in raw), key=lambda r: r.effective_from)
    for rule_set in sets:
        if problems := problems_of(rule_set):
            raise ValueError(f"routing rule {rule_set.code}: {'; '.join(problems)}")
    return tuple(sets)


@lru_cache(maxsize=64)
def rules_on(day: date) -> RoutingRules:
    """The rule set in force on ``day`` (the earliest one for days before any)."""
    sets = _rule_sets()
    in_force = [r for r in sets if r.effective_from <= day]
    return in_force[-1] if in_force else sets[0]


@dataclass(frozen=True)
class SubscriptionView:
    """What routing needs of one subscription."""

    pattern: str
    channel: Channel
    endpoint_id: Any = None
    contact_id: Any = None
    digest: bool = False


@dataclass(frozen=True)
class Route:
    """Where one event goes for one organisation."""

    inbox: bool
    endpoint_ids: frozenset[Any]
    # Contacts written to at once, and contacts who get it in their next daily digest.
    email_now: frozenset[Any]
    email_digest: frozenset[Any]


def route(event_type: str, subscriptions: list[SubscriptionView], contact_ids: list[Any],
          rules: RoutingRules) -> Route:
    """The channels of one event for one organisation in its audience.

    - inbox: everything concerning the organisation, unless it chose inbox patterns (then
      those), and always its deadlines and decisions;
    - webhook: the endpoints named by a matching webhook subscription;
    - e-mail: contacts named (or all contacts, for a subscription naming none) by a matching
      e-mail subscription, and every contact for deadlines and decisions. A low-priority event
      matched only by digest subscriptions waits for the contact's daily digest; deadlines and
      decisions never wait.
    """
    always = rules.always(event_type)
    matching = [s for s in subscriptions if matches(s.pattern, event_type)]
    has_inbox_choice = any(s.channel is Channel.inbox for s in subscriptions)
    inbox = always or not has_inbox_choice or any(s.channel is Channel.inbox for s in matching)
    endpoints = frozenset(s.endpoint_id for s in matching if s.channel is Channel.webhook and s.endpoint_id)
    now: set[Any] = set(contact_ids) if always else set()
    digest: set[Any] = set()
    for contact_id in contact_ids:
        chosen = [s for s in matching if s.channel is Channel.email and s.contact_id in (None, contact_id)]
        if not chosen or contact_id in now:
            continue
        if all(s.digest for s in chosen):
            digest.add(contact_id)
        else:
            now.add(contact_id)
    return Route(inbox=inbox, endpoint_ids=endpoints, email_now=frozenset(now), email_digest=frozenset(digest))


def thin_envelope(envelope: dict[str, Any], link: str) -> dict[str, Any]:
    """A sensitive event as it may leave the platform: what happened and where to read it, no content."""
    kept = {k: envelope[k] for k in ("specversion", "id", "source", "type", "subject", "time") if k in envelope}
    return {**kept, "datacontenttype": "application/json", "data": {"thin": True, "link": link}}


def full_envelope(envelope: dict[str, Any], link: str) -> dict[str, Any]:
    return {**envelope, "link": link}
