"""Staff accounts, signing in, sessions, signing out. No HTTP here, and nothing commits: the caller does.

Two ways in, chosen by ``staff_auth_mode``: "local" (`sign_in`: an e-mail and an argon2
password in the gateway database) and "oidc" (`sign_in_verified`: the portal's callback has
verified an OpenID Connect provider's ID token, ``gateway.staff.oidc``, and the person is
matched to an account by e-mail). Both end in `open_session`; everything after that (the
cookie, CSRF, the session authenticator, sign-out, the audit log) is the same.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.service import ANONYMOUS_ACTOR, CLI_ACTOR, record
from gateway.settings import GatewaySettings
from gateway.staff.models import StaffAccount, StaffSession
from gateway.staff.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from kernel.db import utcnow
from kernel.identity import Identity
from kernel.problems import Conflict, FieldError, NotFound, Problem

# labour_inspector: the labour inspectorate, which handles freedom-of-association complaints in the disputes service.
STAFF_ROLES = ("registrar", "bargaining_officer", "dispute_officer", "labour_inspector", "analyst", "administrator")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Only written when it is this stale: a session's idle clock needs no per-request write.
LAST_SEEN_GRANULARITY = timedelta(seconds=60)
SIGN_IN_REFUSED = "The email or password is wrong."


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta
    lockout_attempts: int
    lockout: timedelta


@dataclass(frozen=True)
class SignedIn:
    """A live session and its account."""

    session: StaffSession
    account: StaffAccount

    @property
    def identity(self) -> Identity:
        return identity_of(self.account)


def identity_of(account: StaffAccount) -> Identity:
    return Identity(subject=f"staff:{account.id}", kind="staff", organisation_id=None,
                    roles=frozenset(account.roles or ()))


def actor_of(account: StaffAccount) -> str:
    return f"staff:{account.id}"


# --------------------------------------------------------------------------- tokens


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def session_id_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token_of(session_token: str) -> str:
    """The CSRF token of a session: keyed by the session's own secret token, so only someone who
    holds the cookie's value (the page the server rendered, not a cross-site form) can know it."""
    return hmac.new(session_token.encode(), b"ntc-portal-csrf", hashlib.sha256).hexdigest()


def csrf_matches(session_token: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(csrf_token_of(session_token), str(presented))


# --------------------------------------------------------------------------- accounts


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _validation(pointer: str, rule: str, detail: str) -> Problem:
    return Problem(422, "validation", "Invalid request", detail,
                   errors=[FieldError(pointer=pointer, rule=rule, detail=detail)])


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise _validation("/password", "min_length", f"A password has at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise _validation("/password", "max_length", f"A password has at most {MAX_PASSWORD_LENGTH} characters.")


def check_roles(roles: Iterable[str]) -> list[str]:
    cleaned = sorted({role.strip() for role in roles if role.strip()})
    unknown = [role for role in cleaned if role not in STAFF_ROLES]
    if unknown:
        raise _validation("/roles", "staff_role",
                          f"Unknown role(s) {', '.join(unknown)}; staff roles are {', '.join(STAFF_ROLES)}.")
    if not cleaned:
        raise _validation("/roles", "required", "A staff account needs at least one role.")
    return cleaned


async def find_account(session: AsyncSession, email: str) -> StaffAccount | None:
    return await session.scalar(select(StaffAccount).where(StaffAccount.email == normalise_email(email)))


async def create_staff_account(session: AsyncSession, *, email: str, display_name: str, roles: Iterable[str],
                               password: str, actor: str = CLI_ACTOR, address: str | None = None) -> StaffAccount:
    email = normalise_email(email)
    if not EMAIL.match(email):
        raise _validation("/email", "email", f"{email!r} is not an e-mail address.")
    display_name = display_name.strip()
    if not display_name:
        raise _validation("/display_name", "required", "A staff account needs a name.")
    checked_roles = check_roles(roles)
    check_password_rules(password)
    if await find_account(session, email) is not None:
        raise Conflict(f"A staff account with the e-mail {email} already exists.")
    account = StaffAccount(email=email, display_name=display_name, roles=checked_roles,
                           password_hash=hash_password(password))
    session.add(account)
    record(session, action="staff.created", actor=actor, subject=f"staff:{account.id}", address=address,
           detail={"email": email, "roles": checked_roles})
    return account


async def set_password(session: AsyncSession, *, email: str, password: str, actor: str = CLI_ACTOR) -> StaffAccount:
    """A new password; it also unlocks the account and ends its sessions."""
    check_password_rules(password)
    account = await find_account(session, email)
    if account is None:
        raise NotFound("staff account")
    account.password_hash = hash_password(password)
    account.failed_attempts = 0
    account.locked_until = None
    await _end_all_sessions(session, account)
    record(session, action="staff.password_set", actor=actor, subject=actor_of(account))
    return account


def generate_password() -> str:
    """A first password for an account an administrator creates: 20 random URL-safe characters,
    shown to the administrator once, to hand over and be changed."""
    return secrets.token_urlsafe(15)


async def _account_named(session: AsyncSession, *, email: str | None, account_id: uuid.UUID | None) -> StaffAccount:
    account = (await session.get(StaffAccount, account_id) if account_id is not None
               else await find_account(session, email or ""))
    if account is None:
        raise NotFound("staff account")
    return account


async def disable_staff_account(session: AsyncSession, *, email: str | None = None,
                                account_id: uuid.UUID | None = None, actor: str = CLI_ACTOR,
                                address: str | None = None) -> StaffAccount:
    """The account can no longer sign in, and every session it has ends now."""
    account = await _account_named(session, email=email, account_id=account_id)
    if actor == actor_of(account):
        # Otherwise the last administrator could lock everyone out of the administration pages.
        raise Conflict("An administrator cannot disable their own account.")
    if account.disabled_at is None:
        account.disabled_at = utcnow()
        ended = await _end_all_sessions(session, account)
        record(session, action="staff.disabled", actor=actor, subject=actor_of(account), address=address,
               detail={"email": account.email, "sessions_ended": ended})
    return account


async def enable_staff_account(session: AsyncSession, *, email: str | None = None,
                               account_id: uuid.UUID | None = None, actor: str = CLI_ACTOR,
                               address: str | None = None) -> StaffAccount:
    """A disabled account may sign in again (its old sessions stay ended)."""
    account = await _account_named(session, email=email, account_id=account_id)
    if account.disabled_at is not None:
        account.disabled_at = None
        account.failed_attempts = 0
        account.locked_until = None
        session.add(account)
        record(session, action="staff.enabled", actor=actor, subject=actor_of(account), address=address,
               detail={"email": account.email})
    return account


async def list_staff(session: AsyncSession) -> list[StaffAccount]:
    result = await session.execute(select(StaffAccount).order_by(StaffAccount.email))  # type: ignore[arg-type]
    return list(result.scalars().all())


# --------------------------------------------------------------------------- signing in and out


class SignInRefused(Exception):
    """Wrong e-mail, wrong password, locked or disabled account: one answer for all of them."""


async def sign_in(session: AsyncSession, *, email: str, password: str, policy: SessionPolicy,
                  address: str | None, user_agent: str | None) -> tuple[SignedIn, str]:
    """Check a local password and open a session: (the session, its cookie token).

    Raises `SignInRefused` - after recording why in the audit log, in this same transaction,
    which the caller must commit either way.
    """
    now = utcnow()
    account = await find_account(session, email)
    # Verified before anything else is decided, and even with no account: the time taken tells nothing.
    # In a worker thread: an argon2 check takes ~0.2 s of CPU, which must not stall the event loop.
    password_ok = await asyncio.to_thread(verify_password, account.password_hash if account else None, password)
    if account is None:
        record(session, action="staff.sign_in_failed", actor=ANONYMOUS_ACTOR, address=address,
               detail={"reason": "unknown_email"})
        raise SignInRefused()
    subject = actor_of(account)
    if account.disabled_at is not None:
        record(session, action="staff.sign_in_failed", actor=ANONYMOUS_ACTOR, subject=subject, address=address,
               detail={"reason": "disabled"})
        raise SignInRefused()
    if account.locked_until is not None and account.locked_until > now:
        record(session, action="staff.sign_in_failed", actor=ANONYMOUS_ACTOR, subject=subject, address=address,
               detail={"reason": "locked", "locked_until": account.locked_until.isoformat()})
        raise SignInRefused()
    if not password_ok:
        account.failed_attempts += 1
        record(session, action="staff.sign_in_failed", actor=ANONYMOUS_ACTOR, subject=subject, address=address,
               detail={"reason": "wrong_password", "failed_attempts": account.failed_attempts})
        if account.failed_attempts >= policy.lockout_attempts:
            account.locked_until = now + policy.lockout
            account.failed_attempts = 0
            record(session, action="staff.locked", actor=ANONYMOUS_ACTOR, subject=subject, address=address,
                   detail={"locked_until": account.locked_until.isoformat()})
        session.add(account)
        raise SignInRefused()
    assert account.password_hash is not None
    if needs_rehash(account.password_hash):
        account.password_hash = await asyncio.to_thread(hash_password, password)
    account.failed_attempts = 0
    account.locked_until = None
    session.add(account)
    return await open_session(session, account, policy=policy, address=address, user_agent=user_agent)


async def sign_in_verified(session: AsyncSession, *, email: str, subject: str, roles: Iterable[str] | None,
                           provider: str, policy: SessionPolicy, address: str | None,
                           user_agent: str | None) -> tuple[SignedIn, str]:
    """Open a session for a person an identity provider has vouched for, matched by e-mail.

    ``roles`` (already mapped to staff roles) replace the account's when the provider named any
    claim at all; an empty list means the provider grants no staff role, which refuses.
    Raises `SignInRefused` after recording why, like `sign_in`; the caller commits either way.
    """
    account = await find_account(session, email)
    detail: dict[str, Any] = {"method": "oidc", "provider": provider, "provider_subject": subject[:200]}
    if account is None:
        record(session, action="staff.sign_in_failed", actor=ANONYMOUS_ACTOR, address=address,
               detail={**detail, "reason": "unknown_email"})
        raise SignInRefused()
    if account.disabled_at is not None:
        record(session, action="staff.sign_in_failed", actor=ANONYMOUS_ACTOR, subject=actor_of(account),
               address=address, detail={**detail, "reason": "disabled"})
        raise SignInRefused()
    if roles is not None:
        granted = sorted(set(roles))
        if not granted:
            record(session, action="staff.sign_in_failed", actor=ANONYMOUS_ACTOR, subject=actor_of(account),
                   address=address, detail={**detail, "reason": "no_staff_role"})
            raise SignInRefused()
        if granted != sorted(account.roles or ()):
            record(session, action="staff.roles_changed", actor=f"oidc:{provider}"[:80], subject=actor_of(account),
                   address=address, detail={"from": list(account.roles or ()), "to": granted})
            account.roles = granted
            session.add(account)
    return await open_session(session, account, policy=policy, address=address, user_agent=user_agent,
                              method="oidc")


async def open_session(session: AsyncSession, account: StaffAccount, *, policy: SessionPolicy,
                       address: str | None, user_agent: str | None, method: str = "password") -> tuple[SignedIn, str]:
    """A new session for an account whose credential has been checked (here or by an identity provider)."""
    token = new_session_token()
    now = utcnow()
    staff_session = StaffSession(id=session_id_of(token), account_id=account.id, created_at=now, last_seen_at=now,
                                 expires_at=now + policy.absolute, address=address,
                                 user_agent=(user_agent or "")[:300] or None)
    session.add(staff_session)
    record(session, action="staff.sign_in", actor=actor_of(account), subject=actor_of(account), address=address,
           detail={"session": staff_session.id[:12], "method": method})
    return SignedIn(staff_session, account), token


async def find_signed_in(session: AsyncSession, token: str, *, policy: SessionPolicy) -> SignedIn | None:
    """The live session this cookie token names, or None. Touches ``last_seen_at`` now and then
    (the caller commits)."""
    if not token or len(token) > 200:
        return None
    row = (await session.execute(
        select(StaffSession, StaffAccount).join(StaffAccount, StaffAccount.id == StaffSession.account_id)  # type: ignore[arg-type]
        .where(StaffSession.id == session_id_of(token))
    )).first()
    if row is None:
        return None
    staff_session, account = row
    now = utcnow()
    if (staff_session.revoked_at is not None or staff_session.expires_at <= now
            or staff_session.last_seen_at + policy.idle <= now or account.disabled_at is not None
            or (account.sessions_valid_after is not None and staff_session.created_at <= account.sessions_valid_after)):
        return None
    if now - staff_session.last_seen_at >= LAST_SEEN_GRANULARITY:
        staff_session.last_seen_at = now
        session.add(staff_session)
    return SignedIn(staff_session, account)


async def sign_out(session: AsyncSession, signed_in: SignedIn, *, address: str | None) -> None:
    signed_in.session.revoked_at = utcnow()
    session.add(signed_in.session)
    record(session, action="staff.sign_out", actor=actor_of(signed_in.account), subject=actor_of(signed_in.account),
           address=address, detail={"session": signed_in.session.id[:12]})


async def _end_all_sessions(session: AsyncSession, account: StaffAccount) -> int:
    now = utcnow()
    account.sessions_valid_after = now
    session.add(account)
    result = await session.execute(
        update(StaffSession).where(StaffSession.account_id == account.id,  # type: ignore[arg-type]
                                   StaffSession.revoked_at.is_(None))  # type: ignore[union-attr]
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def sign_out_everywhere(session: AsyncSession, signed_in: SignedIn, *, address: str | None) -> None:
    ended = await _end_all_sessions(session, signed_in.account)
    record(session, action="staff.sign_out_everywhere", actor=actor_of(signed_in.account),
           subject=actor_of(signed_in.account), address=address, detail={"sessions_ended": ended})


def policy_of(settings: GatewaySettings) -> SessionPolicy:
    return SessionPolicy(idle=timedelta(minutes=settings.session_idle_minutes),
                         absolute=timedelta(hours=settings.session_absolute_hours),
                         lockout_attempts=settings.staff_lockout_attempts,
                         lockout=timedelta(minutes=settings.staff_lockout_minutes))
