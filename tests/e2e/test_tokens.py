"""End to end: the frontend refuses every credential that is not a live user's own token (spec §4),
and audits each refusal as a failed call an administrator can find."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator

import jwt
import pytest

from gaiwan.client import AuthenticationService
from gaiwan.errors import Unauthenticated
from tests.support.platform import FRESH, SHARED, Platform, login
from tests.support.users import User, as_admin, frontend_with, register

CALL = "list_functions"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _metadata(user: User, platform: Platform) -> dict[str, str]:
    return {"id": user.id, "token": login(platform, user.id, user.password)}


def _call(platform: Platform, metadata: dict[str, str], user_id: str) -> None:
    """One harmless call every role may make (ListFunctions for oneself)."""
    with frontend_with(platform, metadata) as client:
        client.list_functions(user_id)


def _refused_and_audited(platform: Platform, metadata: dict[str, str], user_id: str) -> None:
    """The call is UNAUTHENTICATED without echoing the token, and audited as a failure."""
    since = time.time_ns() // 1000
    with pytest.raises(Unauthenticated) as refused:
        _call(platform, metadata, user_id)
    token = metadata.get("token", "")
    echoed = bool(token) and token in refused.value.message
    assert not echoed, "the refusal repeats the token"
    with frontend_with(platform, {}) as admin:
        # log in only once connected: on a platform with 2 s tokens every moment counts
        admin.metadata = {"id": "admin", "token": login(platform)}
        entries = admin.query_audit_logs(f"{CALL}:", 50)
    mine = [e for e in entries if int(e["microsecond"]) >= since]
    assert [e["message"] for e in mine] == [f"{CALL}:{refused.value.message}"]
    assert not mine[0].get("result", False)
    leaked = bool(token) and any(token in json.dumps(e) for e in entries)
    assert not leaked, "an audit entry holds the token"


# -- the rejection cases: each makes its own user and returns the credentials to send ---------

Sent = tuple[dict[str, str], str]
"""The metadata a case sends, and the user id its ListFunctions names."""
Case = Callable[[Platform, AuthenticationService], Sent]


def _bad_signature(platform: Platform, admin: AuthenticationService) -> Sent:
    user = register(admin, "FunctionOwner", prefix="sig")
    meta = _metadata(user, platform)
    header, payload, signature = meta["token"].split(".")
    flipped = bytearray(_unb64(signature))
    flipped[len(flipped) // 2] ^= 0x01
    return {"id": user.id, "token": f"{header}.{payload}.{_b64(bytes(flipped))}"}, user.id


def _alg_none(platform: Platform, admin: AuthenticationService) -> Sent:
    user = register(admin, "FunctionOwner", prefix="none")
    claims = jwt.decode(_metadata(user, platform)["token"], options={"verify_signature": False})
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return {"id": user.id, "token": f"{header}.{_b64(json.dumps(claims).encode())}."}, user.id


def _other_users_token(platform: Platform, admin: AuthenticationService) -> Sent:
    a = register(admin, "FunctionOwner", prefix="owner-a")
    b = register(admin, "FunctionOwner", prefix="owner-b")
    return {"id": a.id, "token": _metadata(b, platform)["token"]}, a.id


def _deleted_user(platform: Platform, admin: AuthenticationService) -> Sent:
    user = register(admin, "FunctionOwner", prefix="gone")
    meta = _metadata(user, platform)
    _call(platform, meta, user.id)  # valid until the user goes
    admin.delete_user(user.id)
    return meta, user.id


def _role_changed(platform: Platform, admin: AuthenticationService) -> Sent:
    user = register(admin, "FunctionOwner", prefix="moved")
    meta = _metadata(user, platform)
    _call(platform, meta, user.id)  # valid while the role is the token's
    admin.user_update(user.id, user.password, "DataOwner", "grp")
    return meta, user.id


def _missing_id(platform: Platform, admin: AuthenticationService) -> Sent:
    user = register(admin, "FunctionOwner", prefix="noid")
    return {"token": _metadata(user, platform)["token"]}, user.id


def _missing_token(platform: Platform, admin: AuthenticationService) -> Sent:
    user = register(admin, "FunctionOwner", prefix="notoken")
    return {"id": user.id}, user.id


CASES: dict[str, Case] = {
    "bad_signature": _bad_signature,
    "alg_none": _alg_none,
    "other_users_token": _other_users_token,
    "deleted_user": _deleted_user,
    "role_changed": _role_changed,
    "missing_id": _missing_id,
    "missing_token": _missing_token,
}


@pytest.fixture(scope="module")
def admin(platform: Platform) -> Iterator[AuthenticationService]:
    with as_admin(platform) as client:
        yield client


@pytest.mark.platform
@pytest.mark.xdist_group(SHARED)
def test_valid_token_is_accepted(platform: Platform, admin: AuthenticationService) -> None:
    """The untampered credentials of a fresh user pass, so each refusal below is the tampering's."""
    user = register(admin, "FunctionOwner", prefix="valid")
    _call(platform, _metadata(user, platform), user.id)


@pytest.mark.platform
@pytest.mark.xdist_group(SHARED)
@pytest.mark.parametrize("case", list(CASES))
def test_bad_credentials_are_refused_and_audited(platform: Platform, admin: AuthenticationService,
                                                 case: str) -> None:
    """Each broken credential is UNAUTHENTICATED at the frontend and audited as a failure."""
    metadata, user_id = CASES[case](platform, admin)
    _refused_and_audited(platform, metadata, user_id)


@pytest.mark.platform
@pytest.mark.xdist_group(FRESH)
def test_expired_token_is_refused_and_audited(fresh_platform: Callable[..., Platform]) -> None:
    """With token_ttl_s = 2, a token works at first and is UNAUTHENTICATED once past its exp."""
    platform = fresh_platform(start=False)
    config = platform.config
    config.doc.setdefault("authentication", {})["token_ttl_s"] = 2
    config.save()
    platform.start()
    with frontend_with(platform, {}) as client:  # connected first: the token lives 1 to 2 s
        client.metadata = metadata = {"id": "admin", "token": login(platform)}
        client.list_functions("admin")
    exp = jwt.decode(metadata["token"], options={"verify_signature": False})["exp"]
    assert exp - time.time() <= 2
    time.sleep(max(0.0, exp + 1 - time.time()))
    _refused_and_audited(platform, metadata, "admin")
