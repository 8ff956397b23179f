"""Issuing, finding and revoking API keys. No HTTP here, and nothing commits: the caller does."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.api_keys.models import ApiKey
from gateway.audit.service import CLI_ACTOR, record
from kernel.db import utcnow
from kernel.problems import Conflict, FieldError, NotFound, Problem

KEY_PREFIX = "ntc_"
SHOWN_PREFIX_LENGTH = 12  # "ntc_" and 8 random characters: enough to tell keys apart
ROLE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    # A fast hash is the right tool here, unlike for passwords: a key is 32 random bytes
    # (256 bits), so there is nothing to guess and no dictionary to try, and a slow hash
    # (argon2, bcrypt) would only cost milliseconds on every uncached request.
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(value: str) -> bool:
    return value.startswith(KEY_PREFIX) and 40 <= len(value) <= 200


def normalise_roles(roles: Iterable[str]) -> list[str]:
    cleaned = sorted({role.strip() for role in roles if role.strip()})
    bad = [role for role in cleaned if not ROLE.match(role)]
    if bad:
        raise Problem(422, "validation", "Invalid request", "Roles are lower-case words.",
                      errors=[FieldError(pointer="/roles", rule="role_name",
                                         detail=f"not a role name: {', '.join(bad)}")])
    return cleaned


async def issue_api_key(
    session: AsyncSession, *, name: str, roles: Iterable[str], organisation_id: uuid.UUID | None,
    actor: str = CLI_ACTOR, address: str | None = None,
) -> tuple[ApiKey, str]:
    """A new key and its row (and its audit row). The key is returned once and only its hash is kept."""
    name = name.strip()
    if not name:
        raise Problem(422, "validation", "Invalid request", "A key needs a name.",
                      errors=[FieldError(pointer="/name", rule="required", detail="name it after the system using it")])
    key = generate_key()
    api_key = ApiKey(name=name, organisation_id=organisation_id, roles=normalise_roles(roles),
                     prefix=key[:SHOWN_PREFIX_LENGTH], key_hash=hash_key(key))
    session.add(api_key)
    record(session, action="api_key.created", actor=actor, subject=f"api-key:{api_key.id}", address=address,
           detail={"name": name, "prefix": api_key.prefix, "roles": api_key.roles,
                   "organisation_id": str(organisation_id) if organisation_id else None})
    return api_key, key


async def find_usable_key(session: AsyncSession, key_hash: str) -> ApiKey | None:
    return await session.scalar(
        select(ApiKey).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))  # type: ignore[union-attr]
    )


async def list_api_keys(session: AsyncSession) -> list[ApiKey]:
    return list((await session.execute(select(ApiKey).order_by(ApiKey.created_at))).scalars().all())  # type: ignore[arg-type]


async def revoke_api_key(
    session: AsyncSession, *, prefix: str | None = None, key_id: uuid.UUID | None = None, actor: str = CLI_ACTOR,
    address: str | None = None,
) -> ApiKey:
    """Revoke one live key, named by its id or by its shown prefix (which must then be unambiguous)."""
    query = select(ApiKey).where(ApiKey.revoked_at.is_(None))  # type: ignore[union-attr]
    if key_id is not None:
        query = query.where(ApiKey.id == key_id)
    elif prefix:
        query = query.where(ApiKey.prefix == prefix)
    else:
        raise ValueError("name the key by prefix or id")
    matches = list((await session.execute(query)).scalars().all())
    if not matches:
        raise NotFound("live API key")
    if len(matches) > 1:
        raise Conflict(f"The prefix {prefix} matches {len(matches)} live keys; revoke by id instead.",
                       key_ids=[str(key.id) for key in matches])
    api_key = matches[0]
    api_key.revoked_at = utcnow()
    session.add(api_key)
    record(session, action="api_key.revoked", actor=actor, subject=f"api-key:{api_key.id}", address=address,
           detail={"name": api_key.name, "prefix": api_key.prefix})
    return api_key


async def record_last_used(session: AsyncSession, last_used: Mapping[uuid.UUID, datetime]) -> None:
    for key_id, used_at in last_used.items():
        await session.execute(
            update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=used_at)  # type: ignore[arg-type]
        )
