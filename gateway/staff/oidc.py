"""Staff sign-in through an external OpenID Connect provider (``GATEWAY_STAFF_AUTH_MODE=oidc``).

The authorization-code flow with PKCE (RFC 7636, S256): the portal sends the browser to the
provider with a random ``state``, ``nonce`` and code challenge; the provider sends it back
to ``/sign-in/oidc/callback`` with a code, which is traded (with the client secret and the
code verifier) at the token endpoint for an ID token. The ID token's signature is checked
against the provider's JWKS, and its issuer, audience, expiry and nonce. Then the person is
matched to a staff account by e-mail (`gateway.staff.service.sign_in_verified`): the
provider vouches for who they are; administrators still decide who has an account.

The ``state``, ``nonce`` and code verifier travel in a short-lived, HMAC-signed, HttpOnly
cookie scoped to ``/sign-in/oidc`` (no server-side store, so any gateway replica can
finish what another began). The OAuth 2.0 parameters and the PKCE challenge come from
authlib; the ID token is verified with joserfc (authlib's successor for JOSE).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from gateway.settings import GatewaySettings

STATE_COOKIE = "ntc_oidc"
STATE_COOKIE_PATH = "/sign-in/oidc"
STATE_SECONDS = 600  # the time a person has at the provider to sign in
DISCOVERY_SECONDS = 3600  # the provider's metadata and keys are fetched again after this
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA")
CLOCK_LEEWAY_SECONDS = 60


class OidcRefused(Exception):
    """The provider's answer is not good enough to sign anyone in; ``reason`` goes to the audit log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class VerifiedPerson:
    """Who the provider says signed in, as far as the gateway needs to know."""

    subject: str
    email: str
    name: str | None
    roles: tuple[str, ...] | None  # mapped to staff roles; None when the token names none at all


@dataclass(frozen=True)
class _Provider:
    authorization_endpoint: str
    token_endpoint: str
    keys: KeySet
    fetched_at: float


def roles_from_claims(claims: Mapping[str, Any], claim: str, mapping: Mapping[str, str],
                      staff_roles: tuple[str, ...]) -> tuple[str, ...] | None:
    """The staff roles an ID token's roles claim grants: ``claim`` may be a dotted path
    (``realm_access.roles``); each value is mapped through ``mapping``, or taken as it is when it
    is a staff role's own name. None when the token has no such claim."""
    value: Any = claims
    for part in claim.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    values = [value] if isinstance(value, str) else list(value) if isinstance(value, list | tuple) else []
    granted = {mapping.get(str(item), str(item) if not mapping else "") for item in values}
    return tuple(sorted(role for role in granted if role in staff_roles))


class OidcSignIn:
    """One configured provider. Cheap to keep for the app's life; fetches discovery and JWKS lazily."""

    def __init__(self, settings: GatewaySettings, *, staff_roles: tuple[str, ...]) -> None:
        self.issuer = settings.oidc_issuer_url.rstrip("/")
        self.client_id = settings.oidc_client_id
        assert settings.oidc_client_secret is not None  # the settings refuse oidc mode without one
        self._client_secret = settings.oidc_client_secret.get_secret_value()
        self.scopes = settings.oidc_scopes
        self.roles_claim = settings.oidc_roles_claim
        self.role_mapping = dict(settings.oidc_role_mapping)
        self.redirect_url = settings.oidc_redirect_url
        self.timeout = settings.oidc_timeout_seconds
        self.staff_roles = staff_roles
        unknown = sorted(set(self.role_mapping.values()) - set(staff_roles))
        if unknown:
            raise ValueError(f"GATEWAY_OIDC_ROLE_MAPPING names unknown staff roles: {', '.join(unknown)}")
        # The state cookie's signing key: derived from the gateway's one secret, never stored.
        self._cookie_key = hashlib.sha256(b"ntc-oidc-state\0" + settings.identity_private_key.get_secret_value()
                                          .strip().encode()).digest()
        self._provider: _Provider | None = None

    # ------------------------------------------------------------------ the provider's metadata

    async def _metadata(self, client: httpx.AsyncClient, *, refresh: bool = False) -> _Provider:
        if self._provider is not None and not refresh and time.monotonic() - self._provider.fetched_at < \
                DISCOVERY_SECONDS:
            return self._provider
        try:
            discovery = (await client.get(f"{self.issuer}/.well-known/openid-configuration")).raise_for_status().json()
            if discovery.get("issuer", "").rstrip("/") != self.issuer:
                raise OidcRefused("issuer_mismatch")  # OpenID Connect Discovery 1.0, section 4.3
            jwks = (await client.get(discovery["jwks_uri"])).raise_for_status().json()
            self._provider = _Provider(discovery["authorization_endpoint"], discovery["token_endpoint"],
                                       KeySet.import_key_set(jwks), time.monotonic())
        except (httpx.HTTPError, ValueError, KeyError, TypeError, JoseError) as exc:
            raise OidcRefused("provider_unreachable") from exc
        return self._provider

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, trust_env=False)

    # ------------------------------------------------------------------ the flow

    async def begin(self, redirect_uri: str) -> tuple[str, str]:
        """The provider's authorization URL to send the browser to, and the state cookie's value."""
        async with self._client() as client:
            provider = await self._metadata(client)
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        url = prepare_grant_uri(provider.authorization_endpoint, self.client_id, "code", redirect_uri=redirect_uri,
                                scope=self.scopes, state=state, nonce=nonce,
                                code_challenge=create_s256_code_challenge(verifier), code_challenge_method="S256")
        return url, self._seal({"state": state, "nonce": nonce, "verifier": verifier, "at": int(time.time())})

    async def finish(self, *, redirect_uri: str, params: Mapping[str, str], cookie: str | None) -> VerifiedPerson:
        """Check the provider's answer at the callback and return who signed in; `OidcRefused` otherwise."""
        kept = self._unseal(cookie)
        if kept is None:
            raise OidcRefused("state_missing")
        if not hmac.compare_digest(str(params.get("state") or ""), kept["state"]):
            raise OidcRefused("state_mismatch")
        if params.get("error"):
            raise OidcRefused(f"provider_error:{str(params['error'])[:40]}")
        code = params.get("code")
        if not code:
            raise OidcRefused("code_missing")
        async with self._client() as client:
            provider = await self._metadata(client)
            try:
                answer = await client.post(provider.token_endpoint, auth=(self.client_id, self._client_secret), data={
                    "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                    "code_verifier": kept["verifier"]}, headers={"Accept": "application/json"})
                tokens = answer.json() if answer.status_code == 200 else None
            except (httpx.HTTPError, ValueError) as exc:
                raise OidcRefused("token_endpoint_unreachable") from exc
            if not isinstance(tokens, dict) or not isinstance(tokens.get("id_token"), str):
                raise OidcRefused("token_refused")
            claims = await self._verified_claims(client, provider, tokens["id_token"], nonce=kept["nonce"])
        email = claims.get("email")
        if not isinstance(email, str) or not email:
            raise OidcRefused("no_email")
        verified = claims.get("email_verified")
        # Some providers send the claim as a string ("false"), which is not False but says the same.
        if verified is False or (isinstance(verified, str) and verified.strip().lower() != "true"):
            raise OidcRefused("email_not_verified")
        name = claims.get("name")
        return VerifiedPerson(subject=str(claims["sub"]), email=email, name=name if isinstance(name, str) else None,
                              roles=roles_from_claims(claims, self.roles_claim, self.role_mapping, self.staff_roles))

    async def _verified_claims(self, client: httpx.AsyncClient, provider: _Provider, id_token: str, *,
                               nonce: str) -> dict[str, Any]:
        try:
            token = jwt.decode(id_token, provider.keys, algorithms=list(ID_TOKEN_ALGORITHMS))
        except JoseError:
            # The provider may have rotated its keys since they were fetched: fetch once more, then give up.
            provider = await self._metadata(client, refresh=True)
            try:
                token = jwt.decode(id_token, provider.keys, algorithms=list(ID_TOKEN_ALGORITHMS))
            except (JoseError, ValueError) as exc:
                raise OidcRefused("id_token_signature") from exc
        except ValueError as exc:
            raise OidcRefused("id_token_malformed") from exc
        registry = jwt.JWTClaimsRegistry(
            leeway=CLOCK_LEEWAY_SECONDS,
            iss={"essential": True, "value": self.issuer}, aud={"essential": True, "value": self.client_id},
            sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(token.claims)
        except JoseError as exc:
            raise OidcRefused(f"id_token_claims:{exc.error}") from exc
        audience = token.claims.get("aud")
        if isinstance(audience, list) and len(audience) > 1 and token.claims.get("azp") != self.client_id:
            raise OidcRefused("id_token_claims:azp")  # OpenID Connect Core 1.0, section 3.1.3.7
        return dict(token.claims)

    # ------------------------------------------------------------------ the state cookie

    def _seal(self, kept: dict[str, Any]) -> str:
        payload = base64.urlsafe_b64encode(json.dumps(kept, separators=(",", ":")).encode()).decode().rstrip("=")
        return f"{payload}.{self._signature(payload)}"

    def _unseal(self, cookie: str | None) -> dict[str, Any] | None:
        if not cookie or len(cookie) > 2000 or "." not in cookie:
            return None
        payload, _, signature = cookie.rpartition(".")
        if not hmac.compare_digest(signature, self._signature(payload)):
            return None
        try:
            kept = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except ValueError:
            return None
        if not isinstance(kept, dict) or time.time() - int(kept.get("at", 0)) > STATE_SECONDS:
            return None
        return kept

    def _signature(self, payload: str) -> str:
        digest = hmac.new(self._cookie_key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
