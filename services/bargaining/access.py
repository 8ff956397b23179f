"""Who may see and do what in bargaining, from the identity token the gateway signed.

Staff act by role: a bargaining officer or an administrator records and decides, an analyst
reads. An organisation (API key or API client) sees and acts only in negotiations where it
is a party, and only for its own side: any other negotiation answers 404, exactly as a
missing id does, so its existence is not revealed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from kernel.identity import Identity, require_identity

STAFF_READERS = ("bargaining_officer", "administrator", "analyst")
STAFF_ACTORS = ("bargaining_officer", "administrator")


def actor_of(identity: Identity) -> str:
    """How the records name who acted."""
    if identity.kind == "staff":
        return f"staff:{identity.subject}"
    if identity.organisation_id:
        return f"organisation:{identity.organisation_id}"
    return f"{identity.kind}:{identity.subject}"


def is_staff(identity: Identity, *roles: str) -> bool:
    """Staff powers come with a role, and never with a credential bound to an organisation."""
    return identity.has_role(*roles) and (identity.kind == "staff" or identity.organisation_id is None)


Caller = Annotated[Identity, Depends(require_identity)]
