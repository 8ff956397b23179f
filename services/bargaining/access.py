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
    return identity.actor


def is_staff(identity: Identity, *roles: str) -> bool:
    return identity.acts_as_staff(*roles)


Caller = Annotated[Identity, Depends(require_identity)]
