"""The dispatch-time decision: a task whose function or data the policies deny now, over the
records as they are now, ends Failed instead of running; InvokeTask's decision stands without a
new question only while the records and the policy set it was made on are unchanged."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from conftest import LEASE_MS, read_task

from gaiwan import records
from gaiwan.logs import get_logger
from gaiwan.records import CryptoInfo, DataFile, Function, FunctionArgument, Task, TaskStatus
from gaiwan.services.access_control import Decision, PolicyEngine, Query
from gaiwan.services.access_control.service import packaged_policy_dir
from gaiwan.services.scheduler import Scheduler
from gaiwan.roles import Role
from gaiwan.services.management._rules import Caller, Rules
from gaiwan.services.scheduler._nodes import Capabilities
from tests.support.policies import packaged_engine

ECHO = Capabilities(frozenset({"builtin"}), frozenset({"builtin-echo"}), slots=2)
ALICE = Caller("alice", Role.parse("DataOwner-a"))
EU_ONLY = ('@id("eu-only-data")\nforbid (principal, action == Gaiwan::Action::"task_access_data", resource)\n'
           'when { resource.tags.contains("eu-only") && principal.function.owner_attribute != "eu" };')
FORBID_ALL_DATA = '@id("freeze")\nforbid (principal, action == Gaiwan::Action::"task_access_data", resource);'


class Reloadable:
    """The access control service's behaviour on reload: decisions follow the current set, whose
    fingerprint the scheduler knows while announcements arrive (`announced`)."""

    def __init__(self) -> None:
        self.engine = packaged_engine()
        self.asked = 0
        self.announced = True

    def authorize_all(self, queries: Sequence[Query], entities: list[dict[str, Any]]) -> list[Decision]:
        self.asked += 1
        return self.engine.authorize_all(queries, entities)

    def policy_set(self) -> str | None:
        return self.engine.policy_set if self.announced else None

    def reload(self, *extra: str) -> None:
        base = packaged_policy_dir()
        files = {str(p): p.read_text() for p in sorted(base.glob("*.cedar"))}
        self.engine = PolicyEngine((base / "schema.cedarschema").read_text(),
                                   {**files, **{f"ops/{i}.cedar": text for i, text in enumerate(extra)}})


@pytest.fixture
def policies() -> Reloadable:
    return Reloadable()


@pytest.fixture
def sched(storage, clock, policies: Reloadable) -> Scheduler:
    return Scheduler(storage, LEASE_MS, policies.authorize_all, get_logger("scheduler"), clock=clock,
                     poll_s=0.05, policy_set=policies.policy_set)


@pytest.fixture(params=["asked again", "invoke's decision"])
def invoked(request, management, policies: Reloadable) -> Callable[[], tuple[str, Function]]:
    """Queues a two-party task: as old items were (no InvokeTask decision with it), or as
    InvokeTask queues it now, with the basis of its own run decision (management's real rules)."""
    return lambda: _staged_two_party(management, policies if request.param == "invoke's decision" else None)


def _staged_two_party(management, policies: Reloadable | None = None) -> tuple[str, Function]:
    """A Staged task of alice on bob's input, approved by both, queued as InvokeTask queues it;
    with `policies`, carrying InvokeTask's run decision made by them."""
    fn = Function(records.new_id("function"), "alice", "builtin-echo", "", "builtin", True, b"",
                  arguments=(FunctionArgument("message"),), owner_role="DataOwner-a")
    data = DataFile(records.new_id("input"), "input", "https://h/x", ("bob",),
                    CryptoInfo("aes-gcm-128", os.urandom(16), os.urandom(12)), os.urandom(16))
    task = Task(records.new_id("task"), "alice", fn.function_id, "alice", {"message": "hi"}, "builtin",
                participants=("alice", "bob"), approved_users=("alice", "bob"),
                assigned_inputs={"in": data.data_id}, status=TaskStatus.STAGED)
    management.put(records.function_key(fn.function_id), records.dumps(fn))
    management.put(records.data_key(data.data_id), records.dumps(data))
    queued = records.QueuedTask(task.task_id, fn, (data.data_id,))
    if policies is not None:
        basis = Rules(policies).require_invoke(ALICE, task, fn, [data], lambda: None)
        assert basis.startswith(policies.engine.policy_set + ":")
        queued = dataclasses.replace(queued, invoked_by=ALICE.user_id, invoked_as=str(ALICE.role),
                                     run_basis=basis)
        policies.asked = 0
    management.transact(writes={records.task_key(task.task_id): records.dumps(task)},
                        enqueue=[(records.TASK_QUEUE, records.dumps(queued))])
    return task.task_id, fn


def _rewrite(management, key: bytes, cls: type, **changes: Any) -> None:
    found = management.get(key)
    management.put(key, records.dumps(dataclasses.replace(records.loads(cls, found.value), **changes)))


def _dispatch(sched: Scheduler) -> None:
    sched.connect("node-a", ECHO)
    while sched.dispatcher.step():
        pass


def _refused(storage, task_id: str) -> bool:
    task = read_task(storage, task_id)
    return task.status == TaskStatus.FAILED and task.result.failure.startswith("permission denied")


def test_approved_task_runs(sched, invoked, storage) -> None:
    """With every owner's approval in place the task is dispatched."""
    task_id, _ = invoked()
    _dispatch(sched)
    assert read_task(storage, task_id).status == TaskStatus.RUNNING


def test_revoked_approval_stops_the_run(sched, invoked, management, storage) -> None:
    """An approval withdrawn after InvokeTask: the data owner is no longer an approver, no run."""
    task_id, _ = invoked()
    _rewrite(management, records.task_key(task_id), Task, approved_users=("alice",))
    _dispatch(sched)
    assert _refused(storage, task_id)
    assert sched.registry.get("node-a").assignments == {}
    assert storage.dequeue(records.TASK_QUEUE, 1000) is None  # acknowledged, not redelivered


def test_policy_changed_after_invoke_stops_the_run(sched, invoked, storage, policies) -> None:
    """A policy reloaded between InvokeTask and dispatch decides the run."""
    task_id, _ = invoked()
    policies.reload(FORBID_ALL_DATA)
    _dispatch(sched)
    assert _refused(storage, task_id)
    assert "freeze" not in read_task(storage, task_id).result.failure


def test_function_disabled_after_invoke_stops_the_run(sched, invoked, management, storage) -> None:
    """The function as stored now decides, not the copy taken at InvokeTask."""
    task_id, fn = invoked()
    _rewrite(management, records.function_key(fn.function_id), Function, disabled=True)
    _dispatch(sched)
    assert _refused(storage, task_id)


def test_a_new_tag_is_decided_on(sched, invoked, management, storage, policies) -> None:
    """A tag an operator policy refuses, set on the data after InvokeTask, stops the run."""
    policies.reload(EU_ONLY)
    task_id, _ = invoked()
    data_id = read_task(storage, task_id).assigned_inputs["in"]
    _rewrite(management, records.data_key(data_id), DataFile, tags=("eu-only",))
    _dispatch(sched)
    assert _refused(storage, task_id)


def test_invokes_decision_stands_while_nothing_changed(sched, management, storage, policies) -> None:
    """Same records, same policy set: dispatched without asking the access control service."""
    task_id, _ = _staged_two_party(management, policies)
    _dispatch(sched)
    assert read_task(storage, task_id).status == TaskStatus.RUNNING
    assert policies.asked == 0


def test_without_announcements_the_scheduler_asks(sched, management, storage, policies) -> None:
    """Not knowing the policy set in force, the scheduler cannot tell the decision still holds."""
    task_id, _ = _staged_two_party(management, policies)
    policies.announced = False
    _dispatch(sched)
    assert read_task(storage, task_id).status == TaskStatus.RUNNING
    assert policies.asked == 1


def test_only_the_task_whose_records_changed_is_asked_about(sched, management, storage, policies) -> None:
    """Of two invoked tasks, the one whose approval was withdrawn since is decided again (and
    refused); the other runs on InvokeTask's decision."""
    task_id, _ = _staged_two_party(management, policies)
    other, _ = _staged_two_party(management, policies)
    _rewrite(management, records.task_key(other), Task, approved_users=("alice",))
    _dispatch(sched)
    assert policies.asked == 1
    assert read_task(storage, task_id).status == TaskStatus.RUNNING
    assert _refused(storage, other)


def test_a_basis_stands_only_for_its_own_entities(sched, management, storage, policies) -> None:
    """An item carrying another task's basis (copied, or forged) is asked about: the basis is a
    digest of the very entities decided on."""
    _staged_two_party(management, policies)
    lease = storage.dequeue(records.TASK_QUEUE, 1000)
    basis = records.loads(records.QueuedTask, lease.item).run_basis
    storage.ack(lease)
    task_id, fn = _staged_two_party(management)
    lease = storage.dequeue(records.TASK_QUEUE, 1000)
    queued = records.loads(records.QueuedTask, lease.item)
    storage.ack(lease)
    management.transact(enqueue=[(records.TASK_QUEUE, records.dumps(dataclasses.replace(
        queued, invoked_by=ALICE.user_id, invoked_as=str(ALICE.role), run_basis=basis)))])
    _dispatch(sched)
    assert policies.asked == 1
    assert read_task(storage, task_id).status == TaskStatus.RUNNING
