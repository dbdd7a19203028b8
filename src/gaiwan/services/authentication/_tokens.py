"""Issuing and checking Teaclave-compatible user tokens (spec §4): pure code over a secret.

A token is a JWT signed with HMAC-SHA512 and claims sub (user id), role, iss = "Teaclave" and exp.
Only HS512 is accepted when checking: the algorithm list is fixed here rather than read from the
token header, so `alg: none` and algorithm-confusion tokens fail like any forged one. Every
failure raises `Unauthenticated` with a fixed message ("invalid token" or "token expired"): the
caller learns nothing about which check failed beyond expiry, and the token is never echoed.

Checks that need the user table (the user still exists, the role is still current) belong to
the core, which calls `verify` first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from ...errors import Unauthenticated

ISSUER = "Teaclave"
ALGORITHM = "HS512"
SECRET_BYTES = 64
_REQUIRED = ["sub", "role", "iss", "exp"]


@dataclass(frozen=True)
class Claims:
    """The claims of a valid token; field names match teaclave UserAuthClaims."""

    sub: str
    role: str
    iss: str
    exp: int


class TokenCodec:
    """Signs and verifies tokens with one secret; holds no other state."""

    def __init__(self, secret: bytes, ttl_s: int) -> None:
        if len(secret) < SECRET_BYTES:
            raise ValueError("token secret too short")
        if ttl_s <= 0:
            raise ValueError("token lifetime must be positive")
        self._secret = secret
        self._ttl_s = ttl_s

    def __repr__(self) -> str:  # keeps the secret out of tracebacks and debug output
        return f"TokenCodec(ttl_s={self._ttl_s})"

    def issue(self, user_id: str, role: str, now: float | None = None) -> str:
        """`now` is for tests that need a token from the past; services leave it unset."""
        issued = time.time() if now is None else now
        claims = {"sub": user_id, "role": role, "iss": ISSUER, "exp": int(issued) + self._ttl_s}
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Claims:
        """Checks signature, algorithm, issuer, expiry and claim types; raises Unauthenticated."""
        if not token:
            raise Unauthenticated("missing token")
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": _REQUIRED, "verify_signature": True, "verify_exp": True},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired") from None
        except jwt.InvalidTokenError:
            raise Unauthenticated("invalid token") from None
        sub, role, exp = payload["sub"], payload["role"], payload["exp"]
        if not isinstance(sub, str) or not isinstance(role, str) or not isinstance(exp, int):
            raise Unauthenticated("invalid token")
        return Claims(sub=sub, role=role, iss=ISSUER, exp=exp)
