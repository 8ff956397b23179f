"""The portal's languages: Kazakh, Russian and English.

Messages live in gettext catalogues, ``locales/<lang>/LC_MESSAGES/portal.po`` (extracted from the
portal's templates and routes with Babel: ``make i18n``). They are compiled in memory on first
use, so no ``.mo`` binaries are kept in the repository. The language of a request is the
``ntc_lang`` cookie's (set by the header's language switch), else the best match of the
browser's ``Accept-Language``, else the configured default.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel import dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "portal"
LANGUAGES: tuple[str, ...] = ("kk", "ru", "en")
# Each language named in itself, as the switch shows it.
LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
LANGUAGE_COOKIE = "ntc_lang"
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600
SOURCE_LANGUAGE = "en"  # the msgids are English


def N_(message: str) -> str:  # noqa: N802 - gettext's conventional name, a Babel extraction keyword
    """Marks a message for the catalogue without translating it here (it is translated where shown)."""
    return message


def catalogue_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> Translations:
    """The language's compiled catalogue (compiled once, in memory); the source language has none."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    path = catalogue_path(language)
    if language == SOURCE_LANGUAGE and not path.exists():
        return Translations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def supported(language: str | None) -> str | None:
    """``language`` (any case, with or without a region) if the portal speaks it, else None."""
    if not language:
        return None
    primary = language.strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in LANGUAGES else None


def parse_accept_language(header: str | None) -> list[str]:
    """The languages of an ``Accept-Language`` header, most preferred first (q=0 left out)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "")[:1000].split(",")):
        tag, _, parameters = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*":
            continue
        quality = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


def choose_language(cookie: str | None, accept_language: str | None, default: str) -> str:
    """The cookie's language, else the browser's best supported one, else ``default``."""
    if chosen := supported(cookie):
        return chosen
    for tag in parse_accept_language(accept_language):
        if chosen := supported(tag):
            return chosen
    return supported(default) or SOURCE_LANGUAGE


# --------------------------------------------------------------------------- Jinja2


def _language_of(context: Context) -> str:
    return str(context.get("lang") or SOURCE_LANGUAGE)


def _translations_of(context: Context) -> Translations:
    return translations(_language_of(context))


@pass_context
def _gettext(context: Context, message: str) -> str:
    return _translations_of(context).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return _translations_of(context).ngettext(singular, plural, n)


@pass_context
def _pgettext(context: Context, message_context: str, message: str) -> str:
    return _translations_of(context).pgettext(message_context, message)


@pass_context
def _npgettext(context: Context, message_context: str, singular: str, plural: str, n: int) -> str:
    return _translations_of(context).npgettext(message_context, singular, plural, n)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment  # the database keeps naive UTC


@pass_context
def _format_datetime(context: Context, moment: datetime | str, format: str = "medium") -> str:
    if isinstance(moment, str):  # as a service's JSON gives it (ISO 8601)
        moment = datetime.fromisoformat(moment)
    return dates.format_datetime(_utc(moment), format=format, tzinfo=UTC, locale=_language_of(context))


@pass_context
def _format_date(context: Context, day: date | str | None, format: str = "medium") -> str:
    """A calendar day (a date, or an ISO 8601 string as a service's JSON gives it); a dash for none."""
    if day is None or day == "":
        return "—"
    if isinstance(day, str):
        day = date.fromisoformat(day[:10])
    return dates.format_date(day, format=format, locale=_language_of(context))


@pass_context
def _format_time(context: Context, moment: datetime, format: str = "medium") -> str:
    return dates.format_time(_utc(moment), format=format, tzinfo=UTC, locale=_language_of(context))


@pass_context
def _format_number(context: Context, number: float) -> str:
    return numbers.format_decimal(number, locale=_language_of(context))


def install(environment: Environment) -> None:
    """Gives ``environment`` gettext (newstyle: ``_("...", name=value)`` and ``{% trans %}``) in the
    language of each render's ``lang`` variable, and the filters ``datetime``, ``time`` and ``number``
    that format per that language, and ``day`` for calendar days. One environment serves every language at once."""
    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True, pgettext=_pgettext, npgettext=_npgettext)
    filters: dict[str, Callable[..., Any]] = {
        "datetime": _format_datetime, "time": _format_time, "number": _format_number, "day": _format_date}
    environment.filters.update(filters)
