"""Tests of the who-may-manage-whom matrix as pure functions of roles."""

from __future__ import annotations

import pytest

from gaiwan.errors import PermissionDenied
from gaiwan.roles import Role
from gaiwan.services.authentication._policy import (
    list_scope, may_manage, may_manage_anyone, may_register)

ADMIN = Role.parse("PlatformAdmin")
FO = Role.parse("FunctionOwner")
DOM_A = Role.parse("DataOwnerManager-a")
DOM_B = Role.parse("DataOwnerManager-b")
DO_A = Role.parse("DataOwner-a")
DO_B = Role.parse("DataOwner-b")
ALL = [ADMIN, FO, DOM_A, DOM_B, DO_A, DO_B]

REGISTER_ALLOWED = {
    ADMIN: set(ALL),
    DOM_A: {DO_A},
    FO: {DOM_A, DOM_B},
    DO_A: set(),
}
MANAGE_ALLOWED = {
    ADMIN: set(ALL),
    DOM_A: {DO_A},
    FO: set(),
    DO_A: set(),
}


@pytest.mark.parametrize("caller", list(REGISTER_ALLOWED))
@pytest.mark.parametrize("target", ALL)
def test_register_matrix(caller: Role, target: Role) -> None:
    """Each (caller, new role) register cell matches spec §4."""
    assert may_register(caller, target) == (target in REGISTER_ALLOWED[caller])


@pytest.mark.parametrize("caller", list(MANAGE_ALLOWED))
@pytest.mark.parametrize("target", ALL)
def test_manage_matrix(caller: Role, target: Role) -> None:
    """Each (caller, target role) cell for update/reset/delete matches the least-privilege table."""
    assert may_manage(caller, target) == (target in MANAGE_ALLOWED[caller])
    assert may_manage_anyone(caller) == bool(MANAGE_ALLOWED[caller])


def test_admin_lists_everyone_whatever_the_id() -> None:
    """PlatformAdmin's ListUsers scope is all users."""
    assert list_scope(ADMIN, "") is None and list_scope(ADMIN, "anything") is None


def test_manager_lists_own_data_owners_only_with_own_attribute() -> None:
    """DataOwnerManager-a lists DataOwner-a users when id == a."""
    assert list_scope(DOM_A, "a") == DO_A


@pytest.mark.parametrize("caller,requested", [
    (DOM_A, "b"), (DOM_A, ""), (DOM_A, "DataOwnerManager-a"), (FO, ""), (FO, "a"),
    (DO_A, "a"), (DO_A, ""),
])
def test_other_list_requests_are_denied(caller: Role, requested: str) -> None:
    """Every other ListUsers request is PERMISSION_DENIED, not an empty list."""
    with pytest.raises(PermissionDenied):
        list_scope(caller, requested)
