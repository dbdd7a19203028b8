"""Password hashing: argon2id (memory-hard), through argon2-cffi's vetted defaults.

Teaclave used PBKDF2-HMAC-SHA512; a leaked user table hashed with argon2id costs an attacker
memory as well as time per guess.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True only for the right password; never raises for a wrong or malformed one."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def random_password() -> str:
    return secrets.token_urlsafe(18)
