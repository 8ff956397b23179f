"""Who is calling: the credentials a request presents, and the chain that turns them into an Identity.

Each kind of credential has an `Authenticator`: API keys (``gateway.api_keys``) and the
portal's staff session cookie (``gateway.staff``); OIDC bearer tokens can join the chain
later without touching the forwarding code. An explicit credential (Authorization or
X-API-Key) wins over a session cookie. A cookie-authenticated unsafe request must also carry
the session's CSRF token (``gateway.staff.csrf`` checks it before anything is forwarded).

A request that presents no credential is anonymous (services decide
what is public); one that presents a credential nobody accepts is refused with 401.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from kernel.identity import ANONYMOUS, Identity
from kernel.problems import Problem

# The portal's session cookie (set by gateway.portal, read by gateway.staff's authenticator).
SESSION_COOKIE = "ntc_session"


def cookie_value(header: str, name: str) -> str | None:
    """The value of one cookie in a Cookie header (the first, if a browser sent it twice)."""
    for part in header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value.strip().strip('"') or None
    return None


@dataclass(slots=True)
class Credentials:
    """The credential-bearing headers of one request (all of them are dropped before forwarding)."""

    authorization: str | None = None
    api_key: str | None = None
    # The raw Cookie header; only the portal session cookie in it is a credential.
    cookie: str | None = None

    @property
    def bearer(self) -> str | None:
        if self.authorization is None:
            return None
        scheme, _, token = self.authorization.partition(" ")
        return (token.strip() or None) if scheme.lower() == "bearer" else None

    @property
    def explicit(self) -> bool:
        """An API credential was sent (a session cookie then plays no part)."""
        return self.authorization is not None or self.api_key is not None

    @property
    def session_token(self) -> str | None:
        return cookie_value(self.cookie, SESSION_COOKIE) if self.cookie else None

    @property
    def presented(self) -> bool:
        return self.explicit or self.session_token is not None


class Authenticator(Protocol):
    async def authenticate(self, credentials: Credentials) -> Identity | None:
        """The caller, or None when these credentials are not of this authenticator's kind.

        Raises `Unauthenticated` when they are of its kind but are not good.
        """


class Unauthenticated(Problem):
    def __init__(self, detail: str) -> None:
        super().__init__(401, "unauthenticated", "Authentication required", detail,
                         headers={"WWW-Authenticate": 'Bearer realm="ntc", error="invalid_token"'})


class Authentication:
    def __init__(self, authenticators: Sequence[Authenticator]) -> None:
        self._authenticators = tuple(authenticators)

    async def identify(self, credentials: Credentials) -> Identity:
        if not credentials.presented:
            return ANONYMOUS
        for authenticator in self._authenticators:
            identity = await authenticator.authenticate(credentials)
            if identity is not None:
                return identity
        if credentials.authorization is not None and credentials.bearer is None:
            raise Unauthenticated("Only the Bearer scheme is accepted in Authorization.")
        raise Unauthenticated("The credential is not recognised.")
