"""Webhook signing secrets encrypted at rest (Fernet, from the ``cryptography`` package).

The service signs every delivery with the endpoint's secret, so the secret cannot be hashed like a
password; it is stored as a Fernet token under a key the operator provides
(``NOTIFICATIONS_WEBHOOK_SECRET_KEYS``), so a copy of the database alone does not let anyone forge
platform webhooks. Several keys, comma-separated, make a MultiFernet: the first encrypts, every one
decrypts, so a key is rotated by putting the new one first.

A value that is not a Fernet token is a secret written before this encryption existed: it is still
read as is, and the start-up pass (`LegacySecretSealer`) encrypts it, and re-encrypts under the first
key what an older key sealed.
"""

from __future__ import annotations

import functools
import uuid
from typing import TYPE_CHECKING

import structlog
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import select, update

from services.notifications.webhooks.models import WebhookEndpoint

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from kernel.app import PlatformState
    from services.notifications.settings import NotificationsSettings

log = structlog.get_logger(__name__)

# Every Fernet token starts so (version byte 0x80, then a timestamp whose high bytes are zero until
# the year 36812); a plain ``whsec_`` secret never does.
TOKEN_PREFIX = "gAAAAA"

GENERATE = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
MISSING_KEYS = ("NOTIFICATIONS_WEBHOOK_SECRET_KEYS is not set: the notifications service encrypts webhook "
                "signing secrets at rest with it and will not start without it. Generate a key with "
                f"{GENERATE} and keep it with the platform's other secrets (several keys, comma-separated: "
                "the first encrypts, all decrypt).")


class MissingKeys(RuntimeError):
    """The service was asked to start without a key to encrypt webhook secrets with."""


class UnreadableSecret(RuntimeError):
    """A stored secret that none of the configured keys opens (a key dropped too early, or the wrong one)."""


def parse_keys(raw: str) -> tuple[bytes, ...]:
    """Comma-separated Fernet keys; a ValueError names the position of a bad one, never its value."""
    keys = tuple(part.strip().encode() for part in raw.split(",") if part.strip())
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ValueError(f"webhook secret key {position} of {len(keys)} is not a Fernet key (32 url-safe "
                             f"base64-encoded bytes); generate one with {GENERATE}") from None
    return keys


def is_sealed(stored: str) -> bool:
    return stored.startswith(TOKEN_PREFIX)


OPENED_KEPT = 10_000


class SecretBox:
    def __init__(self, keys: tuple[bytes, ...]) -> None:
        if not keys:
            raise MissingKeys(MISSING_KEYS)
        self._current = Fernet(keys[0])
        self._all = MultiFernet([Fernet(key) for key in keys])
        # Tokens already opened: the dispatcher opens an endpoint's secret for every send, and a
        # Fernet decrypt (HMAC check + AES) costs more than the signature it is used for.
        self._opened: dict[str, str] = {}

    def seal(self, secret: str) -> str:
        return self._all.encrypt(secret.encode()).decode()

    def open(self, stored: str) -> str:
        """The plain secret; a legacy plain value (not yet sealed by the start-up pass) as it is."""
        if not is_sealed(stored):
            return stored
        if (opened := self._opened.get(stored)) is not None:
            return opened
        try:
            opened = self._all.decrypt(stored.encode()).decode()
        except InvalidToken:
            raise UnreadableSecret("a webhook signing secret cannot be decrypted with any key in "
                                   "NOTIFICATIONS_WEBHOOK_SECRET_KEYS (was the key it was sealed with "
                                   "removed?)") from None
        if len(self._opened) >= OPENED_KEPT:
            self._opened.clear()
        self._opened[stored] = opened
        return opened

    def resealed(self, stored: str) -> str | None:
        """What to store instead: a plain value sealed, a token of an older key sealed again under
        the first; None when the value is already sealed under the first key."""
        if not is_sealed(stored):
            return self.seal(stored)
        try:
            self._current.decrypt(stored.encode())
            return None
        except InvalidToken:
            pass
        try:
            return self._all.rotate(stored.encode()).decode()
        except InvalidToken:
            raise UnreadableSecret("unreadable with every configured key") from None


@functools.lru_cache(maxsize=4)
def _box(raw: str) -> SecretBox:
    return SecretBox(parse_keys(raw))


def box_for(settings: NotificationsSettings) -> SecretBox:
    """The box for these settings' keys; MissingKeys (with how to make one) when none is set."""
    return _box(settings.webhook_secret_keys.get_secret_value())


def require_keys(settings: NotificationsSettings) -> None:
    """Called where the service is built to run: without a key it refuses to start, saying why."""
    box_for(settings)


async def seal_stored_secrets(sessionmaker: async_sessionmaker[AsyncSession], box: SecretBox) -> dict[str, int]:
    """One pass over every endpoint: plain secrets are encrypted, older keys' tokens re-encrypted
    under the first key. Each row is changed only if it still holds what was read (a rotation or
    another replica's pass meanwhile wins), so replicas may run it together."""
    counts = {"sealed": 0, "unreadable": 0}
    async with sessionmaker() as session:
        rows = (await session.execute(select(WebhookEndpoint.id, WebhookEndpoint.secret,  # type: ignore[call-overload]
                                             WebhookEndpoint.previous_secret))).all()
    for endpoint_id, secret, previous in rows:
        changes: dict[str, str] = {}
        for column, stored in (("secret", secret), ("previous_secret", previous)):
            if stored is None:
                continue
            try:
                replacement = box.resealed(stored)
            except UnreadableSecret:
                counts["unreadable"] += 1
                log.error("webhook secret unreadable with the configured keys", endpoint_id=str(endpoint_id),
                          column=column)
                continue
            if replacement is not None:
                changes[column] = replacement
        if changes:
            counts["sealed"] += await _store(sessionmaker, endpoint_id, secret, previous, changes)
    if counts["sealed"] or counts["unreadable"]:
        log.info("webhook secrets sealed at start", **counts)
    return counts


async def _store(sessionmaker: async_sessionmaker[AsyncSession], endpoint_id: uuid.UUID, secret: str,
                 previous: str | None, changes: dict[str, str]) -> int:
    table = WebhookEndpoint.__table__  # type: ignore[attr-defined]
    unchanged = table.c.previous_secret.is_(None) if previous is None else table.c.previous_secret == previous
    async with sessionmaker() as session:
        result = await session.execute(update(table).where(table.c.id == endpoint_id, table.c.secret == secret,
                                                           unchanged).values(**changes))
        await session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class LegacySecretSealer:
    """A background task of the service: `seal_stored_secrets` once, at start (after the migrations)."""

    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings
        self.done: dict[str, int] | None = None
        self.__name__ = "webhook-secret-sealer"

    async def __call__(self, state: PlatformState) -> None:
        try:
            self.done = await seal_stored_secrets(state.sessionmaker, box_for(self.settings))
        except Exception:  # the read path still opens plain values; the next start tries again
            log.exception("sealing stored webhook secrets failed")
