"""Who is calling: the credentials a request presents, and the chain that turns them into an Identity.

Each kind of credential has an `Authenticator`. The API-key one is the only one today;
portal sessions and OIDC bearer tokens join the chain later without touching the
forwarding code. A request that presents no credential is anonymous (services decide
what is public); one that presents a credential nobody accepts is refused with 401.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from kernel.identity import ANONYMOUS, Identity
from kernel.problems import Problem


@dataclass(slots=True)
class Credentials:
    """The credential-bearing headers of one request (all of them are dropped before forwarding)."""

    authorization: str | None = None
    api_key: str | None = None
    # Read by the portal session authenticator to come; an API call carrying only
    # cookies is treated as anonymous.
    cookie: str | None = None

    @property
    def bearer(self) -> str | None:
        if self.authorization is None:
            return None
        scheme, _, token = self.authorization.partition(" ")
        return (token.strip() or None) if scheme.lower() == "bearer" else None

    @property
    def presented(self) -> bool:
        return self.authorization is not None or self.api_key is not None


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
