"""Standard Webhooks signing (https://www.standardwebhooks.com/) with the ``standardwebhooks`` package."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """24 random bytes, base64, with the spec's ``whsec_`` prefix."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def headers(*, message_id: str, timestamp: datetime, payload: str, secrets_in_use: list[str]) -> dict[str, str]:
    """webhook-id, webhook-timestamp and webhook-signature (one ``v1,`` signature per secret in use:
    during a rotation's overlap both the new and the old secret sign, so a receiver still holding the
    old one keeps verifying)."""
    signatures = [Webhook(secret).sign(message_id, timestamp, payload) for secret in secrets_in_use]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
    }
