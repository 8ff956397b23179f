"""API keys on the request path: ``Authorization: Bearer ntc_…`` or ``X-API-Key: ntc_…``.

A key's verdict (its identity, or "no such live key") is cached in memory for
``api_key_cache_seconds``: the database is not read on every request, and so a revoked
key keeps working for at most that long on each gateway replica. Concurrent first uses
of one key share a single lookup. ``last_used_at`` is collected in memory and written in
one batch every ``api_key_last_used_write_seconds`` — never a write per request.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.api_keys.models import ApiKey
from gateway.api_keys.service import find_usable_key, hash_key, looks_like_key, record_last_used
from gateway.authentication import Credentials, Unauthenticated
from kernel.identity import Identity

log = structlog.get_logger(__name__)

MAX_CACHED_VERDICTS = 10_000


@dataclass(frozen=True, slots=True)
class _Verdict:
    key_id: uuid.UUID | None  # None: no live key has this hash
    identity: Identity | None
    expires: float


def identity_of(api_key: ApiKey) -> Identity:
    organisation = str(api_key.organisation_id) if api_key.organisation_id else None
    return Identity(
        subject=f"api-key:{api_key.id}",
        kind="organisation-key" if organisation else "api-client",
        organisation_id=organisation,
        roles=frozenset(api_key.roles or ()),
    )


class ApiKeyAuthenticator:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        cache_seconds: float,
        last_used_write_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._cache_seconds = cache_seconds
        self._write_seconds = last_used_write_seconds
        self._clock = clock
        self._verdicts: dict[str, _Verdict] = {}
        self._lookups: dict[str, asyncio.Task[_Verdict]] = {}
        self._last_used: dict[uuid.UUID, float] = {}

    async def authenticate(self, credentials: Credentials) -> Identity | None:
        bearer, header_key = credentials.bearer, credentials.api_key
        if bearer is None and header_key is None:
            return None
        if bearer is not None and header_key is not None and bearer != header_key:
            raise Unauthenticated("Authorization and X-API-Key carry different credentials.")
        key = bearer if bearer is not None else header_key
        assert key is not None
        if not looks_like_key(key):
            if header_key is None:
                return None  # a bearer token of another kind: another authenticator's business
            raise Unauthenticated("X-API-Key does not hold an API key.")
        digest = hash_key(key)
        verdict = self._verdicts.get(digest)
        if verdict is None or verdict.expires <= self._clock():
            verdict = await self._lookup(digest)
        if verdict.identity is None or verdict.key_id is None:
            raise Unauthenticated("The API key is unknown or has been revoked.")
        self._last_used[verdict.key_id] = time.time()  # a float: cheaper than a datetime per request
        return verdict.identity

    async def _lookup(self, digest: str) -> _Verdict:
        task = self._lookups.get(digest)
        if task is None:
            task = asyncio.create_task(self._fetch(digest), name="api-key-lookup")
            self._lookups[digest] = task
            task.add_done_callback(lambda _: self._lookups.pop(digest, None))
        # shield: one caller giving up must not cancel the lookup the others wait on
        return await asyncio.shield(task)

    async def _fetch(self, digest: str) -> _Verdict:
        async with self._sessionmaker() as session:
            api_key = await find_usable_key(session, digest)
        expires = self._clock() + self._cache_seconds
        verdict = (_Verdict(api_key.id, identity_of(api_key), expires) if api_key is not None
                   else _Verdict(None, None, expires))
        if len(self._verdicts) >= MAX_CACHED_VERDICTS:
            now = self._clock()
            self._verdicts = {d: v for d, v in self._verdicts.items() if v.expires > now}
            if len(self._verdicts) >= MAX_CACHED_VERDICTS:
                self._verdicts.clear()
        self._verdicts[digest] = verdict
        return verdict

    def forget(self) -> None:
        """Drop every cached verdict (a later admin API can call this on revocation)."""
        self._verdicts.clear()

    async def write_last_used(self) -> None:
        """Write the collected last-use times in one transaction."""
        pending, self._last_used = self._last_used, {}
        if not pending:
            return
        try:
            async with self._sessionmaker() as session:
                await record_last_used(session, {key_id: datetime.fromtimestamp(used, UTC)
                                                 for key_id, used in pending.items()})
                await session.commit()
        except Exception:
            log.warning("could not record API key use; will retry", keys=len(pending), exc_info=True)
            for key_id, used_at in pending.items():
                self._last_used.setdefault(key_id, used_at)

    async def run_last_used_writer(self) -> None:
        """Runs for the app's life; the lifespan writes once more after stopping it."""
        while True:
            await asyncio.sleep(self._write_seconds)
            await self.write_last_used()
