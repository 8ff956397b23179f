"""Signed identity tokens, reused per caller for a few seconds.

An Ed25519 signature plus the JWT encoding costs tens of microseconds — a real share
of a forwarded request. A token says only who the caller is (subject, kind,
organisation, roles), not what the request is, so the same token can go with each of
that caller's requests until ``reuse_seconds`` have passed; it then still has at least
``TOKEN_LIFETIME - reuse_seconds`` to live when a service checks it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from kernel.identity import Identity, IdentitySigner

MAX_CACHED_TOKENS = 10_000


class IdentityTokens:
    def __init__(self, signer: IdentitySigner, *, reuse_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._signer = signer
        self._reuse_seconds = reuse_seconds
        self._clock = clock
        self._tokens: dict[Identity, tuple[float, str]] = {}

    def token_for(self, identity: Identity) -> str:
        now = self._clock()
        cached = self._tokens.get(identity)
        if cached is not None and cached[0] > now:
            return cached[1]
        token = self._signer.sign(identity)
        if len(self._tokens) >= MAX_CACHED_TOKENS:
            self._tokens = {who: entry for who, entry in self._tokens.items() if entry[0] > now}
            if len(self._tokens) >= MAX_CACHED_TOKENS:
                self._tokens.clear()
        self._tokens[identity] = (now + self._reuse_seconds, token)
        return token
