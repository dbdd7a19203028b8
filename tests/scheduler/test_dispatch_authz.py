"""The dispatch-time decision: a task whose function or data the policies deny now, over the
records as they are now, ends Failed instead of running."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

import pytest
from conftest import LEASE_MS, read_task

from gaiwan import records
from gaiwan.logs import get_logger
from gaiwan.records import CryptoInfo, DataFile, Function, FunctionArgument, Task, TaskStatus
from gaiwan.services.access_control import Decision, PolicyEngine, Query
from gaiwan.services.access_control.service import packaged_policy_dir
from gaiwan.services.scheduler import Scheduler
from gaiwan.services.scheduler._nodes import Capabilities
from tests.support.policies import packaged_engine

ECHO = Capabilities(frozenset({"builtin"}), frozenset({"builtin-echo"}), slots=2)
FORBID_ALL_DATA = '@id("freeze")\nforbid (principal, action == Gaiwan::Action::"task_access_data", resource);'


class Reloadable:
    """The access control service's behaviour on reload: decisions follow the current set."""

    def __init__(self) -> None:
        self.engine = packaged_engine()

    def authorize_all(self, queries: Sequence[Query], entities: list[dict[str, Any]]) -> list[Decision]:
        return self.engine.authorize_all(queries, entities)


@pytest.fixture
def policies() -> Reloadable:
    return Reloadable()


@pytest.fixture
def sched(storage, clock, policies: Reloadable) -> Scheduler:
    return Scheduler(storage, LEASE_MS, policies.authorize_all, get_logger("scheduler"), clock=clock,
                     poll_s=0.05)


def _staged_two_party(management) -> tuple[str, Function]:
    """A Staged task of alice on bob's input, approved by both, queued as InvokeTask queues it."""
    fn = Function(records.new_id("function"), "alice", "builtin-echo", "", "builtin", True, b"",
                  arguments=(FunctionArgument("message"),), owner_role="DataOwner-a")
    data = DataFile(records.new_id("input"), "input", "https://h/x", ("bob",),
                    CryptoInfo("aes-gcm-128", os.urandom(16), os.urandom(12)), os.urandom(16))
    task = Task(records.new_id("task"), "alice", fn.function_id, "alice", {"message": "hi"}, "builtin",
                participants=("alice", "bob"), approved_users=("alice", "bob"),
                assigned_inputs={"in": data.data_id}, status=TaskStatus.STAGED)
    management.put(records.function_key(fn.function_id), records.dumps(fn))
    management.put(records.data_key(data.data_id), records.dumps(data))
    management.transact(writes={records.task_key(task.task_id): records.dumps(task)},
                        enqueue=[(records.TASK_QUEUE, records.dumps(records.QueuedTask(task.task_id, fn)))])
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


def test_approved_task_runs(sched, management, storage) -> None:
    """With every owner's approval in place the task is dispatched."""
    task_id, _ = _staged_two_party(management)
    _dispatch(sched)
    assert read_task(storage, task_id).status == TaskStatus.RUNNING


def test_revoked_approval_stops_the_run(sched, management, storage) -> None:
    """An approval withdrawn after InvokeTask: the data owner is no longer an approver, no run."""
    task_id, _ = _staged_two_party(management)
    _rewrite(management, records.task_key(task_id), Task, approved_users=("alice",))
    _dispatch(sched)
    assert _refused(storage, task_id)
    assert sched.registry.get("node-a").assignments == {}
    assert storage.dequeue(records.TASK_QUEUE, 1000) is None  # acknowledged, not redelivered


def test_policy_changed_after_invoke_stops_the_run(sched, management, storage, policies) -> None:
    """A policy reloaded between InvokeTask and dispatch decides the run."""
    task_id, _ = _staged_two_party(management)
    base = packaged_policy_dir()
    files = {str(p): p.read_text() for p in sorted(base.glob("*.cedar"))}
    policies.engine = PolicyEngine((base / "schema.cedarschema").read_text(),
                                   {**files, "ops/freeze.cedar": FORBID_ALL_DATA})
    _dispatch(sched)
    assert _refused(storage, task_id)
    assert "freeze" not in read_task(storage, task_id).result.failure


def test_function_disabled_after_invoke_stops_the_run(sched, management, storage) -> None:
    """The function as stored now decides, not the copy taken at InvokeTask."""
    task_id, fn = _staged_two_party(management)
    _rewrite(management, records.function_key(fn.function_id), Function, disabled=True)
    _dispatch(sched)
    assert _refused(storage, task_id)
