"""Who may see and do what in the registry, from the identity token the gateway signed.

Staff act by role. An organisation (API key or API client) acts only for itself: anything
of another organisation that is not in the public register answers 404, exactly as a
missing id does, so its existence is not revealed.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from kernel.identity import Identity, require_identity, require_roles
from kernel.problems import NotFound, Problem

STAFF_READERS = ("registrar", "administrator", "analyst")
DECIDERS = ("registrar", "administrator")


def actor_of(identity: Identity) -> str:
    return identity.actor


def is_staff(identity: Identity, *roles: str) -> bool:
    return identity.acts_as_staff(*roles)


def acts_for(identity: Identity, organisation_id: uuid.UUID) -> bool:
    return identity.acts_for(organisation_id)


def may_read_private(identity: Identity, organisation_id: uuid.UUID) -> bool:
    return is_staff(identity, *STAFF_READERS) or acts_for(identity, organisation_id)


def require_private_read(identity: Identity, organisation_id: uuid.UUID, what: str = "organisation") -> None:
    if not may_read_private(identity, organisation_id):
        raise NotFound(what)


def require_owner_or_registrar(identity: Identity, organisation_id: uuid.UUID, what: str = "organisation") -> None:
    if not (is_staff(identity, *DECIDERS) or acts_for(identity, organisation_id)):
        if is_staff(identity):
            raise Problem(403, "forbidden", "Forbidden", "This action needs the role registrar or administrator.")
        raise NotFound(what)


Registrar = Annotated[Identity, Depends(require_roles(*DECIDERS))]
Administrator = Annotated[Identity, Depends(require_roles("administrator"))]
Caller = Annotated[Identity, Depends(require_identity)]
