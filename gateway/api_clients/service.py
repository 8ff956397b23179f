"""Registering, checking and revoking API clients. No HTTP here, and nothing commits: the caller does."""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.api_clients.models import ApiClient
from gateway.api_keys.service import hash_key, normalise_roles
from gateway.audit.service import CLI_ACTOR, record
from kernel.db import utcnow
from kernel.problems import FieldError, NotFound, Problem

SECRET_PREFIX = "ntcs_"


def generate_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


# A client secret is 32 random bytes like an API key, so it is hashed the same way.
hash_secret = hash_key


async def register_api_client(
    session: AsyncSession, *, name: str, roles: Iterable[str], organisation_id: uuid.UUID | None,
    actor: str = CLI_ACTOR, address: str | None = None,
) -> tuple[ApiClient, str]:
    """A new client and its secret (and an audit row). The secret is returned once; only its hash is kept."""
    name = name.strip()
    if not name:
        raise Problem(422, "validation", "Invalid request", "A client needs a name.",
                      errors=[FieldError(pointer="/name", rule="required", detail="name it after the system using it")])
    secret = generate_secret()
    client = ApiClient(name=name, organisation_id=organisation_id, roles=normalise_roles(roles),
                       secret_hash=hash_secret(secret))
    session.add(client)
    record(session, action="api_client.created", actor=actor, subject=f"api-client:{client.id}", address=address,
           detail={"name": name, "roles": client.roles,
                   "organisation_id": str(organisation_id) if organisation_id else None})
    return client, secret


async def authenticate_client(session: AsyncSession, client_id: str, secret: str) -> ApiClient | None:
    """The live client these credentials belong to, or None (unknown, wrong secret or revoked alike)."""
    try:
        key = uuid.UUID(client_id)
    except ValueError:
        return None
    client = await session.get(ApiClient, key)
    if client is None or client.revoked_at is not None:
        return None
    if not hmac.compare_digest(client.secret_hash, hash_secret(secret)):
        return None
    return client


def record_token_issued(session: AsyncSession, client: ApiClient, *, address: str | None, expires_in: int) -> None:
    client.last_used_at = utcnow()
    session.add(client)
    record(session, action="api_client.token_issued", actor=f"api-client:{client.id}",
           subject=f"api-client:{client.id}", address=address, detail={"expires_in": expires_in})


async def list_api_clients(session: AsyncSession) -> list[ApiClient]:
    return list((await session.execute(select(ApiClient).order_by(ApiClient.created_at))).scalars().all())  # type: ignore[arg-type]


async def revoke_api_client(session: AsyncSession, client_id: uuid.UUID, *, actor: str = CLI_ACTOR,
                            address: str | None = None) -> ApiClient:
    """Revoke a live client: it gets no new token; the ones it holds run out within their lifetime."""
    client = await session.get(ApiClient, client_id)
    if client is None or client.revoked_at is not None:
        raise NotFound("live API client")
    client.revoked_at = utcnow()
    session.add(client)
    record(session, action="api_client.revoked", actor=actor, subject=f"api-client:{client.id}", address=address,
           detail={"name": client.name})
    return client
