"""The store behind Idempotency-Key: claim a key before forwarding, keep the answer after, replay it on a retry.

Shared by every gateway replica through the gateway's database, so a retry that lands on another
replica is answered the same way. Each call is its own short transaction: nothing is held while
the service works on the request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.idempotency.models import IdempotentRequest
from gateway.idempotency.rules import KEPT_HEADERS, Outcome, Stored, decide
from kernel.db import utcnow

# Expired records are deleted at most this often per gateway process.
PURGE_EVERY_SECONDS = 300.0


@dataclass(frozen=True)
class Claim:
    """A request's hold on its key: the key and when it was claimed. A claim that lapsed may have been taken
    over by a retry (a new ``claimed_at``); the first request then no longer stores or frees anything."""

    scope_key: str
    claimed_at: datetime


class IdempotencyStore:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, retention: timedelta,
                 claim_timeout: timedelta, clock: Callable[[], datetime] = utcnow) -> None:
        self._sessionmaker = sessionmaker
        self.retention = retention
        self.claim_timeout = claim_timeout
        self._clock = clock
        self._purged_at = 0.0

    async def begin(self, scope_key: str, fingerprint: str) -> tuple[Outcome, IdempotentRequest | Claim | None]:
        """Claim the key for this request (Outcome.new, with the `Claim`), or say why not (with the stored
        record, whose answer a replay gives again)."""
        now = self._clock()
        await self._purge(now)
        async with self._sessionmaker() as session:
            row = (await session.execute(select(IdempotentRequest).where(IdempotentRequest.scope_key == scope_key)
                                         .with_for_update())).scalar_one_or_none()
            stored = None if row is None else Stored(fingerprint=row.fingerprint, status=row.status,
                                                     claimed_at=row.claimed_at, expires_at=row.expires_at)
            outcome = decide(stored, fingerprint=fingerprint, now=now, claim_timeout=self.claim_timeout)
            if outcome is not Outcome.new:
                return outcome, row
            if row is None:
                row = IdempotentRequest(scope_key=scope_key, fingerprint=fingerprint, status="in_progress",
                                        claimed_at=now, expires_at=now + self.retention)
            else:  # an expired record, or a lapsed claim: this request takes the key over
                row.fingerprint, row.status, row.claimed_at = fingerprint, "in_progress", now
                row.expires_at = now + self.retention
                row.response_status = row.response_headers = row.response_body = None
            session.add(row)
            try:
                await session.commit()
            except IntegrityError:  # another replica claimed the same new key a moment earlier
                return Outcome.in_progress, None
            return Outcome.new, Claim(scope_key, now)

    async def finish(self, claim: Claim, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """Keep the answer for retries, if the key is still this request's."""
        async with self._sessionmaker() as session:
            row = (await session.execute(select(IdempotentRequest).where(
                IdempotentRequest.scope_key == claim.scope_key, IdempotentRequest.claimed_at == claim.claimed_at,
                IdempotentRequest.status == "in_progress").with_for_update())).scalar_one_or_none()
            if row is None:  # the claim lapsed and a retry took the key over: its answer is the one kept
                return
            row.status = "done"
            row.response_status = status
            row.response_headers = [[n.decode("latin-1"), v.decode("latin-1")] for n, v in headers
                                    if n.lower() in KEPT_HEADERS]
            row.response_body = body
            session.add(row)
            await session.commit()

    async def release(self, claim: Claim) -> None:
        """The request got no answer worth keeping (a 5xx): the key is free for the retry, unless a retry
        has taken it over already (its claim is left alone)."""
        async with self._sessionmaker() as session:
            await session.execute(delete(IdempotentRequest).where(
                IdempotentRequest.scope_key == claim.scope_key, IdempotentRequest.claimed_at == claim.claimed_at,
                IdempotentRequest.status == "in_progress"))
            await session.commit()

    async def _purge(self, now: datetime) -> None:
        if time.monotonic() - self._purged_at < PURGE_EVERY_SECONDS:
            return
        self._purged_at = time.monotonic()
        async with self._sessionmaker() as session:
            await session.execute(delete(IdempotentRequest).where(IdempotentRequest.expires_at <= now))
            await session.commit()
