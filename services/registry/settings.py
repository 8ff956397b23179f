from pydantic_settings import SettingsConfigDict

from kernel.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore", frozen=True)

    service_name: str = "registry"
    database_url: str = "sqlite+aiosqlite:///./.data/registry.db"
