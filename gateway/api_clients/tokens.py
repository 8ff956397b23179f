"""The access tokens API clients present: EdDSA JWTs signed with the gateway's own key.

Their audience (``ntc-gateway-clients``) differs from the identity tokens the gateway sends
to services (``ntc-services``), so neither kind is ever accepted in place of the other.
They are checked by signature alone, with no database read: a client revoked elsewhere (the
CLI, another replica) keeps a token it already holds until that token expires
(``api_client_token_minutes``); the replica whose administration page revoked it refuses
its tokens at once (`ClientTokens.revoke`).
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt
from cryptography.hazmat.primitives import serialization

from gateway.api_clients.models import ApiClient
from gateway.authentication import Credentials, Unauthenticated
from kernel.identity import ALGORITHM, ISSUER, Identity

CLIENT_TOKEN_AUDIENCE = "ntc-gateway-clients"
TOKEN_TYPE = "at+jwt"  # RFC 9068's header type for JWT access tokens
LEEWAY_SECONDS = 5
MAX_CACHED_TOKENS = 10_000


def looks_like_jwt(value: str) -> bool:
    """A compact JWS (three base64url parts, a JSON header): never an ``ntc_`` API key."""
    return value.startswith("eyJ") and value.count(".") == 2 and len(value) <= 4096


class ClientTokens:
    def __init__(self, private_key_pem: str, *, lifetime: timedelta) -> None:
        private = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
        self._private = private
        self._public = private.public_key()
        self.lifetime = lifetime
        # A client sends the same token with each request for minutes: checking its signature
        # once is enough (a good token is remembered until it expires).
        self._verified: dict[str, tuple[Identity, float]] = {}
        # Subjects of clients revoked here, until every token they could hold has expired.
        self._revoked: dict[str, float] = {}

    @property
    def expires_in(self) -> int:
        return int(self.lifetime.total_seconds())

    def issue(self, client: ApiClient, *, now: datetime | None = None) -> str:
        issued = now or datetime.now(UTC)
        claims = {
            "iss": ISSUER,
            "aud": CLIENT_TOKEN_AUDIENCE,
            "sub": f"api-client:{client.id}",
            "client_id": str(client.id),
            "org": str(client.organisation_id) if client.organisation_id else None,
            "roles": sorted(client.roles or ()),
            "iat": issued,
            "exp": issued + self.lifetime,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._private, algorithm=ALGORITHM, headers={"typ": TOKEN_TYPE})  # type: ignore[arg-type]

    def revoke(self, client_id: uuid.UUID) -> None:
        """Refuse the tokens this client already holds from now on (on this replica)."""
        now = time.time()
        self._revoked = {subject: until for subject, until in self._revoked.items() if until > now}
        self._revoked[f"api-client:{client_id}"] = now + self.lifetime.total_seconds() + LEEWAY_SECONDS

    def verify(self, token: str) -> Identity:
        cached = self._verified.get(token)
        if cached is not None and cached[1] > time.time():
            identity = cached[0]
        else:
            identity, expires = self._verify(token)
            self._remember(token, identity, expires)
        if self._revoked and self._revoked.get(identity.subject, 0.0) > time.time():
            raise Unauthenticated("The API client has been revoked.")
        return identity

    def _remember(self, token: str, identity: Identity, expires: float) -> None:
        if len(self._verified) >= MAX_CACHED_TOKENS:
            now = time.time()
            self._verified = {t: entry for t, entry in self._verified.items() if entry[1] > now}
            if len(self._verified) >= MAX_CACHED_TOKENS:
                self._verified.clear()
        self._verified[token] = (identity, expires)

    def _verify(self, token: str) -> tuple[Identity, float]:
        try:
            if jwt.get_unverified_header(token).get("typ") != TOKEN_TYPE:
                raise Unauthenticated("The bearer token is not an API client access token.")
            claims = jwt.decode(token, self._public, algorithms=[ALGORITHM], audience=CLIENT_TOKEN_AUDIENCE,  # type: ignore[arg-type]
                                issuer=ISSUER, leeway=LEEWAY_SECONDS,
                                options={"require": ["exp", "iat", "sub", "aud", "iss"]})
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("The access token has expired; ask /oauth/token for a new one.") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated("The access token is not valid.") from exc
        identity = Identity(subject=str(claims["sub"]), kind="api-client", organisation_id=claims.get("org"),
                            roles=frozenset(claims.get("roles") or ()))
        return identity, float(claims["exp"])


class ClientTokenAuthenticator:
    """``Authorization: Bearer <JWT>`` from ``POST /oauth/token``; other bearer shapes are not its business."""

    def __init__(self, tokens: ClientTokens) -> None:
        self._tokens = tokens

    async def authenticate(self, credentials: Credentials) -> Identity | None:
        bearer = credentials.bearer
        if bearer is None or not looks_like_jwt(bearer):
            return None
        if credentials.api_key is not None:
            raise Unauthenticated("Authorization and X-API-Key carry different credentials.")
        return self._tokens.verify(bearer)
