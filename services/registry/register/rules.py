"""Plain rules of the public register's search and export: no I/O, testable alone."""

from __future__ import annotations

import unicodedata

# Joins the three names in the search column; a fragment never matches across it, because
# fragments are normalised to a single line.
NAME_SEPARATOR = "\n"
# Excel and LibreOffice run a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def normalise(text: str) -> str:
    """Lower-case, width- and accent-stable form of a name or a search fragment.

    SQLite's lower() and LIKE fold ASCII only, so the registry stores this form and compares
    it as plain text on every backend. NFKC merges look-alike code points; casefold folds
    Cyrillic (including the Kazakh letters) as well as Latin; ё is searched as е, since
    Russian text is typed either way. Runs of white space become one space.
    """
    folded = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    return " ".join(folded.split())


def search_text(name_kk: str | None, name_ru: str | None, name_en: str | None) -> str:
    """The value of Organisation.search_name: every name the organisation has, normalised."""
    return NAME_SEPARATOR.join(normalise(n) for n in (name_kk, name_ru, name_en) if n)


def fragment_problem(fragment: str) -> str | None:
    if len(normalise(fragment)) < 2:
        return "a name fragment has at least 2 letters"
    return None


def csv_cell(value: object) -> str:
    """A value as a CSV cell that a spreadsheet shows as text and never runs as a formula."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
