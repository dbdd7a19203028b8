"""End to end: logins and who may manage which users (spec §4), through the authentication API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gaiwan.client import AuthenticationService
from gaiwan.errors import AlreadyExists, InvalidArgument, PermissionDenied, Unauthenticated
from tests.support.platform import SHARED, Platform, login
from tests.support.users import User, as_admin, as_user, authentication, register, unique

pytestmark = [pytest.mark.platform, pytest.mark.xdist_group(SHARED)]


@pytest.fixture(scope="module")
def admin(platform: Platform) -> Iterator[AuthenticationService]:
    with as_admin(platform) as client:
        yield client


@pytest.fixture(scope="module")
def group() -> str:
    """An attribute (a data owners' group) no other test uses."""
    return unique("grp")


@pytest.fixture(scope="module")
def registrars(platform: Platform, admin: AuthenticationService,
               group: str) -> Iterator[dict[str, AuthenticationService]]:
    """One logged-in client per role, data roles in `group`."""
    users = {
        "FunctionOwner": register(admin, "FunctionOwner", prefix="fo"),
        "DataOwnerManager": register(admin, "DataOwnerManager", group, prefix="dom"),
        "DataOwner": register(admin, "DataOwner", group, prefix="do"),
    }
    clients = {"PlatformAdmin": admin,
               **{role: as_user(platform, u.id, u.password) for role, u in users.items()}}
    yield clients
    for role, client in clients.items():
        if role != "PlatformAdmin":
            client.close()


def test_bootstrap_admin_logs_in(platform: Platform) -> None:
    """The admin made at init gets a JWT for its password."""
    token = login(platform)
    assert token.count(".") == 2


def test_wrong_password_and_unknown_user_are_indistinguishable(platform: Platform) -> None:
    """Both are UNAUTHENTICATED with one message that echoes neither input."""
    with authentication(platform) as client:
        with pytest.raises(Unauthenticated) as wrong:
            client.user_login("admin", "not-" + platform.admin_password)
        with pytest.raises(Unauthenticated) as unknown:
            client.user_login(unique("nobody"), platform.admin_password)
    assert wrong.value.message == unknown.value.message
    echoed = platform.admin_password in wrong.value.message
    assert not echoed, "the refusal repeats the password"


# (registrar, new role, new attribute: "same" = registrar's group, "other" = another group)
MATRIX = [
    ("PlatformAdmin", "PlatformAdmin", "", True),
    ("PlatformAdmin", "FunctionOwner", "", True),
    ("PlatformAdmin", "DataOwnerManager", "other", True),
    ("PlatformAdmin", "DataOwner", "other", True),
    ("DataOwnerManager", "DataOwner", "same", True),
    ("DataOwnerManager", "DataOwner", "other", False),
    ("DataOwnerManager", "DataOwnerManager", "same", False),
    ("DataOwnerManager", "FunctionOwner", "", False),
    ("FunctionOwner", "DataOwnerManager", "other", True),
    ("FunctionOwner", "DataOwner", "other", False),
    ("FunctionOwner", "FunctionOwner", "", False),
    ("FunctionOwner", "PlatformAdmin", "", False),
    ("DataOwner", "DataOwner", "same", False),
    ("DataOwner", "FunctionOwner", "", False),
]


@pytest.mark.parametrize(("registrar", "role", "attribute", "allowed"), MATRIX,
                         ids=[f"{r}->{n}{'-' + a if a else ''}" for r, n, a, _ in MATRIX])
def test_register_matrix(platform: Platform, registrars: dict[str, AuthenticationService],
                         group: str, registrar: str, role: str, attribute: str,
                         allowed: bool) -> None:
    """Each registrar role may register exactly the roles spec §4 grants it."""
    attr = {"same": group, "other": unique("grp"), "": ""}[attribute]
    client = registrars[registrar]
    if allowed:
        user = register(client, role, attr)
        login(platform, user.id, user.password)  # the new account works
    else:
        with pytest.raises(PermissionDenied):
            register(client, role, attr)


def test_list_users_admin_sees_all_manager_sees_own_group(
        admin: AuthenticationService, registrars: dict[str, AuthenticationService],
        group: str) -> None:
    """Admin lists everyone; DataOwnerManager-x lists exactly DataOwner-x for id == x only."""
    owners = [register(admin, "DataOwner", group, prefix="member") for _ in range(2)]
    outsider = register(admin, "DataOwner", unique("grp"), prefix="outsider")
    everyone = admin.list_users("")
    assert {"admin", outsider.id, *(o.id for o in owners)} <= set(everyone)

    manager = registrars["DataOwnerManager"]
    listed = manager.list_users(group)
    assert {o.id for o in owners} <= set(listed)
    assert outsider.id not in listed and "admin" not in listed
    assert not [u for u in listed if u.startswith(("dom-", "fo-"))], listed  # managers, owners
    with pytest.raises(PermissionDenied):
        manager.list_users(unique("grp"))
    for role in ("FunctionOwner", "DataOwner"):
        with pytest.raises(PermissionDenied):
            registrars[role].list_users(group)


def test_reset_password_returns_a_working_password(
        platform: Platform, admin: AuthenticationService,
        registrars: dict[str, AuthenticationService], group: str) -> None:
    """Admin and the group's manager reset passwords: the new one logs in, the old one no longer."""
    for resetter in (admin, registrars["DataOwnerManager"]):
        user = register(admin, "DataOwner", group, prefix="reset")
        new_password = resetter.reset_user_password(user.id)
        assert new_password and new_password != user.password
        login(platform, user.id, new_password)
        with pytest.raises(Unauthenticated):
            login(platform, user.id, user.password)


def test_manager_cannot_reset_another_groups_user(
        admin: AuthenticationService, registrars: dict[str, AuthenticationService]) -> None:
    """A DataOwnerManager-x reset of DataOwner-y, or any reset by a DataOwner, is refused."""
    other = register(admin, "DataOwner", unique("grp"), prefix="other")
    for role in ("DataOwnerManager", "DataOwner", "FunctionOwner"):
        with pytest.raises(PermissionDenied):
            registrars[role].reset_user_password(other.id)


def test_duplicate_id_is_refused(platform: Platform, admin: AuthenticationService) -> None:
    """Registering an existing id fails with Teaclave's "user id exist", keeping the first user."""
    user: User = register(admin, "FunctionOwner", prefix="dup")
    with pytest.raises(AlreadyExists) as exists:
        admin.user_register(user.id, "another-password", "DataOwner", "g")
    assert exists.value.message == "user id exist"
    login(platform, user.id, user.password)


def test_unknown_role_is_invalid_argument(admin: AuthenticationService) -> None:
    """A role outside spec §4 is INVALID_ARGUMENT and creates nobody."""
    user_id = unique("badrole")
    with pytest.raises(InvalidArgument):
        admin.user_register(user_id, "password", "SuperUser", "")
    assert user_id not in admin.list_users("")
