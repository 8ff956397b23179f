"""Settings shared by every service: read once, from the environment, with one prefix per service.

Nothing else in the platform reads the environment. A service subclasses
`ServiceSettings` and sets its own `env_prefix` (``REGISTRY_``, ``BARGAINING_`` ...).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values that must never protect a production deployment.
KNOWN_PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "changethis", "secret", "password", "dev", "development", "test"}
)


class ServiceSettings(BaseSettings):
    """What every service needs: where its database and the bus are, and how to trust the gateway."""

    model_config = SettingsConfigDict(env_prefix="NTC_", extra="ignore", frozen=True)

    service_name: str = "service"
    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./.data/service.db"
    nats_url: str = "nats://127.0.0.1:4222"
    # How long JetStream remembers a Nats-Msg-Id to drop a re-published event.
    stream_duplicate_window_seconds: float = 120.0
    stream_replicas: int = 1
    # How long the service's stream keeps events; 0 keeps them all (projections are rebuilt by replay).
    # Must agree with `python -m deploy.streams` in the same environment: a service re-declares its stream at start.
    stream_max_age_seconds: float = Field(default=0, ge=0)
    # The gateway's public key (PEM) that signs identity tokens; services only verify. While the gateway's key
    # is rotated, give both the new and the old key here, one PEM block after the other.
    identity_public_key: SecretStr = SecretStr("")
    identity_audience: str = "ntc-services"
    migrate_on_start: bool = True
    relay_enabled: bool = True
    consumers_enabled: bool = True
    relay_batch_size: int = Field(default=256, ge=1, le=10_000)
    relay_poll_seconds: float = Field(default=0.5, gt=0)
    relay_publish_timeout_seconds: float = Field(default=5.0, gt=0)
    # How often the deadline sweeper looks for approaching and missed deadlines (services that have them).
    deadline_sweep_seconds: float = Field(default=30.0, gt=0)
    # Events fetched and applied per transaction. A fetch returns with what is there, so a quiet stream
    # is not held back; a backlog moves ~9,000 events/s at 128 and ~12,500 at 512 (a bargaining projection,
    # SQLite, measured 27 November 2026), while a commit holds the database ~40 ms at most.
    consumer_batch_size: int = Field(default=512, ge=1, le=1_000)
    consumer_max_deliver: int = Field(default=5, ge=1)
    consumer_backoff_seconds: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0)
    max_request_body_bytes: int = Field(default=1_048_576, ge=1)
    log_level: str = "INFO"
    log_json: bool = True
    # Once started, move what start-up built (modules, schemas, table metadata: hundreds of thousands of
    # objects that live as long as the process) out of the garbage collector's way, so its full passes
    # stop re-scanning them (gc.freeze). Off in tests that start many services in one process.
    gc_freeze_after_start: bool = True

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> ServiceSettings:
        refuse_placeholder_secrets(self)
        return self


def refuse_placeholder_secrets(settings: BaseSettings) -> None:
    """In production every secret must be set, and not to a well-known placeholder.

    Development and tests may run with generated keys; production may not start with
    a secret anyone could guess.
    """
    if getattr(settings, "environment", "production") != "production":
        return
    for name, value in settings:
        if isinstance(value, SecretStr):
            raw = value.get_secret_value().strip()
            if raw.lower() in KNOWN_PLACEHOLDER_SECRETS:
                raise ValueError(f"{name} must be set to a real secret in production")
