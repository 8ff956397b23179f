"""Who may see and do what in disputes, from the identity token the gateway signed.

Staff act by role: a dispute officer or an administrator records and decides, an analyst
reads. An organisation (API key or API client) sees only the disputes it is a party to (as
the union putting the demands or as the employer); any other dispute answers 404, exactly as
a missing id does, so its existence is not revealed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from kernel.identity import Identity, require_identity

STAFF_READERS = ("dispute_officer", "administrator", "analyst")
STAFF_ACTORS = ("dispute_officer", "administrator")


def is_staff(identity: Identity, *roles: str) -> bool:
    return identity.acts_as_staff(*roles)


Caller = Annotated[Identity, Depends(require_identity)]
