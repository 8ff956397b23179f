"""The portal session cookie as a credential for ``/api/v1/...`` calls made from the portal.

Each call reads the session from the database (staff calls are few; a revoked session must
stop working at once). The CSRF check on unsafe methods happens earlier, in
`gateway.staff.csrf.SessionCsrfGuard`, so a forged cross-site write is refused before it
is authenticated or forwarded.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.authentication import Credentials, Unauthenticated
from gateway.staff.service import SessionPolicy, find_signed_in
from kernel.identity import Identity


class SessionAuthenticator:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, policy: SessionPolicy) -> None:
        self._sessionmaker = sessionmaker
        self._policy = policy

    async def authenticate(self, credentials: Credentials) -> Identity | None:
        if credentials.explicit:
            return None
        token = credentials.session_token
        if token is None:
            return None
        async with self._sessionmaker() as session:
            signed_in = await find_signed_in(session, token, policy=self._policy)
            if signed_in is None:
                raise Unauthenticated("The portal session has ended; sign in again.")
            if session.dirty:
                await session.commit()
        return signed_in.identity
