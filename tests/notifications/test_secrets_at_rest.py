"""Webhook signing secrets are encrypted at rest: the database row never holds a plain secret, a
key rotation keeps old rows readable, rows written before the encryption are sealed at start, and
the service will not start without a key."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from asgi_lifespan import LifespanManager
from cryptography.fernet import Fernet, InvalidToken
from pydantic import ValidationError

from kernel.db import create_engine, utcnow
from kernel.migrations import alembic_config
from services.notifications.app import create_app, definition
from services.notifications.settings import NotificationsSettings
from services.notifications.webhooks.dispatcher import WebhookDispatcher
from services.notifications.webhooks.models import WebhookDelivery, WebhookEndpoint
from services.notifications.webhooks.secret_box import MissingKeys, SecretBox, UnreadableSecret, parse_keys
from services.notifications.webhooks.signing import new_secret
from tests.notifications.support import (
    Publisher,
    Receiver,
    cloud_event,
    notifications_service,
    notifications_settings,
    organisation_headers,
    register_endpoint,
)
from tests.support.services import eventually

ROOT = Path(__file__).resolve().parents[2]
ENDPOINTS = WebhookEndpoint.__table__  # type: ignore[attr-defined]


@pytest.fixture
async def receiver():
    receiver = Receiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


async def stored(engine: sa.ext.asyncio.AsyncEngine, endpoint_id: str | uuid.UUID) -> tuple[str, str | None]:
    """The raw columns, as a dump of the database would show them."""
    async with engine.connect() as connection:
        row = (await connection.execute(sa.select(ENDPOINTS.c.secret, ENDPOINTS.c.previous_secret)
                                        .where(ENDPOINTS.c.id == uuid.UUID(str(endpoint_id))))).one()
    return row[0], row[1]


async def delivered_and_verified(receiver: Receiver, bus: Publisher, organisation_id: uuid.UUID,
                                 secrets: list[str]) -> None:
    before = len(receiver.received)
    await bus.publish(cloud_event("kz.ntc.registry.organisation.registered.v1", [organisation_id]))

    async def arrived() -> bool:
        return len(receiver.received) > before

    await eventually(arrived, what="a delivery")
    received = receiver.received[-1]
    for secret in secrets:
        assert receiver.verify(received.body, received.headers, [secret]) == (True, None), secret


# --------------------------------------------------------------------------- the box itself


def test_the_box_seals_opens_and_rotates_without_io():
    old, new = Fernet.generate_key(), Fernet.generate_key()
    secret = new_secret()
    under_old = SecretBox((old,)).seal(secret)
    assert under_old.startswith("gAAAAA") and secret not in under_old and len(under_old) <= 400
    rotated = SecretBox((new, old))
    assert rotated.open(under_old) == secret  # the old key still decrypts
    resealed = rotated.resealed(under_old)
    assert resealed is not None and Fernet(new).decrypt(resealed.encode()).decode() == secret
    assert rotated.resealed(resealed) is None  # already under the first key
    assert rotated.open(secret) == secret  # a legacy plain value reads as it is ...
    sealed = rotated.resealed(secret)  # ... and is sealed by the start-up pass
    assert sealed is not None and Fernet(new).decrypt(sealed.encode()).decode() == secret
    with pytest.raises(UnreadableSecret):
        SecretBox((new,)).open(under_old)  # the old key dropped too early
    with pytest.raises(InvalidToken):
        Fernet(old).decrypt(SecretBox((new, old)).seal(secret).encode())  # the first key encrypts


def test_a_bad_key_is_refused_by_position_without_echoing_it():
    bad = "not-a-fernet-key-at-all"
    with pytest.raises(ValidationError) as refused:
        NotificationsSettings(environment="test", webhook_secret_keys=f"{Fernet.generate_key().decode()},{bad}")
    assert "webhook secret key 2 of 2 is not a Fernet key" in str(refused.value)
    assert bad not in str(refused.value)
    assert len(parse_keys(f" {Fernet.generate_key().decode()} , {Fernet.generate_key().decode()} ")) == 2


# --------------------------------------------------------------------------- no key, no start


def test_the_service_refuses_to_start_without_a_key(tmp_path):
    # Production: the settings themselves are refused, with what to do.
    with pytest.raises(ValidationError, match="NOTIFICATIONS_WEBHOOK_SECRET_KEYS is not set"):
        NotificationsSettings(environment="production", identity_public_key="PEM")
    # Tools that only read the definition or the documents (stream declarations, migrations, the
    # gateway's aggregated OpenAPI) still work without one.
    assert definition(NotificationsSettings(environment="development")).name == "notifications"
    app = create_app(NotificationsSettings(environment="development",
                                           database_url=f"sqlite+aiosqlite:///{tmp_path / 'notifications.db'}"))
    assert "/webhook-endpoints" in app.openapi()["paths"]

    # The real thing: the server process exits at once and says why.
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{ROOT / 'libs'}:{ROOT}",
           "NOTIFICATIONS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'notifications.db'}",
           "NOTIFICATIONS_ENVIRONMENT": "development", "NOTIFICATIONS_LOG_JSON": "false"}
    result = subprocess.run([sys.executable, "-m", "uvicorn", "services.notifications.app:create_app", "--factory",
                             "--port", "0"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "NOTIFICATIONS_WEBHOOK_SECRET_KEYS is not set" in result.stdout + result.stderr
    assert not (tmp_path / "notifications.db").exists()  # refused before touching the database


async def test_the_lifespan_refuses_before_anything_starts(tmp_path):
    database = tmp_path / "notifications.db"
    app = create_app(NotificationsSettings(environment="test", database_url=f"sqlite+aiosqlite:///{database}"))
    with pytest.raises(MissingKeys, match="Fernet.generate_key"):
        async with LifespanManager(app):
            pass
    assert not database.exists()


# --------------------------------------------------------------------------- through the running service


async def test_the_row_holds_no_plain_secret_after_creation_and_rotation(make_database, nats_server, signer,
                                                                        public_key, receiver):
    settings = notifications_settings(await make_database("notifications"), nats_server.url, public_key)
    union = uuid.uuid4()
    async with notifications_service(settings, signer) as service, Publisher(nats_server.url) as bus:
        endpoint = await register_endpoint(service, union, receiver.url)
        first = endpoint["secret"]
        assert first.startswith("whsec_")  # shown once, in plain
        secret, previous = await stored(service.state.engine, endpoint["id"])
        assert secret.startswith("gAAAAA") and first not in secret and first.removeprefix("whsec_") not in secret
        assert previous is None
        await delivered_and_verified(receiver, bus, union, [first])

        rotated = await service.client.post(f"/webhook-endpoints/{endpoint['id']}/rotate-secret",
                                            headers=organisation_headers(service, union))
        assert rotated.status_code == 200, rotated.text
        second = rotated.json()["secret"]
        secret, previous = await stored(service.state.engine, endpoint["id"])
        assert previous is not None
        for column in (secret, previous):
            assert column.startswith("gAAAAA")
            for plain in (first, second):
                assert plain not in column and plain.removeprefix("whsec_") not in column
        # Both still sign during the overlap, so receivers on either secret verify.
        await delivered_and_verified(receiver, bus, union, [first, second])


async def test_a_new_key_first_still_opens_rows_sealed_under_the_old_one(make_database, nats_server, signer,
                                                                         public_key, receiver):
    database = await make_database("notifications")
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    union = uuid.uuid4()
    async with notifications_service(notifications_settings(database, nats_server.url, public_key,
                                                            webhook_secret_keys=old), signer) as service:
        endpoint = await register_endpoint(service, union, receiver.url)
        secret, _ = await stored(service.state.engine, endpoint["id"])
        assert Fernet(old.encode()).decrypt(secret.encode()).decode() == endpoint["secret"]

    # Rotation: the new key first, the old one after it. Old rows still decrypt, and the start-up
    # pass seals them again under the new key, so the old one can then be dropped.
    rotated = notifications_settings(database, nats_server.url, public_key, webhook_secret_keys=f"{new},{old}")
    async with notifications_service(rotated, signer) as service, Publisher(nats_server.url) as bus:
        await delivered_and_verified(receiver, bus, union, [endpoint["secret"]])

        async def resealed() -> bool:
            secret, _ = await stored(service.state.engine, endpoint["id"])
            try:
                return Fernet(new.encode()).decrypt(secret.encode()).decode() == endpoint["secret"]
            except InvalidToken:
                return False

        await eventually(resealed, what="the secret sealed again under the new key")

    only_new = notifications_settings(database, nats_server.url, public_key, webhook_secret_keys=new)
    async with notifications_service(only_new, signer) as service, Publisher(nats_server.url) as bus:
        await delivered_and_verified(receiver, bus, union, [endpoint["secret"]])


def _migrate_to(connection: sa.Connection, config, revision: str) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_a_plain_row_written_before_the_encryption_is_sealed_at_start(make_database, nats_server, signer,
                                                                            public_key, receiver):
    database = await make_database("notifications")
    union, endpoint_id = uuid.uuid4(), uuid.uuid4()
    current, previous = new_secret(), new_secret()
    # The database as the service left it before this change: at revision 0003, secrets in plain.
    engine = create_engine(database)
    try:
        migrations = definition(NotificationsSettings(environment="test")).migrations_dir
        config = alembic_config(migrations, engine.url.render_as_string(hide_password=False))
        async with engine.begin() as connection:
            await connection.run_sync(_migrate_to, config, "0003")
            await connection.execute(sa.insert(ENDPOINTS).values(
                id=endpoint_id, organisation_id=union, url=receiver.url, description="ERP", secret=current,
                previous_secret=previous, previous_secret_until=utcnow() + timedelta(hours=12), enabled=True,
                created_by="legacy", created_at=utcnow()))
    finally:
        await engine.dispose()

    settings = notifications_settings(database, nats_server.url, public_key)
    async with notifications_service(settings, signer) as service, Publisher(nats_server.url) as bus:
        async def sealed() -> tuple[str, str | None] | None:
            secret, old = await stored(service.state.engine, endpoint_id)
            return (secret, old) if secret.startswith("gAAAAA") and (old or "").startswith("gAAAAA") else None

        secret, old = await eventually(sealed, what="the legacy secrets sealed by the start-up pass")
        assert current not in secret and previous not in (old or "")
        # Deliveries are still signed with the same two secrets the receiver already holds.
        response = await service.client.post("/subscriptions", headers=organisation_headers(service, union), json={
            "pattern": "kz.ntc.>", "channel": "webhook", "endpoint_id": str(endpoint_id)})
        assert response.status_code == 201, response.text
        await delivered_and_verified(receiver, bus, union, [current, previous])


def test_the_embedded_platform_makes_its_key_once_and_keeps_it_private(tmp_path):
    import stat

    from deploy.embedded import runner

    first = runner.load_or_create_webhook_secret_key(tmp_path)
    assert runner.load_or_create_webhook_secret_key(tmp_path) == first  # stored secrets stay readable
    assert stat.S_IMODE((tmp_path / "webhook_secret.key").stat().st_mode) == 0o600
    assert NotificationsSettings(environment="production", identity_public_key="PEM",
                                 webhook_secret_keys=first).webhook_secret_keys.get_secret_value() == first
    (tmp_path / "webhook_secret.key").write_text("garbage")
    with pytest.raises(runner.RunnerError, match="is not a Fernet key"):
        runner.load_or_create_webhook_secret_key(tmp_path)


async def test_a_secret_no_key_opens_is_never_sent_and_rotating_recovers_the_endpoint(make_database, nats_server,
                                                                                       signer, public_key, receiver):
    database = await make_database("notifications")
    lost, current = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    union = uuid.uuid4()
    async with notifications_service(notifications_settings(database, nats_server.url, public_key,
                                                            webhook_secret_keys=lost), signer) as service:
        endpoint = await register_endpoint(service, union, receiver.url)

    # The key that sealed it is gone: the dispatcher refuses to send rather than sign with anything else.
    settings = notifications_settings(database, nats_server.url, public_key, webhook_secret_keys=current)
    dispatcher = WebhookDispatcher(settings)
    row = WebhookEndpoint(id=uuid.UUID(endpoint["id"]), organisation_id=union, url=receiver.url,
                          secret=SecretBox((lost.encode(),)).seal("whsec_x"), created_by="t")
    delivery = WebhookDelivery(endpoint_id=row.id, organisation_id=union, event_id="e1",
                               event_type="kz.ntc.registry.organisation.registered.v1", payload="{}",
                               next_attempt_at=utcnow())
    with pytest.raises(UnreadableSecret, match="NOTIFICATIONS_WEBHOOK_SECRET_KEYS"):
        await dispatcher.send(delivery, row)
    await dispatcher.close()
    assert receiver.received == []

    async with notifications_service(settings, signer) as service, Publisher(nats_server.url) as bus:
        rotated = await service.client.post(f"/webhook-endpoints/{endpoint['id']}/rotate-secret",
                                            headers=organisation_headers(service, union))
        assert rotated.status_code == 200, rotated.text
        assert rotated.json()["previous_secret_until"] is None  # the unreadable one cannot sign any more
        new = rotated.json()["secret"]
        secret, previous = await stored(service.state.engine, endpoint["id"])
        assert previous is None and Fernet(current.encode()).decrypt(secret.encode()).decode() == new
        await delivered_and_verified(receiver, bus, union, [new])
