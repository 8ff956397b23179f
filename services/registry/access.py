"""Who may see and do what in the registry, from the identity token the gateway signed.

Staff act by role. An organisation (API key or API client) acts only for itself: anything
of another organisation that is not in the public register answers 404, exactly as a
missing id does, so its existence is not revealed.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from kernel.identity import Identity, require_identity
from kernel.problems import NotFound, Problem

STAFF_READERS = ("registrar", "administrator", "analyst")
DECIDERS = ("registrar", "administrator")


def actor_of(identity: Identity) -> str:
    """How the history names who acted."""
    if identity.kind == "staff":
        return f"staff:{identity.subject}"
    if identity.organisation_id:
        return f"organisation:{identity.organisation_id}"
    return f"{identity.kind}:{identity.subject}"


def is_staff(identity: Identity, *roles: str) -> bool:
    """Staff powers come with a role, and never with a credential bound to an organisation."""
    return identity.has_role(*roles) and (identity.kind == "staff" or identity.organisation_id is None)


def acts_for(identity: Identity, organisation_id: uuid.UUID) -> bool:
    return identity.organisation_id is not None and identity.organisation_id == str(organisation_id)


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


def _staff_dependency(*roles: str):
    async def _check(identity: Annotated[Identity, Depends(require_identity)]) -> Identity:
        if not is_staff(identity, *roles):
            raise Problem(403, "forbidden", "Forbidden", f"This action is for staff with one of the roles: "
                                                          f"{', '.join(roles)}.")
        return identity

    return _check


Registrar = Annotated[Identity, Depends(_staff_dependency(*DECIDERS))]
Administrator = Annotated[Identity, Depends(_staff_dependency("administrator"))]
Caller = Annotated[Identity, Depends(require_identity)]
