from pydantic_settings import SettingsConfigDict

from kernel.settings import ServiceSettings


class DisputesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DISPUTES_", extra="ignore", frozen=True)

    service_name: str = "disputes"
    database_url: str = "sqlite+aiosqlite:///./.data/disputes.db"
