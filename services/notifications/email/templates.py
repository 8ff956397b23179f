"""E-mail texts in Kazakh, Russian and English (``data/templates.json``), chosen by the contact's language."""

from __future__ import annotations

import json
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"


class Language(StrEnum):
    kk = "kk"
    ru = "ru"
    en = "en"


KINDS = ("event", "digest", "endpoint_disabled")


@cache
def templates() -> dict[str, dict[str, Any]]:
    loaded: dict[str, dict[str, Any]] = json.loads((DATA / "templates.json").read_text(encoding="utf-8"))
    # Every language has every text: a missing one would fail at send time, so fail at start.
    keys, names = set(loaded[Language.en]), set(loaded[Language.en]["events"])
    for language in Language:
        if set(loaded.get(language, {})) != keys or set(loaded[language]["events"]) != names:
            raise ValueError(f"e-mail templates for {language} differ from English")
    return loaded


def event_name(language: str, event_type: str) -> str:
    """What happened, in the reader's words where we have them (``kz.ntc.disputes.strike.ruled.v1`` ->
    "решение суда о забастовке"), else the type's own words ("disputes strike ruled")."""
    texts = templates().get(language) or templates()[Language.en]
    tokens = event_type.removeprefix("kz.ntc.").split(".")[:-1]
    name = texts["events"].get(".".join(tokens[-2:]))  # type: ignore[union-attr]
    return name or " ".join(tokens).replace("_", " ")


def render(language: str, kind: str, **fields: Any) -> tuple[str, str]:
    """(subject, body) of one e-mail in ``language`` (English for a language we have no text in)."""
    texts = templates().get(language) or templates()[Language.en]
    subject = texts[f"{kind}_subject"].format(**fields)
    return subject[:300], texts[f"{kind}_body"].format(**fields)


def digest_lines(language: str, items: list[dict[str, str]]) -> str:
    texts = templates().get(language) or templates()[Language.en]
    return "\n".join(texts["digest_line"].format(**item) for item in items)
