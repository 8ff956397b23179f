"""Who may manage which notification settings, from the identity token the gateway signed.

An organisation (its API key, API client or portal user) manages its own subscriptions,
endpoints and contacts; another organisation's answer 404, exactly as a missing id does.
Staff with a reading role see every organisation's settings (to help one), but change none:
what an organisation receives is its own choice. The portal inbox is an organisation's for a
caller acting for one, and for ministry staff the desks of the staff roles they hold.
"""

from __future__ import annotations

import uuid

from kernel.calendar import kazakhstan_today
from kernel.identity import Identity
from kernel.problems import Problem
from services.notifications.inbox.service import InboxOwner
from services.notifications.routing import rules

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


def inbox_owner(identity: Identity) -> InboxOwner:
    """Whose inbox the caller reads: its organisation's; for staff acting for none, the desks of their roles
    (rule data: routing-rules.json ``staff_desks``); 403 for a caller with neither."""
    if identity.organisation_id is not None:
        return InboxOwner(organisation_id=uuid.UUID(identity.organisation_id))
    # Only a staff member's own session: an API key or client with a staff role reads no desk.
    if identity.kind == "staff":
        desks = rules.rules_on(kazakhstan_today()).desks_of(identity.roles)
        if desks:
            return InboxOwner(staff_roles=desks)
    raise Problem(403, "no-inbox", "No inbox",
                  "The portal inbox belongs to an organisation or to a staff role's desk; this caller acts for "
                  "no organisation and holds no staff role with a desk.")
