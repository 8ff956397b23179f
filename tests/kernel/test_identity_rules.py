"""Who acts as staff and for which organisation, from the identity the gateway signed (no I/O)."""

import uuid

import pytest

from kernel.identity import Identity, IdentitySigner, IdentityVerifier, InvalidIdentity, generate_keypair, pem_blocks


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


def test_while_the_gateway_key_is_rotated_tokens_signed_with_either_key_are_accepted() -> None:
    old_private, old_public = generate_keypair()
    new_private, new_public = generate_keypair()
    stranger_private, _ = generate_keypair()
    both = IdentityVerifier(new_public + "\n" + old_public)
    identity = Identity(subject="k1", kind="organisation-key", organisation_id=str(uuid.uuid4()),
                        roles=frozenset({"employer"}))
    for private in (old_private, new_private):
        assert both.verify(IdentitySigner(private).sign(identity)) == identity
    with pytest.raises(InvalidIdentity):
        both.verify(IdentitySigner(stranger_private).sign(identity))
    # Once the rotation is over, the old key's tokens are refused.
    with pytest.raises(InvalidIdentity):
        IdentityVerifier(new_public).verify(IdentitySigner(old_private).sign(identity))


def test_an_identity_key_that_is_not_pem_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="not a PEM public key"):
        IdentityVerifier("ssh-ed25519 AAAAC3Nza... gateway")
    assert pem_blocks("") == []
