"""The gateway's plain parts, without HTTP: header rules, paths, settings, token reuse, migrations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from gateway.api_keys import models  # noqa: F401  (registers the tables)
from gateway.identity_tokens import IdentityTokens
from gateway.proxy.forwarder import _service_of, upstream_path
from gateway.proxy.headers import is_identity_like, returned_response_headers, sort_request_headers
from gateway.settings import DEFAULT_SERVICE_URLS, GatewaySettings
from gateway.tables import MIGRATIONS_DIR, GatewayTable
from kernel.db import create_engine
from kernel.identity import Identity, IdentitySigner, IdentityVerifier, generate_keypair
from kernel.migrations import database_checks, upgrade
from kernel.problems import Problem


def test_request_headers_are_sorted_into_forwarded_credentials_and_framing() -> None:
    inbound = sort_request_headers([
        (b"host", b"gateway.example"), (b"authorization", b"Bearer ntc_abc"), (b"x-api-key", b"ntc_def"),
        (b"cookie", b"a=1"), (b"cookie", b"b=2"), (b"content-length", b"12"), (b"content-type", b"application/json"),
        (b"connection", b"keep-alive, X-Secret"), (b"x-secret", b"1"), (b"x-ntc-identity", b"forged"),
        (b"accept", b"application/json"), (b"proxy-authorization", b"x"), (b"x-forwarded-for", b"10.0.0.1"),
    ])

    assert inbound.forward == [(b"content-length", b"12"), (b"content-type", b"application/json"),
                               (b"accept", b"application/json")]
    assert inbound.credentials.authorization == "Bearer ntc_abc"
    assert inbound.credentials.bearer == "ntc_abc"
    assert inbound.credentials.api_key == "ntc_def"
    assert inbound.credentials.cookie == "a=1; b=2"
    assert inbound.host == b"gateway.example"
    assert inbound.content_length == 12 and inbound.has_body and not inbound.chunked


def test_transfer_encoding_wins_over_content_length() -> None:
    inbound = sort_request_headers([(b"content-length", b"5"), (b"transfer-encoding", b"chunked")])

    assert inbound.chunked and inbound.content_length is None
    assert inbound.forward == []


def test_a_request_without_framing_headers_has_no_body() -> None:
    assert not sort_request_headers([(b"accept", b"*/*")]).has_body
    assert not sort_request_headers([(b"content-length", b"0")]).has_body


def test_conflicting_content_lengths_are_flagged() -> None:
    assert sort_request_headers([(b"content-length", b"5"), (b"content-length", b"6")]).invalid_content_length
    assert sort_request_headers([(b"content-length", b"-1")]).invalid_content_length


@pytest.mark.parametrize("name", [
    "X-NTC-Identity", "x-ntc-anything", "X-Identity", "X-Identity-Token", "X-User", "X-User-Roles", "X-Remote-User",
    "X-Forwarded-User", "X-Auth-Token", "X-Authenticated-User", "X-Organisation", "X-Organisation-Id",
    "X-Roles", "Authorization", "X-API-Key", "Cookie",
])
def test_identity_like_headers(name: str) -> None:
    assert is_identity_like(name.encode())
    assert sort_request_headers([(name.lower().encode(), b"x")]).forward == []


@pytest.mark.parametrize("name", ["Accept", "Content-Type", "Traceparent", "Idempotency-Key", "If-Match",
                                  "X-Request-Source", "User-Agent"])
def test_ordinary_headers_are_forwarded(name: str) -> None:
    assert not is_identity_like(name.encode())
    assert sort_request_headers([(name.lower().encode(), b"x")]).forward == [(name.lower().encode(), b"x")]


def test_response_headers_lose_hop_by_hop_and_the_ones_connection_names() -> None:
    returned, length = returned_response_headers([
        (b"Content-Type", b"application/json"), (b"Connection", b"X-Private, keep-alive"), (b"X-Private", b"1"),
        (b"Keep-Alive", b"timeout=5"), (b"Transfer-Encoding", b"chunked"), (b"Date", b"today"),
        (b"Server", b"uvicorn"), (b"X-Request-ID", b"abc"), (b"Set-Cookie", b"a=1"), (b"Set-Cookie", b"b=2"),
        (b"ETag", b'"v3"'),
    ])

    assert returned == [(b"content-type", b"application/json"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2"),
                        (b"etag", b'"v3"')]
    assert length is None


def test_response_length_is_read_while_filtering() -> None:
    returned, length = returned_response_headers([(b"Content-Length", b"42"), (b"Content-Type", b"text/plain")])

    assert length == 42
    assert returned == [(b"content-length", b"42"), (b"content-type", b"text/plain")]


def _scope(raw_path: bytes, root_path: str = "") -> dict:
    return {"raw_path": raw_path, "path": raw_path.decode(), "root_path": root_path}


@pytest.mark.parametrize(("raw", "expected"), [
    (b"/api/v1/registry/organisations", "/organisations"),
    (b"/api/v1/registry", "/"),
    (b"/api/v1/registry/", "/"),
    (b"/api/v1/registry/a%2Fb/c%20d", "/a%2Fb/c%20d"),
    (b"/api/v1/registry/asyncapi.json", "/asyncapi.json"),
    (b"/api/v1/registry/x?query=in-raw-path", "/x"),
])
def test_upstream_path(raw: bytes, expected: str) -> None:
    assert upstream_path(_scope(raw)) == expected


@pytest.mark.parametrize(("path", "service"), [
    ("/api/v1/registry/organisations", "registry"), ("/api/v1/registry", "registry"), ("/api/v1/registry/", "registry"),
    ("/api/v1/", None), ("/api/v1", None), ("/api/v2/registry/x", None), ("/healthz", None), ("/", None),
    ("/docs", None), ("/api/v1registry/x", None),
])
def test_which_requests_are_forwarded(path: str, service: str | None) -> None:
    assert _service_of({"path": path}) == service
    assert _service_of({"path": "/ntc" + path, "root_path": "/ntc"}) == service


def test_upstream_path_under_a_root_path() -> None:
    assert upstream_path(_scope(b"/ntc/api/v1/registry/x", root_path="/ntc")) == "/x"


@pytest.mark.parametrize("raw", [b"/api/v1/registry/a/../admin", b"/api/v1/registry/a/%2e%2e/admin",
                                 b"/api/v1/registry/./x", b"/api/v1/registry/%2E/x"])
def test_dot_segments_are_refused(raw: bytes) -> None:
    with pytest.raises(Problem) as refused:
        upstream_path(_scope(raw))
    assert refused.value.status == 400


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    private_pem, public_pem = generate_keypair()
    monkeypatch.setenv("GATEWAY_IDENTITY_PRIVATE_KEY", private_pem)
    monkeypatch.setenv("GATEWAY_SERVICE_URLS", json.dumps({"registry": "http://registry:8000/"}))
    monkeypatch.setenv("GATEWAY_API_KEY_CACHE_SECONDS", "5")
    monkeypatch.setenv("GATEWAY_UPSTREAM_READ_TIMEOUT_SECONDS", "12.5")

    settings = GatewaySettings()

    assert settings.service_urls == {"registry": "http://registry:8000"}
    assert settings.api_key_cache_seconds == 5
    assert settings.upstream_timeout().read == 12.5
    assert settings.identity_public_key.get_secret_value() == public_pem
    assert settings.database_url == "sqlite+aiosqlite:///./.data/gateway.db"


def test_default_service_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATEWAY_SERVICE_URLS", raising=False)

    assert GatewaySettings().service_urls == DEFAULT_SERVICE_URLS
    assert set(DEFAULT_SERVICE_URLS) == {"registry", "bargaining", "disputes", "notifications"}


@pytest.mark.parametrize("urls", [{"Registry": "http://r"}, {"registry": "ftp://r"}, {"registry": "http://r/?a=1"}])
def test_bad_service_urls_are_refused(urls: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        GatewaySettings(service_urls=urls)


def test_production_refuses_a_missing_or_placeholder_key() -> None:
    with pytest.raises(ValueError, match="identity_private_key"):
        GatewaySettings(environment="production")
    with pytest.raises(ValueError):
        GatewaySettings(environment="production", identity_private_key="changeme")
    GatewaySettings(environment="production", identity_private_key=generate_keypair()[0])


def test_the_app_will_not_start_without_a_signing_key() -> None:
    from gateway.app import create_app

    with pytest.raises(RuntimeError, match="GATEWAY_IDENTITY_PRIVATE_KEY"):
        create_app(GatewaySettings(identity_private_key=""))


def test_identity_tokens_are_reused_within_the_window_and_renewed_after() -> None:
    private_pem, public_pem = generate_keypair()
    now = [1000.0]
    tokens = IdentityTokens(IdentitySigner(private_pem), reuse_seconds=30, clock=lambda: now[0])
    alice = Identity(subject="api-key:1", kind="api-client", roles=frozenset({"reader"}))
    bob = Identity(subject="api-key:2", kind="organisation-key", organisation_id="org", roles=frozenset({"reader"}))

    first = tokens.token_for(alice)
    assert tokens.token_for(alice) == first
    assert tokens.token_for(bob) != first
    now[0] += 31
    renewed = tokens.token_for(alice)

    assert renewed != first
    assert IdentityVerifier(public_pem).verify(renewed) == alice
    assert IdentityVerifier(public_pem).verify(tokens.token_for(bob)) == bob


async def test_migrations_match_the_models(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/gateway.db")
    try:
        await upgrade(engine, MIGRATIONS_DIR)
        assert await database_checks(engine, MIGRATIONS_DIR) == {"database": "ok", "migrations": "ok"}
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), GatewayTable.metadata))
        assert differences == []
    finally:
        await engine.dispose()
