"""Management under the policy set: data tags, operator policies at InvokeTask, and ListFunctions
agreeing with GetFunction for every role and function visibility."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gaiwan.errors import InvalidArgument, PermissionDenied
from gaiwan.logs import get_logger
from gaiwan.records import FunctionIO, OwnerList
from gaiwan.roles import Role
from gaiwan.services.access_control import PolicyEngine
from gaiwan.services.access_control.service import packaged_policy_dir
from gaiwan.services.management import Caller, Management
from gaiwan.storage.local import LocalStorage

from .conftest import ADMIN, AES128, ALICE, BOB, CAROL, CMAC, FRED, CancelHook, spec

ERIN = Caller("erin", Role.parse("DataOwnerManager-eu"))
DOC = Path(__file__).resolve().parents[2] / "docs" / "policies.md"


def _with_eu_policy() -> PolicyEngine:
    """The packaged set plus the doc's eu-only example."""
    block = next(b for b in re.findall(r"```cedar\n(.*?)```", DOC.read_text(), re.S) if "eu-only-data" in b)
    base = packaged_policy_dir()
    files = {str(p): p.read_text() for p in sorted(base.glob("*.cedar"))}
    return PolicyEngine((base / "schema.cedarschema").read_text(), {**files, "ops/eu.cedar": block})


# ---- tags --------------------------------------------------------------------------------------

def test_sole_owner_sets_tags(core: Management) -> None:
    """The owner replaces the tags of her file; they are stored sorted and unique."""
    data_id = core.files.register_input(ALICE, "https://h/a", CMAC, AES128).data_id
    core.files.set_tags(ALICE, data_id, ["eu-only", "pii", "eu-only"])
    assert core.files.get(ALICE, data_id, "input").tags == ("eu-only", "pii")
    core.files.set_tags(ALICE, data_id, [])
    assert core.files.get(ALICE, data_id, "input").tags == ()


def test_others_cannot_tag(core: Management) -> None:
    """A stranger, and a co-owner of shared data, may not set tags; nothing changes."""
    data_id = core.files.register_input(ALICE, "https://h/a", CMAC, AES128).data_id
    fusion_id = core.files.register_fusion_output(ALICE, ["alice", "bob"]).data_id
    with pytest.raises(PermissionDenied, match="tag input file"):
        core.files.set_tags(BOB, data_id, ["mine"])
    with pytest.raises(PermissionDenied, match="tag output file"):
        core.files.set_tags(ALICE, fusion_id, ["mine"])
    assert core.files.get(ALICE, data_id, "input").tags == ()


@pytest.mark.parametrize("tags", [["has space"], [""], ["x" * 65], [f"t{i}" for i in range(33)]])
def test_malformed_tags_are_refused(core: Management, tags: list[str]) -> None:
    """Tags are short labels: bad characters, empty, too long or too many are InvalidArgument."""
    data_id = core.files.register_input(ALICE, "https://h/a", CMAC, AES128).data_id
    with pytest.raises(InvalidArgument):
        core.files.set_tags(ALICE, data_id, tags)


def test_tags_need_a_data_id(core: Management) -> None:
    """A task or function id is not a data id."""
    with pytest.raises(InvalidArgument):
        core.files.set_tags(ALICE, "task-1", ["x"])


# ---- operator policies at InvokeTask ------------------------------------------------------------

@pytest.fixture
def eu_core(management_storage: LocalStorage, hook: CancelHook) -> Management:
    return Management(management_storage, _with_eu_policy(), hook, get_logger("management"))


def _task_on(core: Management, owner: Caller, data_id: str) -> str:
    function_id = core.functions.register(owner, spec(inputs=(FunctionIO("in"),))).function_id
    task = core.tasks.create(ALICE, function_id, '{"message": "x"}', "builtin",
                             [OwnerList("in", ("alice",))], [])
    core.tasks.assign(ALICE, task.task_id, [("in", data_id)], [])
    return task.task_id


def test_eu_only_data_refused_to_other_functions_at_invoke(eu_core: Management) -> None:
    """With the example policy, tagged data cannot run with a FunctionOwner's function."""
    data_id = eu_core.files.register_input(ALICE, "https://h/a", CMAC, AES128).data_id
    eu_core.files.set_tags(ALICE, data_id, ["eu-only"])
    task_id = _task_on(eu_core, FRED, data_id)
    with pytest.raises(PermissionDenied, match="run task") as info:
        eu_core.tasks.invoke(ALICE, task_id)
    assert "fred" not in info.value.message and "eu-only" not in info.value.message
    assert eu_core.tasks.get(ALICE, task_id).status.name == "APPROVED"


def test_eu_only_data_runs_with_an_eu_owners_function(eu_core: Management) -> None:
    """The same data runs with a function registered under a role with attribute eu."""
    data_id = eu_core.files.register_input(ALICE, "https://h/a", CMAC, AES128).data_id
    eu_core.files.set_tags(ALICE, data_id, ["eu-only"])
    task_id = _task_on(eu_core, ERIN, data_id)
    assert eu_core.tasks.invoke(ALICE, task_id).status.name == "STAGED"


def test_untagged_data_is_unaffected(eu_core: Management) -> None:
    """Without the tag the example policy changes nothing."""
    data_id = eu_core.files.register_input(ALICE, "https://h/a", CMAC, AES128).data_id
    task_id = _task_on(eu_core, FRED, data_id)
    assert eu_core.tasks.invoke(ALICE, task_id).status.name == "STAGED"


# ---- ListFunctions agrees with GetFunction ------------------------------------------------------

VISIBILITY = {
    "public": dict(public=True),
    "allowlist-id": dict(public=False, user_allowlist=("alice",)),
    "allowlist-attribute": dict(public=False, user_allowlist=("bank_b",)),
    "private": dict(public=False),
}


@pytest.mark.parametrize("caller", [ALICE, BOB, CAROL, FRED, ADMIN], ids=lambda c: c.user_id)
def test_list_and_get_agree(core: Management, caller: Caller) -> None:
    """Everything listed is gettable; a non-public function of someone else is gettable by a
    non-admin exactly when it is listed as allowed; registered lists exactly one's own."""
    ids = {name: core.functions.register(FRED, spec(**changes)).function_id
           for name, changes in VISIBILITY.items()}
    registered, allowed = core.functions.list(caller, "")
    for name, function_id in ids.items():
        try:
            core.functions.get(caller, function_id)
            gettable = True
        except PermissionDenied:
            gettable = False
        assert (function_id in registered) == (caller is FRED)
        if function_id in allowed:
            assert gettable
        if name != "public" and caller not in (FRED, ADMIN):
            assert gettable == (function_id in allowed), name
    assert not any(f in allowed for f in (ids["public"],))


def test_admin_listing_another_user_matches_ids_only(core: Management) -> None:
    """An admin listing bob sees what bob's id is allowlisted for (bob's role is unknown there)."""
    by_id = core.functions.register(FRED, spec(public=False, user_allowlist=("bob",))).function_id
    core.functions.register(FRED, spec(public=False, user_allowlist=("bank_b",)))
    assert core.functions.list(ADMIN, "bob") == ([], [by_id])
