"""The dashboard's headline figures, asked of the services as the signed-in staff member.

A service that is down or slow must not take the dashboard with it: each question is bounded
by the readiness timeout, and what could not be had is left out with a notice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from babel import numbers
from fastapi import Request
from markupsafe import Markup

from gateway.i18n import N_
from gateway.portal import charts
from gateway.portal.upstream import ServiceUnavailable, call

UNION_KINDS = frozenset({"republican_union_association", "sectoral_union", "territorial_union_association",
                         "local_union", "primary_union_organisation"})
AWAITING = ("submitted", "under_review")
MEMBERS_CHART_TITLE = N_("Union members by year")
MEMBERS_CHART_DESCRIPTION = N_("Members reported by every union, summed per year.")


def format_number(value: float, language: str) -> str:
    return numbers.format_decimal(value, locale=language)


def format_share(value: float, language: str) -> str:
    """A percentage with one decimal, as the language writes it."""
    return numbers.format_decimal(round(value, 1), format="#,##0.0", locale=language) + " %"


def members_chart(membership: list[dict[str, Any]], language: str, translate: Callable[[str], str],
                  chart_id: str = "members-by-year") -> Markup | None:
    if not membership:
        return None
    return charts.column_chart(chart_id, translate(MEMBERS_CHART_TITLE), translate(MEMBERS_CHART_DESCRIPTION),
                               [(str(year["year"]), year["members"]) for year in membership],
                               fmt=lambda value: format_number(value, language))


async def _awaiting(request: Request, status: str, timeout: float) -> int | None:
    answer, body = await call(request, "registry", "GET", "/registrations", params={"status": status, "limit": 1},
                              timeout=timeout)
    return body["total"] if answer == 200 and isinstance(body, dict) and isinstance(body.get("total"), int) else None


async def registry_headlines(request: Request, language: str, translate: Callable[[str], str]) -> dict[str, Any]:
    """The register's figures for the dashboard; ``{"available": False}`` when the registry cannot give them."""
    timeout = request.app.state.gateway.settings.readiness_timeout_seconds
    if "registry" not in request.app.state.gateway.settings.service_urls:
        return {"available": False}
    try:
        (status, statistics), *awaiting = await asyncio.gather(
            call(request, "registry", "GET", "/statistics", timeout=timeout),
            *(_awaiting(request, state, timeout) for state in AWAITING))
    except ServiceUnavailable:
        return {"available": False}
    try:
        if status != 200:
            return {"available": False}
        organisations = statistics["organisations"]
        membership = sorted(statistics["membership"], key=lambda year: year["year"])
        latest = membership[-1] if membership else None
        return {
            "available": True,
            "organisations": organisations["total"],
            "unions": sum(tally["organisations"] for tally in organisations["by_kind"] if tally["code"] in UNION_KINDS),
            "members": latest["members"] if latest else None,
            "members_year": latest["year"] if latest else None,
            "women_share": latest["women_share"] if latest else None,
            "under_35_share": latest["under_35_share"] if latest else None,
            "awaiting": None if None in awaiting else sum(count for count in awaiting if count is not None),
            "members_chart": members_chart(membership[-8:], language, translate),
        }
    except (KeyError, TypeError, ValueError, AttributeError):  # not the registry's statistics at all
        return {"available": False}
