"""Tests of the authentication core: bootstrap, login, user management and token checks."""

from __future__ import annotations

import os
import time
from pathlib import Path

import jwt
import pytest

from gaiwan import passwords
from gaiwan.errors import (
    AlreadyExists, ConfigError, Conflict, InvalidArgument, NotFound, PermissionDenied,
    Unauthenticated)
from gaiwan.services.authentication import AuthenticationCore, Caller, Settings
from gaiwan.services.authentication._tokens import TokenCodec
from gaiwan.services.authentication._users import SECRET_KEY, UserStore
from gaiwan.storage.local import LocalStorage

from ._support import ADMIN_PASSWORD, make_user


# ---- bootstrap and login ------------------------------------------------------------------

def test_bootstrap_admin_can_log_in(core: AuthenticationCore) -> None:
    """The configured admin exists after the first start and its token names PlatformAdmin."""
    token = core.login("admin", ADMIN_PASSWORD)
    claims = core.authenticate("admin", token)
    assert (claims.sub, claims.role, claims.iss) == ("admin", "PlatformAdmin", "Teaclave")


def test_bootstrap_uses_configured_admin_id(storage: LocalStorage) -> None:
    """bootstrap_admin names the first admin's user id."""
    settings = Settings("root", passwords.hash_password("s3cret"), 60)
    core = AuthenticationCore.open(storage, settings)
    assert core.authenticate("root", core.login("root", "s3cret")).role == "PlatformAdmin"


def test_deleted_admin_is_not_resurrected(storage: LocalStorage, settings: Settings,
                                          core: AuthenticationCore, admin: Caller) -> None:
    """Once bootstrapped, a restart never recreates a deleted bootstrap admin."""
    other = make_user(core, admin, "root2", "PlatformAdmin")
    core.delete(other, "admin")
    restarted = AuthenticationCore.open(storage, settings)
    with pytest.raises(Unauthenticated):
        restarted.login("admin", ADMIN_PASSWORD)


def test_bootstrap_needs_an_argon2id_hash(storage: LocalStorage) -> None:
    """A fresh platform without a bootstrap hash refuses to start with a ConfigError."""
    with pytest.raises(ConfigError, match="gaiwan init"):
        AuthenticationCore.open(storage, Settings("admin", "", 60))


def test_settings_from_section_defaults_and_validation() -> None:
    """[authentication] defaults to admin and 24 h; a bad ttl is a ConfigError."""
    assert Settings.from_section({}) == Settings("admin", "", 86400)
    with pytest.raises(ConfigError):
        Settings.from_section({"token_ttl_s": "soon"})


@pytest.mark.parametrize("user_id,password", [("admin", "wrong"), ("nobody", ADMIN_PASSWORD)])
def test_wrong_id_or_password_same_error(core: AuthenticationCore, user_id: str,
                                         password: str) -> None:
    """A wrong password and an unknown id both give the same UNAUTHENTICATED message."""
    with pytest.raises(Unauthenticated) as info:
        core.login(user_id, password)
    assert info.value.message == "invalid user id or password"


@pytest.mark.parametrize("user_id,password", [("", "x"), ("admin", ""), ("a\nb", "x")])
def test_login_rejects_empty_or_malformed_input(core: AuthenticationCore, user_id: str,
                                                password: str) -> None:
    """Empty id/password and ids with control characters are INVALID_ARGUMENT."""
    with pytest.raises(InvalidArgument):
        core.login(user_id, password)


def test_secret_persists_across_instances(storage: LocalStorage, settings: Settings,
                                          core: AuthenticationCore) -> None:
    """A second core over the same storage accepts a token issued by the first."""
    token = core.login("admin", ADMIN_PASSWORD)
    second = AuthenticationCore.open(storage, settings)
    assert second.authenticate("admin", token).sub == "admin"
    assert len(storage.get(SECRET_KEY).value) == 64  # type: ignore[union-attr]


def test_token_survives_restart(tmp_path: Path, settings: Settings) -> None:
    """After the store is closed and reopened (same seal key), old tokens still verify."""
    seal_key = os.urandom(32)
    with LocalStorage.open(tmp_path / "s", seal_key, role="authentication") as store:
        token = AuthenticationCore.open(store, settings).login("admin", ADMIN_PASSWORD)
    with LocalStorage.open(tmp_path / "s", seal_key, role="authentication") as store:
        assert AuthenticationCore.open(store, settings).authenticate("admin", token).sub == "admin"


def test_concurrent_first_starts_agree_on_secret(tmp_path: Path) -> None:
    """A start that loses the race for the secret adopts the winner's."""
    winner = b"w" * 64

    class Racing(LocalStorage):
        def compare_and_set(self, key: bytes, expected: int, value: bytes | None) -> int | None:
            super().compare_and_set(key, 0, winner)  # another instance got there first
            return super().compare_and_set(key, expected, value)

    with Racing.open(tmp_path / "s", role="authentication") as racing:
        assert UserStore(racing).token_secret() == winner


def test_concurrent_update_conflicts(core: AuthenticationCore, admin: Caller,
                                     storage: LocalStorage) -> None:
    """A change based on a stale read fails with ABORTED instead of overwriting."""
    make_user(core, admin, "bob", "FunctionOwner")
    users = UserStore(storage)
    stale = users.require("bob")
    core.change_password(core.caller("bob", core.login("bob", "pw-bob")), "newer")
    with pytest.raises(Conflict):
        users.replace(stale, stale.record)
    assert core.login("bob", "newer")


# ---- token rejections -----------------------------------------------------------------------

def test_expired_token_rejected(core: AuthenticationCore, storage: LocalStorage) -> None:
    """A token past its exp is UNAUTHENTICATED."""
    secret = storage.get(SECRET_KEY).value  # type: ignore[union-attr]
    old = TokenCodec(secret, 60).issue("admin", "PlatformAdmin", now=time.time() - 3600)
    with pytest.raises(Unauthenticated, match="expired"):
        core.authenticate("admin", old)


def test_bad_signature_rejected(core: AuthenticationCore) -> None:
    """A token signed with another secret is UNAUTHENTICATED."""
    forged = TokenCodec(b"z" * 64, 60).issue("admin", "PlatformAdmin")
    with pytest.raises(Unauthenticated):
        core.authenticate("admin", forged)


def test_alg_none_rejected(core: AuthenticationCore) -> None:
    """An unsigned `alg: none` token is UNAUTHENTICATED."""
    claims = {"sub": "admin", "role": "PlatformAdmin", "iss": "Teaclave",
              "exp": int(time.time()) + 60}
    unsigned = jwt.encode(claims, None, algorithm="none")
    with pytest.raises(Unauthenticated):
        core.authenticate("admin", unsigned)


def test_other_users_token_rejected(core: AuthenticationCore, admin: Caller) -> None:
    """A valid token presented with another user's id (sub != id) is UNAUTHENTICATED."""
    make_user(core, admin, "bob", "FunctionOwner")
    bob_token = core.login("bob", "pw-bob")
    with pytest.raises(Unauthenticated):
        core.authenticate("admin", bob_token)


def test_deleted_user_token_rejected(core: AuthenticationCore, admin: Caller) -> None:
    """A token of a user deleted since it was issued is UNAUTHENTICATED."""
    make_user(core, admin, "bob", "FunctionOwner")
    token = core.login("bob", "pw-bob")
    core.delete(admin, "bob")
    with pytest.raises(Unauthenticated):
        core.authenticate("bob", token)


def test_role_change_invalidates_token(core: AuthenticationCore, admin: Caller) -> None:
    """After UserUpdate changes a role, tokens naming the old role are UNAUTHENTICATED."""
    make_user(core, admin, "bob", "DataOwnerManager", "a")
    token = core.login("bob", "pw-bob")
    core.update(admin, "bob", "pw-bob", "DataOwnerManager", "b")
    with pytest.raises(Unauthenticated):
        core.authenticate("bob", token)
    assert core.authenticate("bob", core.login("bob", "pw-bob")).role == "DataOwnerManager-b"


@pytest.mark.parametrize("user_id,token", [("", "x"), ("admin", "")])
def test_missing_credentials_rejected(core: AuthenticationCore, user_id: str, token: str) -> None:
    """An empty id or token is UNAUTHENTICATED."""
    with pytest.raises(Unauthenticated):
        core.authenticate(user_id, token)


# ---- register -------------------------------------------------------------------------------

REGISTER_CELLS = [
    # (caller, role, attribute, allowed)
    ("admin", "PlatformAdmin", "", True),
    ("admin", "FunctionOwner", "", True),
    ("admin", "DataOwnerManager", "x", True),
    ("admin", "DataOwner", "x", True),
    ("dom_a", "DataOwner", "a", True),
    ("dom_a", "DataOwner", "b", False),
    ("dom_a", "DataOwnerManager", "a", False),
    ("dom_a", "FunctionOwner", "", False),
    ("dom_a", "PlatformAdmin", "", False),
    ("fo", "DataOwnerManager", "a", True),
    ("fo", "DataOwnerManager", "z", True),
    ("fo", "DataOwner", "a", False),
    ("fo", "FunctionOwner", "", False),
    ("fo", "PlatformAdmin", "", False),
    ("do_a", "DataOwner", "a", False),
    ("do_a", "FunctionOwner", "", False),
]


@pytest.mark.parametrize("who,role,attribute,allowed", REGISTER_CELLS)
def test_register_matrix(core: AuthenticationCore, admin: Caller,
                         population: dict[str, Caller], who: str, role: str, attribute: str,
                         allowed: bool) -> None:
    """UserRegister follows spec §4 for every caller role."""
    caller = admin if who == "admin" else population[who]
    if allowed:
        core.register(caller, "newbie", "pw", role, attribute)
        expected = f"{role}-{attribute}" if attribute else role
        assert core.authenticate("newbie", core.login("newbie", "pw")).role == expected
    else:
        with pytest.raises(PermissionDenied):
            core.register(caller, "newbie", "pw", role, attribute)
        with pytest.raises(Unauthenticated):
            core.login("newbie", "pw")


def test_register_duplicate_id(core: AuthenticationCore, admin: Caller) -> None:
    """Registering an existing id fails with ALREADY_EXISTS "user id exist"."""
    core.register(admin, "bob", "pw", "FunctionOwner", "")
    with pytest.raises(AlreadyExists, match="^user id exist$"):
        core.register(admin, "bob", "other", "FunctionOwner", "")
    assert core.login("bob", "pw")  # the original password still works


@pytest.mark.parametrize("user_id,password,role,attribute", [
    ("", "pw", "FunctionOwner", ""),
    ("bob", "", "FunctionOwner", ""),
    ("bob", "pw", "Superuser", ""),
    ("bob", "pw", "", ""),
    ("bob", "pw", "DataOwner", ""),
    ("bob", "pw", "DataOwnerManager", ""),
    ("x" * 300, "pw", "FunctionOwner", ""),
    ("bob", "p" * 2000, "FunctionOwner", ""),
])
def test_register_invalid_input(core: AuthenticationCore, admin: Caller, user_id: str,
                                password: str, role: str, attribute: str) -> None:
    """Empty id/password, unknown role, no attribute or oversize fields: INVALID_ARGUMENT."""
    with pytest.raises(InvalidArgument):
        core.register(admin, user_id, password, role, attribute)


# ---- update, reset, delete ------------------------------------------------------------------

MANAGE_CELLS = [
    # (caller, target, allowed)
    ("admin", "fo", True), ("admin", "dom_a", True), ("admin", "do_b", True),
    ("admin", "admin2", True),
    ("dom_a", "do_a", True), ("dom_a", "do_b", False), ("dom_a", "dom_b", False),
    ("dom_a", "dom_a", False), ("dom_a", "fo", False), ("dom_a", "admin2", False),
    ("fo", "dom_a", False), ("fo", "do_a", False), ("fo", "admin2", False),
    ("do_a", "do_a", False), ("do_a", "do_b", False), ("do_a", "admin2", False),
]


def _caller(who: str, admin: Caller, population: dict[str, Caller]) -> Caller:
    return admin if who == "admin" else population[who]


@pytest.mark.parametrize("who,target,allowed", MANAGE_CELLS)
def test_reset_matrix(core: AuthenticationCore, admin: Caller, population: dict[str, Caller],
                      who: str, target: str, allowed: bool) -> None:
    """ResetUserPassword is allowed exactly where the matrix says; the new password works."""
    caller = _caller(who, admin, population)
    if allowed:
        new = core.reset_password(caller, target)
        assert len(new) >= 16 and core.login(target, new)
        with pytest.raises(Unauthenticated):
            core.login(target, f"pw-{target}")
    else:
        with pytest.raises(PermissionDenied):
            core.reset_password(caller, target)
        assert core.login(target, f"pw-{target}")


@pytest.mark.parametrize("who,target,allowed", MANAGE_CELLS)
def test_delete_matrix(core: AuthenticationCore, admin: Caller, population: dict[str, Caller],
                       who: str, target: str, allowed: bool) -> None:
    """DeleteUser is allowed exactly where the matrix says."""
    caller = _caller(who, admin, population)
    if allowed:
        core.delete(caller, target)
        with pytest.raises(Unauthenticated):
            core.login(target, f"pw-{target}")
    else:
        with pytest.raises(PermissionDenied):
            core.delete(caller, target)
        assert core.login(target, f"pw-{target}")


@pytest.mark.parametrize("who,target,allowed", MANAGE_CELLS)
def test_update_matrix(core: AuthenticationCore, admin: Caller, population: dict[str, Caller],
                       who: str, target: str, allowed: bool) -> None:
    """UserUpdate (keeping the target's role) is allowed exactly where the matrix says."""
    caller = _caller(who, admin, population)
    role = population[target].role
    args = (target, "new-pw", role.kind.value, role.attribute)
    if allowed:
        core.update(caller, *args)
        assert core.login(target, "new-pw")
    else:
        with pytest.raises(PermissionDenied):
            core.update(caller, *args)
        assert core.login(target, f"pw-{target}")


@pytest.mark.parametrize("role,attribute", [
    ("DataOwner", "b"), ("DataOwnerManager", "a"), ("PlatformAdmin", ""), ("FunctionOwner", ""),
])
def test_manager_cannot_move_user_out_of_reach(core: AuthenticationCore,
                                               population: dict[str, Caller], role: str,
                                               attribute: str) -> None:
    """DataOwnerManager-a may not give its DataOwner-a user any other role."""
    with pytest.raises(PermissionDenied):
        core.update(population["dom_a"], "do_a", "pw", role, attribute)
    assert core.authenticate("do_a", core.login("do_a", "pw-do_a")).role == "DataOwner-a"


def test_admin_update_changes_role(core: AuthenticationCore, admin: Caller,
                                   population: dict[str, Caller]) -> None:
    """PlatformAdmin may move a user to any role."""
    core.update(admin, "do_a", "pw2", "PlatformAdmin", "")
    assert core.authenticate("do_a", core.login("do_a", "pw2")).role == "PlatformAdmin"


def test_missing_target_is_not_found_for_managers(core: AuthenticationCore, admin: Caller,
                                                  population: dict[str, Caller]) -> None:
    """Updating, resetting or deleting an unknown id is INVALID_ARGUMENT (NotFound)."""
    with pytest.raises(NotFound):
        core.delete(admin, "ghost")
    with pytest.raises(NotFound):
        core.reset_password(population["dom_a"], "ghost")
    with pytest.raises(NotFound):
        core.update(admin, "ghost", "pw", "FunctionOwner", "")


def test_unprivileged_caller_cannot_probe_ids(core: AuthenticationCore,
                                              population: dict[str, Caller]) -> None:
    """A caller who may manage nobody gets PERMISSION_DENIED for existing and unknown ids alike."""
    for target in ("ghost", "dom_a"):
        with pytest.raises(PermissionDenied):
            core.delete(population["fo"], target)


def test_update_rejects_invalid_input(core: AuthenticationCore, admin: Caller,
                                      population: dict[str, Caller]) -> None:
    """UserUpdate with an empty password or unknown role is INVALID_ARGUMENT."""
    with pytest.raises(InvalidArgument):
        core.update(admin, "fo", "", "FunctionOwner", "")
    with pytest.raises(InvalidArgument):
        core.update(admin, "fo", "pw", "Root", "")


# ---- own password, listing ------------------------------------------------------------------

@pytest.mark.parametrize("who", ["fo", "dom_a", "do_a", "admin2"])
def test_change_own_password(core: AuthenticationCore, population: dict[str, Caller],
                             who: str) -> None:
    """Every role changes its own password; the old one stops working, the role is kept."""
    core.change_password(population[who], "fresh")
    with pytest.raises(Unauthenticated):
        core.login(who, f"pw-{who}")
    assert core.authenticate(who, core.login(who, "fresh")).role == str(population[who].role)


def test_change_password_rejects_empty(core: AuthenticationCore,
                                       population: dict[str, Caller]) -> None:
    """An empty new password is INVALID_ARGUMENT."""
    with pytest.raises(InvalidArgument):
        core.change_password(population["fo"], "")


def test_admin_lists_all_users(core: AuthenticationCore, admin: Caller,
                               population: dict[str, Caller]) -> None:
    """PlatformAdmin's ListUsers returns every user id."""
    assert core.list_users(admin, "") == sorted(["admin", *population])


def test_manager_lists_own_data_owners(core: AuthenticationCore, admin: Caller,
                                       population: dict[str, Caller]) -> None:
    """DataOwnerManager-a lists exactly the DataOwner-a users (not managers, not group b)."""
    make_user(core, admin, "do_a2", "DataOwner", "a")
    assert core.list_users(population["dom_a"], "a") == ["do_a", "do_a2"]


@pytest.mark.parametrize("who,requested", [
    ("dom_a", "b"), ("dom_a", "dom_a"), ("fo", ""), ("fo", "a"), ("do_a", "a"),
])
def test_list_denied(core: AuthenticationCore, population: dict[str, Caller], who: str,
                     requested: str) -> None:
    """Other ListUsers requests are PERMISSION_DENIED."""
    with pytest.raises(PermissionDenied):
        core.list_users(population[who], requested)
