"""Who may manage which notification settings, from the identity token the gateway signed.

An organisation (its API key, API client or portal user) manages its own subscriptions,
endpoints and contacts; another organisation's answer 404, exactly as a missing id does.
Staff with a reading role see every organisation's settings (to help one), but change none:
what an organisation receives is its own choice.
"""

from __future__ import annotations

import uuid

from kernel.identity import Identity
from kernel.problems import Problem

STAFF_READERS = ("administrator", "analyst")


def own_organisation(identity: Identity) -> uuid.UUID:
    """The organisation the caller acts for; 403 for a caller acting for none."""
    if identity.organisation_id is None:
        raise Problem(403, "no-organisation", "No organisation",
                      "Notification settings belong to an organisation; this caller acts for none.")
    return uuid.UUID(identity.organisation_id)


def reads_all(identity: Identity) -> bool:
    return identity.acts_as_staff(*STAFF_READERS)


def visible_to(identity: Identity, organisation_id: uuid.UUID) -> bool:
    return identity.acts_for(organisation_id) or reads_all(identity)


def reader_of(identity: Identity) -> str:
    """Who reads an inbox message: one person or one credential, not the whole organisation.

    ``Identity.actor`` names an organisation's credential by the organisation alone, which
    would make read marks shared; the token's subject tells its users apart.
    """
    return f"{identity.kind}:{identity.subject}"[:200]
