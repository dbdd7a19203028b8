"""The packaged resource policies (spec §6), rule by rule: each with an allowing and a denying case,
over entities built from records exactly as management and the scheduler build them."""

from __future__ import annotations

import dataclasses

import pytest

from gaiwan.records import CryptoInfo, DataFile, Function, Task, TaskStatus
from gaiwan.roles import Role
from gaiwan.services.access_control import Decision, Entities, PolicyEngine, Query, user_entity, user_uid
from gaiwan.services.access_control.entities import (data_entity, data_uid, function_entity,
                                                     function_uid, run_request, task_entity, task_uid)
from tests.support.policies import packaged_engine

ROLES = {"alice": "DataOwner-bank_a", "bob": "DataOwner-bank_b", "carol": "DataOwnerManager-bank_a",
         "fred": "FunctionOwner", "root": "PlatformAdmin", "erin": "DataOwner-bank_c"}
PRIVATE = Function("function-p", "fred", "join", "", "python", False, b"",
                   user_allowlist=("alice", "bank_b"), owner_role="FunctionOwner")
PUBLIC = dataclasses.replace(PRIVATE, function_id="function-pub", public=True, user_allowlist=())
AES = CryptoInfo("aes-gcm-128", b"", b"")


def _file(data_id: str, *owners: str, fusion: bool = False) -> DataFile:
    return DataFile(data_id, data_id.split("-")[0], "https://h/x", owners, AES, fusion=fusion)


FUSION = _file("input-f", "alice", "bob", fusion=True)
SOLO = _file("input-a", "alice")
TASK = Task("task-1", "alice", PRIVATE.function_id, "fred", {}, "python",
            participants=("alice", "bob", "fred"), approved_users=("alice", "bob", "fred"),
            assigned_inputs={"joint": FUSION.data_id, "mine": SOLO.data_id},
            status=TaskStatus.APPROVED)


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return packaged_engine()


def _user(engine: PolicyEngine, who: str, action: str, entity: list[dict], resource,  # type: ignore[no-untyped-def]
          context: dict | None = None) -> Decision:
    entities = Entities().add(user_entity(who, Role.parse(ROLES[who])), *entity)
    return engine.authorize_all([Query(user_uid(who), action, resource, context or {})],
                                entities.as_list())[0]


def _fn(engine: PolicyEngine, who: str, action: str, function: Function = PRIVATE) -> bool:
    return _user(engine, who, action, [function_entity(function)], function_uid(function.function_id)).allowed


def _data(engine: PolicyEngine, who: str, action: str, file: DataFile, context: dict | None = None) -> bool:
    return _user(engine, who, action, [data_entity(file)], data_uid(file.data_id), context).allowed


def _task(engine: PolicyEngine, who: str, action: str, task: Task = TASK) -> bool:
    return _user(engine, who, action, [task_entity(task)], task_uid(task.task_id)).allowed


def _run(engine: PolicyEngine, task: Task = TASK, function: Function = PRIVATE,
         files: tuple[DataFile, ...] = (FUSION, SOLO)) -> list[Decision]:
    queries, entities = run_request(task, function, files)
    return engine.authorize_all(queries, entities.as_list())


# ---- functions ---------------------------------------------------------------------------------

def test_full_function_record(engine: PolicyEngine) -> None:
    """Owner and admin read a private function in full; allowlisted users and strangers do not."""
    assert _fn(engine, "fred", "user_read_function") and _fn(engine, "root", "user_read_function")
    assert not _fn(engine, "alice", "user_read_function")
    assert _fn(engine, "erin", "user_read_function", PUBLIC)


def test_allowlist_by_user_id_and_by_attribute(engine: PolicyEngine) -> None:
    """The allowlist grants access and use by user id (alice) or role attribute (bank_b)."""
    for action in ("user_access_function", "user_use_function"):
        assert _fn(engine, "alice", action) and _fn(engine, "bob", action)
        assert not _fn(engine, "carol", action) and not _fn(engine, "erin", action)


def test_allowlist_attribute_never_matches_empty(engine: PolicyEngine) -> None:
    """An empty allowlist entry does not admit users without an attribute."""
    blank = dataclasses.replace(PRIVATE, user_allowlist=("",))
    assert not _fn(engine, "root", "user_access_function", blank)


def test_update_owner_only_disable_owner_or_admin(engine: PolicyEngine) -> None:
    """Only the owner updates (not even an admin); owner or admin disables."""
    assert _fn(engine, "fred", "user_update_function")
    assert not _fn(engine, "root", "user_update_function")
    assert _fn(engine, "root", "user_disable_function") and _fn(engine, "fred", "user_disable_function")
    assert not _fn(engine, "alice", "user_disable_function")


def test_list_functions_self_or_admin(engine: PolicyEngine) -> None:
    """Users list their own functions; an admin lists anyone's."""
    def may(who: str, whose: str) -> bool:
        return _user(engine, who, "user_list_functions", [user_entity(whose, None)], user_uid(whose)).allowed
    assert may("alice", "alice") and may("root", "alice")
    assert not may("bob", "alice")


# ---- data --------------------------------------------------------------------------------------

def test_data_owners_read(engine: PolicyEngine) -> None:
    """Every owner of a record reads it; others do not."""
    assert _data(engine, "bob", "user_access_data", FUSION)
    assert not _data(engine, "carol", "user_access_data", FUSION)


def test_sole_owner_updates_and_tags(engine: PolicyEngine) -> None:
    """A sole owner updates or tags a record; a co-owner of shared data does not."""
    for action in ("user_update_data", "user_tag_data"):
        assert _data(engine, "alice", action, SOLO)
        assert not _data(engine, "alice", action, FUSION)
        assert not _data(engine, "bob", action, SOLO)


def test_fusion_needs_two_owners_including_caller(engine: PolicyEngine) -> None:
    """RegisterFusionOutput: at least two owners, the caller among them."""
    assert _data(engine, "alice", "user_register_fusion", _file("output-n", "alice", "bob"))
    assert not _data(engine, "alice", "user_register_fusion", _file("output-n", "alice"))
    assert not _data(engine, "alice", "user_register_fusion", _file("output-n", "bob", "carol"))


def test_assign_needs_exact_declared_owners(engine: PolicyEngine) -> None:
    """A file fits a slot only with exactly the declared owners, and only an owner assigns it."""
    def slot(*owners: str) -> dict:
        return {"slot_owners": list(owners)}
    assert _data(engine, "alice", "user_assign_data", FUSION, slot("bob", "alice"))
    assert not _data(engine, "alice", "user_assign_data", FUSION, slot("alice"))
    assert not _data(engine, "carol", "user_assign_data", SOLO, slot("alice"))


# ---- tasks -------------------------------------------------------------------------------------

def test_participants_see_assign_and_approve(engine: PolicyEngine) -> None:
    """Participants see, assign to and approve a task; an admin only sees it; strangers nothing."""
    for action in ("user_access_task", "user_assign_task", "user_approve_task"):
        assert _task(engine, "bob", action)
        assert not _task(engine, "carol", action)
    assert _task(engine, "root", "user_access_task") and not _task(engine, "root", "user_approve_task")


def test_creator_invokes_creator_or_admin_cancels(engine: PolicyEngine) -> None:
    """The creator invokes and cancels; an admin cancels; another participant does neither."""
    assert _task(engine, "alice", "user_invoke_task") and not _task(engine, "bob", "user_invoke_task")
    assert _task(engine, "root", "user_cancel_task") and not _task(engine, "bob", "user_cancel_task")


# ---- a task's run ------------------------------------------------------------------------------

def test_run_allowed_when_every_owner_approved(engine: PolicyEngine) -> None:
    """With all owners and the function owner approving, the run is allowed, by name."""
    decisions = _run(engine)
    assert all(d.allowed for d in decisions)
    assert decisions[0].policy_ids == ("task-function-approvers",)
    assert decisions[1].policy_ids == ("task-data-approvers",)


def test_subset_rule_for_multi_owner_data(engine: PolicyEngine) -> None:
    """Fusion data needs every one of its owners among the approvers; one missing denies it."""
    without_bob = dataclasses.replace(TASK, approved_users=("alice", "fred"))
    function, fusion, solo = _run(engine, without_bob)
    assert function.allowed and solo.allowed
    assert not fusion.allowed and fusion.policy_ids == ()


def test_private_function_needs_its_owner_approval(engine: PolicyEngine) -> None:
    """A private function runs only if its owner approved; a public one needs no such approval."""
    without_fred = dataclasses.replace(TASK, approved_users=("alice", "bob"))
    assert not _run(engine, without_fred)[0].allowed
    public_task = dataclasses.replace(without_fred, function_id=PUBLIC.function_id)
    assert _run(engine, public_task, PUBLIC)[0].allowed


def test_disabled_function_runs_no_task(engine: PolicyEngine) -> None:
    """A disabled function is forbidden to every task, naming the forbid."""
    denied = _run(engine, function=dataclasses.replace(PRIVATE, disabled=True))[0]
    assert not denied.allowed and denied.policy_ids == ("function-disabled",)


def test_task_reads_only_its_own_data(engine: PolicyEngine) -> None:
    """Approval by the owner is not enough for data the task was not given."""
    other = _file("input-z", "alice")
    assert not _run(engine, files=(other,))[1].allowed


def test_single_participant_counts_as_approver(engine: PolicyEngine) -> None:
    """A one-participant task needs no approval: its participant counts as approver."""
    solo_task = Task("task-2", "alice", PUBLIC.function_id, "fred", {}, "python",
                     participants=("alice",), assigned_inputs={"x": SOLO.data_id})
    assert all(d.allowed for d in _run(engine, solo_task, PUBLIC, (SOLO,)))
