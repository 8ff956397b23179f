"""Password hashing (argon2id) for local staff accounts."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # hashing a megabyte "password" is a denial of service, not a password

# argon2-cffi's defaults follow RFC 9106's second recommended option (argon2id, 64 MiB, t=3).
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@functools.cache
def _decoy_hash() -> str:
    return _hasher.hash("decoy password, never anyone's")


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches. With no hash (unknown e-mail, no local password) a decoy
    hash is checked instead, so the answer takes as long either way and tells nothing."""
    try:
        return _hasher.verify(password_hash or _decoy_hash(), password[:MAX_PASSWORD_LENGTH]) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
