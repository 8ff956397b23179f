from pydantic_settings import SettingsConfigDict

from kernel.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore", frozen=True)

    service_name: str = "notifications"
    database_url: str = "sqlite+aiosqlite:///./.data/notifications.db"
