from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import SettingsConfigDict

from kernel.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    # An error names the setting, never echoes its value (a key given in the wrong form is still a key).
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore", frozen=True,
                                      hide_input_in_errors=True)

    service_name: str = "notifications"
    database_url: str = "sqlite+aiosqlite:///./.data/notifications.db"
    # Smaller than the platform's default (512): each transaction's deliveries reach the dispatcher
    # when it commits, so after a backlog (a restart) the first webhooks leave after 16 events are
    # routed, not 512. (A fetch returns with what is there: at 200 events/s batches are of one event;
    # nats-py 2.16, measured 27 November 2026 - fetch(512) at 20 events/s returned each in ~1 ms.)
    consumer_batch_size: int = Field(default=16, ge=1, le=1_000)
    # Where a person or a system reaches the full record: links in thin payloads and e-mails point here.
    public_base_url: str = "http://127.0.0.1:8000"

    # --- webhooks ---------------------------------------------------------------------------
    # Hosts or networks a webhook may point at even though they are loopback or private
    # (development and tests only; empty in production), e.g. ["127.0.0.1", "10.0.0.0/8", "localhost"].
    webhook_allowed_private: tuple[str, ...] = ()
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Delay before each retry after a failed attempt (Standard Webhooks' recommended schedule,
    # stretched): 5 s, 5 min, 30 min, 2 h, 5 h, then every 10 h; ~2.8 days from first to last attempt.
    webhook_retry_seconds: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000, 36000, 36000, 36000, 36000)
    webhook_retry_jitter: float = Field(default=0.1, ge=0, le=0.5)
    # A Retry-After longer than this is capped (a receiver cannot park a delivery for a month).
    webhook_max_retry_after_seconds: float = Field(default=86_400, gt=0)
    # An endpoint that has failed without a single success for this long is disabled and its owner
    # e-mailed; its deliveries then wait (pending) until it is enabled again, rather than run out.
    webhook_disable_after_hours: float = Field(default=48, gt=0)
    # After a secret rotation the old secret keeps signing too (both signatures sent) for this long.
    webhook_secret_overlap_hours: float = Field(default=24, ge=0)
    # Fernet keys that encrypt the endpoints' signing secrets at rest, comma-separated: the first
    # encrypts, every one decrypts, and a start re-encrypts under the first what another key sealed
    # (rotation: docs/operations.md section 6). No default: the service refuses to start without one.
    webhook_secret_keys: SecretStr = SecretStr("")
    dispatch_poll_seconds: float = Field(default=1.0, gt=0)
    # Deliveries this process's consumer writes are leased to its own dispatcher in the same
    # insert and sent right after the commit, without a claim (the claim path remains for
    # retries and for what a dead replica left). Off: every delivery goes through a claim.
    dispatch_hand_over: bool = True
    dispatch_batch_size: int = Field(default=200, ge=1, le=5_000)
    dispatch_concurrency: int = Field(default=32, ge=1, le=1_000)
    # A claimed delivery is another replica's again if not settled by then. The dispatcher raises it
    # to what a pass can take at worst (every delivery timing out, ``concurrency`` at a time).
    dispatch_lease_seconds: float = Field(default=60.0, gt=0)

    # --- e-mail -----------------------------------------------------------------------------
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_sender: str = "notifications@ntc.kz"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    smtp_start_tls: bool = False
    mail_retry_seconds: tuple[float, ...] = (30, 300, 1800, 7200, 21600)
    mail_batch_size: int = Field(default=20, ge=1, le=1_000)
    # The daily digest goes out on the first sweep at or after this hour, Kazakhstan time.
    digest_hour: int = Field(default=8, ge=0, le=23)
    digest_sweep_seconds: float = Field(default=300.0, gt=0)

    @field_validator("webhook_secret_keys")
    @classmethod
    def _usable_webhook_secret_keys(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        # Imported here: the settings module stays free of the webhook package at import time.
        from services.notifications.webhooks.secret_box import MISSING_KEYS, parse_keys

        if not value.get_secret_value().strip():
            if info.data.get("environment") == "production":
                raise ValueError(MISSING_KEYS)
            return value  # development and tests: refused when the service starts (create_app's lifespan)
        parse_keys(value.get_secret_value())  # a ValueError naming the bad key's position, never the key
        return value
