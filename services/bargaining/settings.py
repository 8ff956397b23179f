from pydantic_settings import SettingsConfigDict

from kernel.settings import ServiceSettings


class BargainingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BARGAINING_", extra="ignore", frozen=True)

    service_name: str = "bargaining"
    database_url: str = "sqlite+aiosqlite:///./.data/bargaining.db"
