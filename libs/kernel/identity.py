"""The signed identity token the gateway hands to services.

The gateway authenticates the caller, then forwards the request with a short-lived
token (Ed25519-signed JWT) saying who the caller is, which organisation they act for
and which roles they hold. Services hold only the public key: they can check a token
but never mint one. Object-level authorisation is then the service's own job.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, Request

from kernel.problems import Problem

IDENTITY_HEADER = "x-ntc-identity"
ISSUER = "ntc-gateway"
ALGORITHM = "EdDSA"
TOKEN_LIFETIME = timedelta(seconds=60)

PrincipalKind = Literal["staff", "api-client", "organisation-key", "anonymous"]


@dataclass(frozen=True)
class Identity:
    subject: str
    kind: PrincipalKind
    organisation_id: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_anonymous(self) -> bool:
        return self.kind == "anonymous"

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def acts_as_staff(self, *roles: str) -> bool:
        """Staff powers come with a role, and never with a credential bound to an organisation."""
        return self.has_role(*roles) and (self.kind == "staff" or self.organisation_id is None)

    def acts_for(self, organisation_id: object) -> bool:
        """Whether this credential speaks for that organisation."""
        return self.organisation_id is not None and self.organisation_id == str(organisation_id)

    @property
    def actor(self) -> str:
        """How records name who acted: staff:<id>, organisation:<id>, or the credential."""
        if self.kind == "staff":
            return f"staff:{self.subject}"
        if self.organisation_id:
            return f"organisation:{self.organisation_id}"
        return f"{self.kind}:{self.subject}"


ANONYMOUS = Identity(subject="anonymous", kind="anonymous")


def generate_keypair() -> tuple[str, str]:
    """A fresh (private PEM, public PEM) pair, for development and tests."""
    private = Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private_pem, public_pem


class IdentitySigner:
    """Gateway side: mints tokens. Loads the private key once."""

    def __init__(self, private_key_pem: str, *, audience: str = "ntc-services", lifetime: timedelta = TOKEN_LIFETIME):
        self._key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
        self._audience = audience
        self._lifetime = lifetime

    def sign(self, identity: Identity, *, now: datetime | None = None) -> str:
        issued = now or datetime.now(UTC)
        claims = {
            "iss": ISSUER,
            "aud": self._audience,
            "sub": identity.subject,
            "kind": identity.kind,
            "org": identity.organisation_id,
            "roles": sorted(identity.roles),
            "iat": issued,
            "exp": issued + self._lifetime,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)


class IdentityVerifier:
    """Service side: checks a token with the gateway's public key."""

    def __init__(self, public_key_pem: str, *, audience: str = "ntc-services", cache_size: int = 4096):
        # Several PEM blocks, one after the other, while the gateway's key is rotated: a token signed
        # with any of them is accepted, so no request fails between the two restarts.
        self._keys = [serialization.load_pem_public_key(block.encode()) for block in pem_blocks(public_key_pem)]
        self._audience = audience
        self._cache_size = cache_size
        self._verified: dict[str, tuple[Identity, float]] = {}

    def verify(self, token: str) -> Identity:
        if not self._keys:
            raise InvalidIdentity("this service has no identity key configured")
        # The gateway reuses a token for a few seconds per credential; checking an Ed25519
        # signature costs more than the rest of a small request, so remember good tokens
        # until they expire.
        cached = self._verified.get(token)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        identity, expires = self._verify(token)
        if len(self._verified) >= self._cache_size:
            self._verified.pop(next(iter(self._verified)))
        self._verified[token] = (identity, expires)
        return identity

    def _verify(self, token: str) -> tuple[Identity, float]:
        claims: dict[str, Any] | None = None
        for key in self._keys:
            try:
                claims = jwt.decode(
                    token, key, algorithms=[ALGORITHM], audience=self._audience, issuer=ISSUER,
                    options={"require": ["exp", "iat", "sub", "aud", "iss"]}, leeway=5,
                )
                break
            except jwt.InvalidSignatureError as exc:
                if key is self._keys[-1]:
                    raise InvalidIdentity(str(exc)) from exc
            except jwt.PyJWTError as exc:
                raise InvalidIdentity(str(exc)) from exc
        assert claims is not None
        identity = Identity(
            subject=str(claims["sub"]),
            kind=claims.get("kind", "api-client"),
            organisation_id=claims.get("org"),
            roles=frozenset(claims.get("roles") or ()),
        )
        return identity, float(claims["exp"])


class InvalidIdentity(Exception):
    pass


PEM_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)


def pem_blocks(text: str) -> list[str]:
    """The public keys in ``text``: one PEM block, or several one after the other (during a rotation)."""
    blocks = PEM_BLOCK.findall(text)
    if text.strip() and not blocks:
        raise ValueError("the identity public key is not a PEM public key")
    return blocks


def _unauthenticated(detail: str) -> Problem:
    return Problem(401, "unauthenticated", "Authentication required", detail)


async def optional_identity(request: Request) -> Identity:
    """The caller, or ANONYMOUS when the gateway forwarded no identity (public routes)."""
    token = request.headers.get(IDENTITY_HEADER)
    if not token:
        return ANONYMOUS
    verifier: IdentityVerifier = request.app.state.platform.identity_verifier
    try:
        return verifier.verify(token)
    except InvalidIdentity as exc:
        raise _unauthenticated(f"The identity token was refused: {exc}.") from exc


async def require_identity(identity: Annotated[Identity, Depends(optional_identity)]) -> Identity:
    if identity.is_anonymous:
        raise _unauthenticated("This route needs a signed-in caller.")
    return identity


def require_roles(*roles: str):
    """A dependency that lets through only staff (or ministry systems) holding one of ``roles``.

    A credential bound to an organisation never passes, whatever roles it carries: it acts
    for its organisation only.
    """

    async def _check(identity: Annotated[Identity, Depends(require_identity)]) -> Identity:
        if not identity.acts_as_staff(*roles):
            raise Problem(403, "forbidden", "Forbidden", f"This action is for staff with one of the roles: "
                                                          f"{', '.join(roles)}.")
        return identity

    return _check


CurrentIdentity = Annotated[Identity, Depends(require_identity)]
OptionalIdentity = Annotated[Identity, Depends(optional_identity)]
