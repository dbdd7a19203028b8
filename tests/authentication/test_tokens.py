"""Tests of token issue and verification (HS512 only, fixed issuer, expiry)."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from gaiwan.errors import Unauthenticated
from gaiwan.services.authentication._tokens import ISSUER, TokenCodec

SECRET = bytes(range(64))


def _codec(ttl: int = 3600) -> TokenCodec:
    return TokenCodec(SECRET, ttl)


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def _claims(**overrides: object) -> dict:
    claims: dict = {"sub": "alice", "role": "FunctionOwner", "iss": ISSUER,
                    "exp": int(time.time()) + 600}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def test_issued_token_verifies_with_teaclave_claims() -> None:
    """A fresh token carries sub, role, iss=Teaclave and exp = now + ttl."""
    now = time.time()
    claims = _codec(100).verify(_codec(100).issue("alice", "DataOwner-a", now=now))
    assert (claims.sub, claims.role, claims.iss) == ("alice", "DataOwner-a", "Teaclave")
    assert claims.exp == int(now) + 100


def test_token_header_is_hs512() -> None:
    """Tokens are signed with HS512, as Teaclave's are."""
    assert jwt.get_unverified_header(_codec().issue("alice", "PlatformAdmin"))["alg"] == "HS512"


def test_expired_token_is_rejected() -> None:
    """A token past its exp fails with "token expired"."""
    old = _codec(60).issue("alice", "FunctionOwner", now=time.time() - 120)
    with pytest.raises(Unauthenticated, match="token expired"):
        _codec().verify(old)


def test_token_signed_with_another_secret_is_rejected() -> None:
    """A signature made with a different key is invalid."""
    forged = TokenCodec(b"x" * 64, 3600).issue("alice", "PlatformAdmin")
    with pytest.raises(Unauthenticated, match="invalid token"):
        _codec().verify(forged)


def test_alg_none_is_rejected() -> None:
    """An unsigned token (`alg: none`) is never accepted."""
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(role='PlatformAdmin'))}."
    with pytest.raises(Unauthenticated, match="invalid token"):
        _codec().verify(token)


def test_other_hmac_algorithm_is_rejected() -> None:
    """HS256 with the right secret is still refused: only HS512 is allowed."""
    token = jwt.encode(_claims(), SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated, match="invalid token"):
        _codec().verify(token)


@pytest.mark.parametrize("overrides", [
    {"iss": "Mallory"}, {"iss": None}, {"exp": None}, {"sub": None}, {"role": None},
    {"role": 7}, {"exp": "tomorrow"},
])
def test_wrong_or_missing_claims_are_rejected(overrides: dict) -> None:
    """A correctly signed token with a wrong issuer or missing/mistyped claims is invalid."""
    token = jwt.encode(_claims(**overrides), SECRET, algorithm="HS512")
    with pytest.raises(Unauthenticated):
        _codec().verify(token)


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "..."])
def test_malformed_tokens_are_rejected(token: str) -> None:
    """Garbage never crashes verification; it is UNAUTHENTICATED."""
    with pytest.raises(Unauthenticated):
        _codec().verify(token)


def test_error_never_echoes_the_token() -> None:
    """Rejection messages do not contain the presented token."""
    token = TokenCodec(b"y" * 64, 60).issue("alice", "PlatformAdmin")
    with pytest.raises(Unauthenticated) as info:
        _codec().verify(token)
    assert token not in info.value.message and token[:20] not in str(info.value)


def test_short_secret_and_bad_ttl_are_refused() -> None:
    """The codec refuses a secret under 64 bytes and a non-positive lifetime."""
    with pytest.raises(ValueError):
        TokenCodec(b"short", 60)
    with pytest.raises(ValueError):
        TokenCodec(SECRET, 0)


def test_repr_hides_secret() -> None:
    """The codec's repr shows no secret material."""
    assert "secret" not in repr(_codec()).lower() and str(SECRET) not in repr(_codec())
