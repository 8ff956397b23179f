"""The webhook dispatcher: sends due deliveries, signed, and records each attempt.

Runs in the service's lifespan (a ``ServiceDefinition.background`` task), woken right after a
commit that wrote deliveries and otherwise every ``dispatch_poll_seconds``. Its clock is
injectable (tests move time to run the retry schedule); the webhook-timestamp is always the
wall clock, since receivers check it against theirs.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import aiohttp
import structlog
from prometheus_client import Counter, Histogram
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kernel.db import utcnow
from services.notifications import wakeup
from services.notifications.claims import claim_due
from services.notifications.email.models import Contact, MailMessage
from services.notifications.email.templates import render
from services.notifications.routing.service import SETTINGS_SECONDS, settings_generation
from services.notifications.settings import NotificationsSettings
from services.notifications.webhooks import guard, rules, signing
from services.notifications.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from services.notifications.webhooks.rules import AllowList, Outcome
from services.notifications.webhooks.secret_box import box_for

if TYPE_CHECKING:
    from kernel.app import PlatformState

log = structlog.get_logger(__name__)

# Passes over the table that may run at once (each claims different rows under its own lease).
MAX_PASSES = 2
# How long another replica's change to an endpoint may go unseen here (as routing's SETTINGS_SECONDS).
ENDPOINTS_SECONDS = SETTINGS_SECONDS

ATTEMPTS = Counter("ntc_webhook_attempts_total", "Webhook delivery attempts", ["outcome"])
LATENCY = Histogram("ntc_webhook_attempt_seconds", "Webhook attempt latency")


# What is read of a receiver's answer: only its status and headers matter; a receiver answering
# with more does not get to hold the dispatcher's memory (the connection is dropped instead).
RESPONSE_BYTES_READ = 64 * 1024


async def _read_some(response: aiohttp.ClientResponse) -> None:
    left = RESPONSE_BYTES_READ
    while left > 0 and (chunk := await response.content.readany()):
        left -= len(chunk)


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    error: str | None
    latency_ms: float
    retry_after: str | None = None


class WebhookDispatcher:
    def __init__(self, settings: NotificationsSettings, *, skip_locked: bool = False,
                 clock: Callable[[], datetime] = utcnow, wall_clock: Callable[[], datetime] = utcnow,
                 random_fraction: Callable[[], float] = random.random,
                 resolver: aiohttp.abc.AbstractResolver | None = None) -> None:
        self.settings = settings
        self.skip_locked = skip_locked
        self.clock = clock
        self.wall_clock = wall_clock
        self.random_fraction = random_fraction
        self.allow = AllowList.parse(settings.webhook_allowed_private)
        # The name resolver the guard wraps (None: the system's); tests inject one to play DNS.
        self.resolver = resolver
        self.schedule = tuple(settings.webhook_retry_seconds)
        # A pass must settle before its lease runs out, or another replica would send again: at
        # worst every claimed delivery waits its full timeout, ``concurrency`` at a time.
        rounds = math.ceil(settings.dispatch_batch_size / settings.dispatch_concurrency)
        self.lease_seconds = max(settings.dispatch_lease_seconds, 1.5 * rounds * settings.webhook_timeout_seconds + 5)
        self._wakeup = asyncio.Event()
        self._look = False  # the table is to be looked at for due deliveries
        # Deliveries this process's consumer wrote, leased to this token in the same insert.
        self.fresh_token = uuid.uuid4().hex
        self._fresh: list[dict[str, Any]] = []
        # Held from a send until its result is committed, across overlapping passes.
        self._slots = asyncio.Semaphore(settings.dispatch_concurrency)
        self._client: aiohttp.ClientSession | None = None
        self._endpoints: dict[uuid.UUID, Any] = {}
        self._endpoints_loaded_at, self._endpoints_generation = -math.inf, -1
        self._guarded: guard.GuardedResolver
        self.__name__ = "webhook-dispatcher"

    def wake(self) -> None:
        """Look for due deliveries in the table now."""
        self._look = True
        self._wakeup.set()

    async def __call__(self, state: PlatformState) -> None:
        await self.run(state.sessionmaker)

    def client(self) -> aiohttp.ClientSession:
        """The shared client, made in the running loop. aiohttp itself: the webhook send is the
        dispatcher's hot path, and httpx on top of it cost about a quarter of the process's CPU
        per event (profiled with the notifications bench). Its resolver is the SSRF guard's, so a
        connection goes only to an address the guard checked, and the DNS cache keeps only those."""
        if self._client is None:
            self._guarded = guard.GuardedResolver(self.allow, self.resolver)
            connector = aiohttp.TCPConnector(limit=self.settings.dispatch_concurrency, limit_per_host=0,
                                             ttl_dns_cache=60, resolver=self._guarded)
            # One timeout for the whole attempt (connect, send, answer): the per-attempt timeout.
            self._client = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False,
                timeout=aiohttp.ClientTimeout(total=self.settings.webhook_timeout_seconds),
                headers={"user-agent": "NTC-Notifications/1 (Standard Webhooks)"})
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
            await self._guarded.close()  # a resolver handed to the connector is not closed with it

    async def run(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """Passes overlap: a delivery that comes due while a pass is still sending or recording is
        claimed by the next pass at once instead of waiting for the first to finish. The send
        slots are shared, so the bound on sent-but-unrecorded deliveries holds across passes."""
        wakeup.register("webhooks", self.wake)
        if self.settings.dispatch_hand_over:
            wakeup.register_taker(self)
        self.wake()  # deliveries may have come due while the service was down
        sends: set[asyncio.Task[None]] = set()
        drains: set[asyncio.Task[None]] = set()
        poll = self.settings.dispatch_poll_seconds
        looked_at = -math.inf
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout=poll)
                self._wakeup.clear()
                if self._fresh:
                    fresh, self._fresh = self._fresh, []
                    sends.add(asyncio.create_task(self._send_fresh(sessionmaker, fresh)))
                sends = {task for task in sends if not task.done()}
                drains = {task for task in drains if not task.done()}
                # The table is looked at when asked (a commit wrote deliveries for any taker, an endpoint
                # came back, a pass found more) and at least every poll (retries come due): not for every
                # hand-over, whose deliveries are ours already (that look was a transaction per event).
                now = time.monotonic()
                if now - looked_at >= poll:
                    self._look = True
                if self._look and len(drains) < MAX_PASSES:
                    self._look, looked_at = False, now
                    drains.add(asyncio.create_task(self._drain(sessionmaker)))
                # else: still to do; a running pass wakes this loop when it ends
        finally:
            for task in (*sends, *drains):
                task.cancel()
            await asyncio.gather(*sends, *drains, return_exceptions=True)
            wakeup.unregister_taker(self)
            wakeup.unregister("webhooks", self.wake)
            await self.close()

    def take_fresh(self, rows: list[dict[str, Any]]) -> None:
        """Deliveries just committed by this process's consumer, already leased to us."""
        self._fresh.extend(rows)
        self._wakeup.set()

    async def _send_fresh(self, sessionmaker: async_sessionmaker[AsyncSession], rows: list[dict[str, Any]]) -> None:
        try:
            await self.send_claimed(sessionmaker, self.fresh_token, [SimpleNamespace(**row) for row in rows])
        except asyncio.CancelledError:
            raise
        except Exception:  # left leased: claimed again once the lease runs out
            log.exception("sending fresh deliveries failed")

    async def _drain(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        try:
            while await self.dispatch_once(sessionmaker) >= self.settings.dispatch_batch_size:
                pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("webhook dispatch pass failed")
            await asyncio.sleep(0.5)
        if self._look:  # asked for while the passes were all busy
            self._wakeup.set()

    async def dispatch_once(self, sessionmaker: async_sessionmaker[AsyncSession]) -> int:
        """One pass: claim what is due now, send it, record each result. Returns how many were sent."""
        token, claimed = await claim_due(
            sessionmaker, WebhookDelivery, now=self.clock(), lease_seconds=self.lease_seconds,
            batch_size=self.settings.dispatch_batch_size, skip_locked=self.skip_locked,
            join=WebhookEndpoint, join_on=WebhookEndpoint.id == WebhookDelivery.endpoint_id,
            conditions=[WebhookEndpoint.enabled.is_(True)])  # type: ignore[attr-defined]
        if not claimed:
            return 0
        return await self.send_claimed(sessionmaker, token, claimed)

    async def send_claimed(self, sessionmaker: async_sessionmaker[AsyncSession], token: str,
                           claimed: list[Any]) -> int:
        """Send deliveries leased under ``token`` and record each result."""
        endpoints = await self._endpoints_of(sessionmaker, {d.endpoint_id for d in claimed})
        # A delivery whose endpoint was disabled (or removed) meanwhile is not sent: it waits,
        # leased until the lease runs out, then pending until the endpoint is enabled again.
        claimed = [d for d in claimed if d.endpoint_id in endpoints]
        if not claimed:
            return 0
        # A slot is held from the send until its result is committed, so no more than
        # ``dispatch_concurrency`` deliveries are ever sent-but-not-recorded: that is the most a
        # crash can make a receiver see twice.
        limit = self._slots
        results: list[tuple[WebhookDelivery, AttemptResult, asyncio.Event]] = []
        arrived = asyncio.Event()

        async def one(delivery: WebhookDelivery) -> None:
            async with limit:
                try:
                    result = await self.send(delivery, endpoints[delivery.endpoint_id])
                except Exception as exc:  # an attempt that could not even be made is a failed attempt
                    result = AttemptResult(None, f"{type(exc).__name__}: {exc}"[:500], 0.0)
                recorded = asyncio.Event()
                results.append((delivery, result, recorded))
                arrived.set()
                await recorded.wait()

        senders = [asyncio.create_task(one(d)) for d in claimed]
        settled = 0
        try:
            while settled < len(claimed):
                await arrived.wait()
                arrived.clear()
                group, results[:] = list(results), []
                # Group commit: whatever came back while the previous commit ran is recorded in
                # one transaction; each sender's slot is freed only after it.
                try:
                    await self._settle(sessionmaker, token, [(d, r) for d, r, _ in group])
                finally:
                    for _, _, recorded in group:
                        recorded.set()
                settled += len(group)
        finally:
            for sender in senders:
                sender.cancel()
            await asyncio.gather(*senders, return_exceptions=True)
        return len(claimed)

    async def _endpoints_of(self, sessionmaker: async_sessionmaker[AsyncSession],
                            ids: set[uuid.UUID]) -> dict[uuid.UUID, Any]:
        """The enabled endpoints among ``ids``, as rows (sending only reads the URL and the secrets).

        Kept for ENDPOINTS_SECONDS, as routing keeps what it needs of each organisation: reading them
        was a transaction of its own for every send. A change committed through this process drops
        the copy at once; another replica's change (a disabling, a new URL, a rotated secret) counts
        here within ENDPOINTS_SECONDS (a receiver that already refuses the old secret answers 4xx to
        a send signed with it alone, and the retry carries both signatures)."""
        now = time.monotonic()
        if now - self._endpoints_loaded_at >= ENDPOINTS_SECONDS or self._endpoints_generation != settings_generation():
            self._endpoints = {}
            self._endpoints_loaded_at, self._endpoints_generation = now, settings_generation()
        kept = self._endpoints
        if missing := ids - kept.keys():
            async with sessionmaker() as session:
                table = WebhookEndpoint.__table__  # type: ignore[attr-defined]
                found = {e.id: e for e in await session.execute(select(table).where(
                    table.c.id.in_(missing), table.c.enabled.is_(True)))}
            for endpoint_id in missing:
                kept[endpoint_id] = found.get(endpoint_id)  # None: disabled or removed
        return {i: e for i in ids if (e := kept.get(i)) is not None}

    async def send(self, delivery: WebhookDelivery, endpoint: WebhookEndpoint) -> AttemptResult:
        # Only what needs no DNS is checked here (a literal address never reaches a resolver); a
        # name is checked by the client's resolver, on the very answer the connection uses.
        refusal = guard.send_refusal(endpoint.url, self.allow)
        if refusal is not None:
            return AttemptResult(None, f"refused at send time: {refusal[1]}"[:500], 0.0)
        timestamp = self.wall_clock()
        box = box_for(self.settings)
        in_use = [box.open(endpoint.secret)]
        if endpoint.previous_secret and rules.overlap_active(endpoint.previous_secret_until, timestamp):
            in_use.append(box.open(endpoint.previous_secret))
        headers = signing.headers(message_id=delivery.event_id, timestamp=timestamp, payload=delivery.payload,
                                  secrets_in_use=in_use)
        started = time.perf_counter()
        try:
            # Redirects are not followed: a 3xx could lead past the address checks.
            async with self.client().post(endpoint.url, data=delivery.payload.encode(), headers=headers,
                                          allow_redirects=False) as response:
                status, retry_after = response.status, response.headers.get("retry-after")
                await _read_some(response)
        except (aiohttp.ClientError, TimeoutError) as exc:
            if (refused := guard.refusal_of(exc)) is not None:  # the receiver was never contacted
                return AttemptResult(None, f"refused at send time: {refused.detail}"[:500], 0.0)
            latency = (time.perf_counter() - started) * 1000
            detail = str(exc) or f"no answer within {self.settings.webhook_timeout_seconds} s"
            return AttemptResult(None, f"{type(exc).__name__}: {detail}"[:500], latency)
        latency = (time.perf_counter() - started) * 1000
        LATENCY.observe(latency / 1000)
        ok = 200 <= status < 300
        return AttemptResult(status, None if ok else f"HTTP {status}", latency, retry_after)

    async def _settle(self, sessionmaker: async_sessionmaker[AsyncSession], token: str,
                      group: list[tuple[WebhookDelivery, AttemptResult]]) -> None:
        now = self.clock()
        delivered = [(d, r) for d, r in group if r.status_code is not None and 200 <= r.status_code < 300]
        others = [(d, r) for d, r in group if not (r.status_code is not None and 200 <= r.status_code < 300)]
        outcomes: list[Outcome] = [Outcome.delivered] * len(delivered)
        async with sessionmaker() as session:
            if delivered:
                # The common case in three statements, whatever the group's size: mark delivered
                # (only while our lease holds), log the attempts, clear the endpoints' failing mark.
                deliveries = WebhookDelivery.__table__  # type: ignore[attr-defined]
                await session.execute(
                    update(deliveries).where(deliveries.c.id == bindparam("b_id"),
                                             deliveries.c.lease_owner == token)
                    .values(status="delivered", delivered_at=now, attempts=deliveries.c.attempts + 1,
                            last_status_code=bindparam("b_code"), last_error=None, lease_until=None,
                            lease_owner=None),
                    [{"b_id": d.id, "b_code": r.status_code} for d, r in delivered])
                await session.execute(insert(WebhookAttempt.__table__), [  # type: ignore[attr-defined]
                    {"delivery_id": d.id, "endpoint_id": d.endpoint_id, "number": d.attempts + 1, "attempted_at": now,
                     "status_code": r.status_code, "latency_ms": round(r.latency_ms, 2), "error": None}
                    for d, r in delivered])
                # On the table, not the ORM entity: nothing of the endpoints is held in this session to keep
                # in step, and the ORM's bookkeeping for that was a good part of a settle's cost.
                endpoints = WebhookEndpoint.__table__  # type: ignore[attr-defined]
                await session.execute(update(endpoints).where(
                    endpoints.c.id.in_({d.endpoint_id for d, _ in delivered}),
                    endpoints.c.failing_since.is_not(None)).values(failing_since=None))
            if others:
                rows = {d.id: d for d in (await session.execute(
                    select(WebhookDelivery).where(WebhookDelivery.id.in_([c.id for c, _ in others]))  # type: ignore[attr-defined]
                    .execution_options(populate_existing=True))).scalars()}
                for claimed, result in others:
                    delivery = rows.get(claimed.id)
                    if delivery is None or delivery.lease_owner != token:
                        # Our lease ran out and another pass took it over: its result stands.
                        log.warning("delivery settled by another pass", delivery_id=str(claimed.id))
                        continue
                    endpoint = await session.get(WebhookEndpoint, delivery.endpoint_id)
                    outcomes.append(await self._record(session, delivery, endpoint, result, now))
            await session.commit()
        for outcome in outcomes:
            ATTEMPTS.labels(outcome.value).inc()

    async def _record(self, session: AsyncSession, delivery: WebhookDelivery, endpoint: WebhookEndpoint | None,
                      result: AttemptResult, now: datetime) -> Outcome:
        delivery.attempts += 1
        session.add(WebhookAttempt(delivery_id=delivery.id, endpoint_id=delivery.endpoint_id,
                                   number=delivery.attempts, attempted_at=now, status_code=result.status_code,
                                   latency_ms=round(result.latency_ms, 2), error=result.error))
        outcome = rules.outcome_of(result.status_code, delivery.attempts, self.schedule)
        delivery.last_status_code, delivery.last_error = result.status_code, result.error
        delivery.lease_until = delivery.lease_owner = None
        if outcome is Outcome.delivered:
            delivery.status, delivery.delivered_at = "delivered", now
            if endpoint is not None and endpoint.failing_since is not None:
                endpoint.failing_since = None
        elif outcome is Outcome.gone:
            delivery.status = "failed"
            if endpoint is not None:
                await self._disable(session, endpoint, now, "the receiver answered 410 Gone")
        else:
            disabled_now = False
            if endpoint is not None and endpoint.enabled:
                endpoint.failing_since = endpoint.failing_since or now
                disable_after = timedelta(hours=self.settings.webhook_disable_after_hours)
                if rules.should_disable(endpoint.failing_since, now, disable_after):
                    disabled_now = True
                    await self._disable(session, endpoint, now, "failing without a success since "
                                        f"{endpoint.failing_since.isoformat(timespec='minutes')}")
            if outcome is Outcome.exhausted and not disabled_now:
                delivery.status = "failed"
            else:
                # Retried on schedule; on a disabled endpoint it waits until re-enabled.
                delivery.next_attempt_at = rules.next_attempt_at(
                    now, delivery.attempts, self.schedule, jitter=self.settings.webhook_retry_jitter,
                    retry_after=rules.parse_retry_after(result.retry_after, now),
                    max_retry_after=self.settings.webhook_max_retry_after_seconds, random=self.random_fraction)
        session.add(delivery)
        if endpoint is not None:
            session.add(endpoint)
        return outcome

    async def _disable(self, session: AsyncSession, endpoint: WebhookEndpoint, now: datetime, reason: str) -> None:
        """Disable the endpoint and write to every contact of its organisation, once per disabling."""
        if not endpoint.enabled:
            return
        since = endpoint.failing_since or now
        endpoint.enabled, endpoint.disabled_at, endpoint.disabled_reason = False, now, reason[:300]
        session.add(endpoint)
        reference = f"{endpoint.id.hex}:{int(now.timestamp())}"
        for contact in (await session.execute(select(Contact).where(
                Contact.organisation_id == endpoint.organisation_id))).scalars():
            subject, body = render(contact.language, "endpoint_disabled", url=endpoint.url,
                                   since=since.isoformat(timespec="minutes"), reason=reason)
            session.add(MailMessage(id=uuid.uuid4(), contact_id=contact.id, organisation_id=contact.organisation_id,
                                    to_address=contact.email, language=contact.language, kind="endpoint_disabled",
                                    reference=reference, subject=subject, body=body, next_attempt_at=now))
            wakeup.mark(session, "mail")
        log.warning("webhook endpoint disabled", endpoint_id=str(endpoint.id), reason=reason)
