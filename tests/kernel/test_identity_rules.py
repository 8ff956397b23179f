"""Who acts as staff and for which organisation, from the identity the gateway signed (no I/O)."""

import uuid

from kernel.identity import Identity


def test_staff_powers_come_with_a_role_and_never_with_an_organisation_credential() -> None:
    organisation = str(uuid.uuid4())
    staff = Identity(subject="s1", kind="staff", roles=frozenset({"registrar"}))
    ministry_system = Identity(subject="k1", kind="organisation-key", roles=frozenset({"registrar"}))
    bound = Identity(subject="k2", kind="organisation-key", organisation_id=organisation,
                     roles=frozenset({"registrar", "administrator"}))
    assert staff.acts_as_staff("registrar") and not staff.acts_as_staff("administrator")
    assert ministry_system.acts_as_staff("registrar")
    assert not bound.acts_as_staff("registrar") and not bound.acts_as_staff("administrator")


def test_an_organisation_credential_acts_for_its_own_organisation_only() -> None:
    mine, other = uuid.uuid4(), uuid.uuid4()
    key = Identity(subject="k", kind="organisation-key", organisation_id=str(mine))
    assert key.acts_for(mine) and key.acts_for(str(mine)) and not key.acts_for(other)
    assert not Identity(subject="s", kind="staff").acts_for(mine)
    assert key.actor == f"organisation:{mine}"
    assert Identity(subject="s1", kind="staff").actor == "staff:s1"
