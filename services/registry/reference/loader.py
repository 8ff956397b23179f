"""Read a versioned reference data file and prove it is the one a migration was written for.

Migrations call `read_document` with a file name and the digest of its content, so a
revision loads the same rows forever: an edited file fails loudly instead of silently
changing what an old revision puts in a new database. Keep this module's behaviour stable.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from typing import Any

DATA_PACKAGE = "services.registry.reference.data"


class ReferenceDataChanged(RuntimeError):
    """A released data file no longer has the content its migration was written for."""


def content_digest(document: dict[str, Any]) -> str:
    """SHA-256 of the parsed content, so re-indenting or re-encoding a file does not change it."""
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def read_document(name: str, digest: str | None = None) -> dict[str, Any]:
    """The parsed data file ``name``; with ``digest``, only if its content still has that digest."""
    text = resources.files(DATA_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    if digest is not None and (actual := content_digest(document)) != digest:
        raise ReferenceDataChanged(
            f"{name} has changed since its migration was written (digest {actual}, expected {digest}); "
            "released reference files are never edited: add a new file version and a new migration")
    return document
