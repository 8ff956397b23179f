"""The gateway's settings: prefix ``GATEWAY_``.

``GATEWAY_SERVICE_URLS`` is a JSON object and replaces the whole default map, e.g.
``GATEWAY_SERVICE_URLS='{"registry": "http://registry:8000", ...}'``.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from gateway.limits import RateText
from kernel.identity import TOKEN_LIFETIME
from kernel.settings import KNOWN_PLACEHOLDER_SECRETS, ServiceSettings

SERVICE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")

DEFAULT_SERVICE_URLS = {
    "registry": "http://127.0.0.1:8001",
    "bargaining": "http://127.0.0.1:8002",
    "disputes": "http://127.0.0.1:8003",
    "notifications": "http://127.0.0.1:8004",
}


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", frozen=True)

    service_name: str = "gateway"
    database_url: str = "sqlite+aiosqlite:///./.data/gateway.db"
    # Ed25519 private key (PKCS#8 PEM) that signs the identity tokens sent to services.
    # The matching public key is derived from it (``identity_public_key``).
    identity_private_key: SecretStr = SecretStr("")
    # Service name (the first path segment after /api/v1/) -> base URL, no trailing slash.
    service_urls: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_SERVICE_URLS))

    # Upstream HTTP client. Every limit is explicit: a hung service must not hang the door.
    # (The aiohttp transport enforces connect, read and pool; it has no per-write timeout.)
    upstream_connect_timeout_seconds: float = Field(default=3.0, gt=0)
    upstream_read_timeout_seconds: float = Field(default=30.0, gt=0)
    upstream_write_timeout_seconds: float = Field(default=30.0, gt=0)
    upstream_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    upstream_max_connections: int = Field(default=256, ge=1)
    # Kept below uvicorn's default keep-alive (5 s) so the gateway drops an idle
    # connection before the service does, instead of racing it.
    upstream_keepalive_seconds: float = Field(default=4.0, gt=0)
    # Bodies up to this size (declared by Content-Length) are read whole and sent in one
    # write; larger or chunked bodies are streamed through without buffering.
    buffer_request_body_bytes: int = Field(default=65_536, ge=0)
    # A POST, PUT or PATCH body of any other media type is refused (415) and not forwarded;
    # JSON ones (application/json, */*+json) must parse, else 400, so they are read whole
    # first (GATEWAY_MAX_REQUEST_BODY_BYTES bounds that). Other types stream through.
    accepted_media_types: list[str] = Field(default_factory=lambda: [
        "application/json", "application/merge-patch+json", "multipart/form-data", "text/csv"])
    readiness_timeout_seconds: float = Field(default=2.0, gt=0)
    # FastAPI's native OpenTelemetry (spans and metrics per request). Prometheus metrics
    # and traceparent forwarding work without it.
    opentelemetry_enabled: bool = False

    # Rate limits (gateway/limits): per authenticated credential, and per client address for
    # anonymous callers and refused credentials; counted in memory on each replica.
    rate_limit_enabled: bool = True
    rate_limit_per_credential: RateText = "600/minute"
    rate_limit_per_address: RateText = "300/minute"
    # Attempts at the portal's sign-in form (POST /sign-in) per client address, on top of the
    # per-account lock-out below: one address cannot try a password across many accounts.
    staff_sign_in_rate_per_address: RateText = "10/minute"
    # Origins allowed to call the API from a browser (CORS); empty = closed, no CORS headers at all.
    cors_allowed_origins: list[str] = Field(default_factory=list)
    # The aggregated OpenAPI and AsyncAPI documents are rebuilt from the services at most this often.
    docs_cache_seconds: float = Field(default=30.0, ge=0)
    # A service builds its OpenAPI document on the first request (0.2-0.5 s idle, seconds when
    # the machine is busy), so fetching documents gets longer than a readiness check.
    docs_timeout_seconds: float = Field(default=10.0, gt=0)

    # A verified (or refused) API key is remembered this long, so revoking a key takes
    # effect within this many seconds on every gateway replica.
    api_key_cache_seconds: float = Field(default=30.0, ge=0)
    # A write sent with an Idempotency-Key is answered the same way to every retry for this long.
    idempotency_retention_hours: float = Field(default=24.0, gt=0)
    # A key whose request never got an answer (the gateway stopped mid-request) is free again after this.
    idempotency_claim_seconds: float = Field(default=60.0, gt=0)
    # last_used_at is written in one batch at most this often (never once per request).
    api_key_last_used_write_seconds: float = Field(default=60.0, gt=0)
    # A signed identity token is reused for the same caller this long; tokens live
    # TOKEN_LIFETIME (60 s), so a reused token still has at least 30 s to run.
    identity_token_reuse_seconds: float = Field(default=30.0, ge=0)
    # API clients' access tokens (POST /oauth/token) live this long; revoking a client stops new
    # tokens at once, and the ones it holds run out within this time.
    api_client_token_minutes: float = Field(default=15.0, gt=0, le=60)

    # Staff sign-in to the portal (gateway/staff). "local": accounts with argon2 passwords in
    # the gateway database. "oidc": an OpenID Connect provider (gateway/staff/oidc.py) vouches
    # for the person, who is matched to a staff account by e-mail; local passwords are then off.
    staff_auth_mode: Literal["local", "oidc"] = "local"
    oidc_issuer_url: str = ""  # e.g. https://login.example.kz/realms/ntc; discovery is read from it
    oidc_client_id: str = ""
    # None unless OIDC is used: the production guard refuses an empty secret, but only one that is in use.
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: str = "openid email profile"
    # Where the ID token names the person's roles (a dotted path, e.g. realm_access.roles), and
    # how the provider's role names map to staff roles ({"ntc-admins": "administrator"}); with
    # no mapping, values that are staff role names are taken as they are. A token that names
    # roles sets the account's roles; one without the claim leaves them as administrators set them.
    oidc_roles_claim: str = "roles"
    oidc_role_mapping: dict[str, str] = Field(default_factory=dict)
    # The callback URL registered at the provider; empty = this gateway's /sign-in/oidc/callback
    # as the browser reached it (set it when the gateway sits behind a proxy).
    oidc_redirect_url: str = ""
    oidc_timeout_seconds: float = Field(default=10.0, gt=0)
    # The session cookie is Secure (sent over https only); turn off only for plain-http development.
    session_cookie_secure: bool = True
    session_idle_minutes: float = Field(default=30.0, gt=0)
    session_absolute_hours: float = Field(default=12.0, gt=0)
    # After this many wrong passwords in a row an account is locked for staff_lockout_minutes.
    staff_lockout_attempts: int = Field(default=5, ge=1)
    staff_lockout_minutes: float = Field(default=15.0, gt=0)
    # The portal's language when neither the ntc_lang cookie (the header's switch) nor the
    # browser's Accept-Language names one it speaks (gateway.i18n): Kazakh, the state language.
    portal_default_language: Literal["kk", "ru", "en"] = "kk"

    @model_validator(mode="before")
    @classmethod
    def _derive_public_key(cls, data: Any) -> Any:
        """The public key is the private key's: one secret to configure, never two to keep in step."""
        if not isinstance(data, dict):
            return data
        private = data.get("identity_private_key")
        raw = str(private.get_secret_value() if isinstance(private, SecretStr) else private or "").strip()
        if data.get("environment") == "production" and raw.lower() in KNOWN_PLACEHOLDER_SECRETS:
            # Said here, about the key one sets, before the kernel's guard would name the derived one.
            raise ValueError("identity_private_key must be set to a real secret in production")
        if raw and not data.get("identity_public_key"):
            data = {**data, "identity_public_key": public_key_of(raw)}
        return data

    @model_validator(mode="after")
    def _oidc_needs_a_provider(self) -> GatewaySettings:
        if self.staff_auth_mode == "oidc":
            missing = [name for name, value in (("oidc_issuer_url", self.oidc_issuer_url),
                                                ("oidc_client_id", self.oidc_client_id),
                                                ("oidc_client_secret", self.oidc_client_secret.get_secret_value()
                                                 if self.oidc_client_secret else ""))
                       if not value.strip()]
            if missing:
                raise ValueError(f"staff_auth_mode 'oidc' needs {', '.join(missing)}")
        return self

    @field_validator("service_urls")
    @classmethod
    def _check_service_urls(cls, value: dict[str, str]) -> dict[str, str]:
        checked: dict[str, str] = {}
        for name, url in value.items():
            if not SERVICE_NAME.match(name):
                raise ValueError(f"service name {name!r} must be lower-case letters, digits and dashes")
            parsed = httpx.URL(url)
            if parsed.scheme not in {"http", "https"} or not parsed.host or parsed.query:
                raise ValueError(f"service {name}: {url!r} is not an http(s) base URL")
            checked[name] = url.rstrip("/")
        return checked

    @field_validator("accepted_media_types")
    @classmethod
    def _lower_case_media_types(cls, value: list[str]) -> list[str]:
        return [media_type.strip().lower() for media_type in value if media_type.strip()]

    @field_validator("identity_token_reuse_seconds")
    @classmethod
    def _reuse_shorter_than_lifetime(cls, value: float) -> float:
        if value > TOKEN_LIFETIME.total_seconds() - 15:
            raise ValueError("a token must keep at least 15 s of life when it is reused")
        return value

    def upstream_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.upstream_connect_timeout_seconds,
            read=self.upstream_read_timeout_seconds,
            write=self.upstream_write_timeout_seconds,
            pool=self.upstream_pool_timeout_seconds,
        )


def public_key_of(private_key_pem: str) -> str:
    try:
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError("identity_private_key is not a PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("identity_private_key must be an Ed25519 key")
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
