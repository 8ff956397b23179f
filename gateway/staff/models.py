import uuid
from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field

from gateway.tables import GatewayTable
from kernel.db import UTCDateTime, utcnow


class StaffAccount(GatewayTable, table=True):
    """A person who signs in to the portal. With an external identity provider (OIDC) the
    password hash stays empty and the provider vouches for the person instead."""

    __tablename__ = "staff_account"
    __table_args__ = (UniqueConstraint("email", name="uq_staff_account_email"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=254)  # normalised: trimmed, lower-case
    display_name: str = Field(max_length=200)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    password_hash: str | None = Field(default=None, max_length=500)  # argon2id, PHC string
    failed_attempts: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Sessions opened before this moment are void ("sign out everywhere").
    sessions_valid_after: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class StaffSession(GatewayTable, table=True):
    """A signed-in browser. The id is the SHA-256 of the cookie's token: the token itself is never stored."""

    __tablename__ = "staff_session"

    id: str = Field(primary_key=True, max_length=64)
    account_id: uuid.UUID = Field(foreign_key="staff_account.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)  # the absolute limit
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    user_agent: str | None = Field(default=None, max_length=300)
    address: str | None = Field(default=None, max_length=64)
