"""Function records over storage: lifecycle, visibility with redaction, listing, usage stats."""

from __future__ import annotations

import pytest

from gaiwan.errors import InvalidArgument, NotFound, PermissionDenied
from gaiwan.services.management import Management

from .conftest import ADMIN, ALICE, BOB, CAROL, FRED, spec


def _private(core: Management, **changes: object) -> str:
    function = core.functions.register(
        FRED, spec(public=False, payload=b"secret code", user_allowlist=("alice", "bank_b"), **changes))
    return function.function_id


def test_register_sets_id_owner_and_usage(core: Management) -> None:
    """The platform picks the id and the owner; usage starts at zero."""
    function = core.functions.register(FRED, spec(owner="mallory", current_usage=7, usage_quota=3))
    assert function.function_id.startswith("function-") and function.owner == "fred"
    stats = core.functions.usage(FRED, function.function_id)
    assert (stats.usage_quota, stats.current_usage) == (3, 0)


def test_register_rejects_bad_definition(core: Management) -> None:
    """An invalid definition is INVALID_ARGUMENT and nothing is stored."""
    with pytest.raises(InvalidArgument):
        core.functions.register(FRED, spec(executor_type="jvm"))
    assert core.functions.list(FRED, "fred") == ([], [])


def test_get_full_for_public_owner_and_admin(core: Management) -> None:
    """Public functions, owners and admins get the whole record, payload and allowlist included."""
    function_id = _private(core)
    for caller in (FRED, ADMIN):
        got = core.functions.get(caller, function_id)
        assert got.payload == b"secret code" and got.user_allowlist == ("alice", "bank_b")
    public_id = core.functions.register(FRED, spec(payload=b"p")).function_id
    assert core.functions.get(CAROL, public_id).payload == b"p"


def test_get_redacted_for_allowlisted_by_id_and_by_attribute(core: Management) -> None:
    """Allowlisted callers (by user id or by attribute) see no payload and no allowlist."""
    function_id = _private(core)
    for caller in (ALICE, BOB):
        got = core.functions.get(caller, function_id)
        assert got.payload == b"" and got.user_allowlist == () and got.name == "builtin-echo"


def test_get_denied_to_others_and_unknown_ids(core: Management) -> None:
    """Callers outside the allowlist are denied; unknown ids are INVALID_ARGUMENT."""
    function_id = _private(core)
    with pytest.raises(PermissionDenied):
        core.functions.get(CAROL, function_id)
    with pytest.raises(PermissionDenied):
        core.functions.usage(CAROL, function_id)
    with pytest.raises(NotFound):
        core.functions.get(FRED, "function-nope")


def test_update_owner_only_and_keeps_identity(core: Management) -> None:
    """The owner replaces the definition in place; anyone else, even an admin, is denied."""
    function_id = _private(core)
    updated = core.functions.update(FRED, function_id, spec(name="v2", owner="mallory"))
    assert (updated.function_id, updated.owner, updated.name) == (function_id, "fred", "v2")
    assert core.functions.get(FRED, function_id).name == "v2"
    for caller in (ADMIN, ALICE):
        with pytest.raises(PermissionDenied):
            core.functions.update(caller, function_id, spec(name="v3"))
    with pytest.raises(InvalidArgument):
        core.functions.update(FRED, function_id, spec(name=""))


def test_delete_owner_only(core: Management) -> None:
    """Only the owner deletes; afterwards the id names nothing."""
    function_id = _private(core)
    for caller in (ADMIN, ALICE):
        with pytest.raises(PermissionDenied):
            core.functions.delete(caller, function_id)
    core.functions.delete(FRED, function_id)
    with pytest.raises(NotFound):
        core.functions.get(FRED, function_id)


def test_disable_owner_or_admin(core: Management) -> None:
    """The owner or an admin disables; an allowlisted user cannot."""
    first, second = _private(core), _private(core)
    with pytest.raises(PermissionDenied):
        core.functions.disable(ALICE, first)
    core.functions.disable(FRED, first)
    core.functions.disable(ADMIN, second)
    assert core.functions.get(FRED, first).disabled and core.functions.get(FRED, second).disabled


def test_list_registered_and_allowed(core: Management) -> None:
    """registered = owned; allowed = allowlist naming the user id or (for oneself) the attribute."""
    private_id = _private(core)
    other = core.functions.register(FRED, spec(public=False, user_allowlist=("bob",))).function_id
    assert core.functions.list(FRED, "fred") == ([private_id, other] if private_id < other
                                                 else [other, private_id], [])
    assert core.functions.list(ALICE, "alice") == ([], [private_id])
    assert sorted(core.functions.list(BOB, "")[1]) == sorted([private_id, other])
    assert core.functions.list(ADMIN, "bob") == ([], [other])


def test_list_others_denied(core: Management) -> None:
    """Listing someone else's functions is for admins only."""
    with pytest.raises(PermissionDenied):
        core.functions.list(ALICE, "fred")
