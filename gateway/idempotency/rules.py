"""Idempotency-Key as plain rules (IETF draft-ietf-httpapi-idempotency-key-header): which requests carry one,
what makes two requests the same, what a stored record means for a new request. No I/O here."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

# Writes only: a read is safe to repeat anyway.
METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 255
# Answers worth replaying; after a 5xx (or no answer at all) the caller may try the request again.
REPLAYED_BELOW = 500
# Response headers kept with the stored answer (the rest describe the connection or the moment).
KEPT_HEADERS = frozenset({b"content-type", b"etag", b"location", b"content-language", b"link"})


def key_problem(key: str) -> str | None:
    """Why an Idempotency-Key value is not acceptable, or None."""
    if not key:
        return "the key is empty"
    if len(key) > MAX_KEY_LENGTH:
        return f"the key is longer than {MAX_KEY_LENGTH} characters"
    if any(not (0x21 <= ord(c) <= 0x7E) for c in key):
        return "the key must be visible ASCII characters without spaces (a UUID is a good choice)"
    return None


def scope_key(credential: str, key: str) -> str:
    """Keys are the caller's own: the same key from two credentials names two different requests."""
    return hashlib.sha256(f"{credential}\0{key}".encode()).hexdigest()


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class Outcome(Enum):
    new = "new"  # no usable record: claim the key and forward the request
    replay = "replay"  # the same request was answered: give that answer again
    in_progress = "in_progress"  # the same key is being answered right now: 409, try again shortly
    mismatch = "mismatch"  # the key was used for a different request: 422


@dataclass(frozen=True)
class Stored:
    fingerprint: str
    status: str
    claimed_at: datetime
    expires_at: datetime


def decide(stored: Stored | None, *, fingerprint: str, now: datetime, claim_timeout: timedelta) -> Outcome:
    """What a request with a key does, given what is stored under that key."""
    if stored is None or stored.expires_at <= now:
        return Outcome.new
    if stored.fingerprint != fingerprint:
        return Outcome.mismatch
    if stored.status == "done":
        return Outcome.replay
    # A claim nobody finished (the gateway stopped mid-request) lapses, so the caller is not stuck.
    if now - stored.claimed_at >= claim_timeout:
        return Outcome.new
    return Outcome.in_progress
