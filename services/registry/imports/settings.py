from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ImportSettings(BaseSettings):
    """Limits of the bulk import. The registry's REGISTRY_MAX_REQUEST_BODY_BYTES (and the gateway's limit)
    still bound any request, so a file larger than those is refused before it reaches this check."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_IMPORT_", extra="ignore", frozen=True)

    max_file_bytes: int = Field(default=1_048_576, ge=1)
    # How often an idle worker looks for queued jobs.
    poll_seconds: float = Field(default=0.5, gt=0)
    # A job whose worker stopped renewing its claim this long ago (a crash) is taken up again.
    lease_seconds: float = Field(default=60.0, gt=0)
    # A job that stopped this many times without finishing (its worker crashed, or failed on it with an error
    # it could not report) is ended as failed instead of being taken up again, once a lease at a time, forever.
    max_attempts: int = Field(default=5, ge=1)
    # Rows are checked in chunks of this many, and progress saved at most every progress_seconds.
    progress_every_rows: int = Field(default=500, ge=1)
    progress_seconds: float = Field(default=0.5, ge=0)
