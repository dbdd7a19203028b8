"""The pure task state machine: creation status, assignment, approval, staging, cancel."""

from __future__ import annotations

import dataclasses

import pytest

from gaiwan.errors import FailedPrecondition, InvalidArgument
from gaiwan.records import LEGAL_TRANSITIONS, DataFile, Function, OwnerList, Task, TaskStatus
from gaiwan.services.management import _tasks as tasks

from .conftest import AES128, io_spec, spec

S = TaskStatus
FN = dataclasses.replace(io_spec(), function_id="function-1", owner="fred")
INPUTS = (OwnerList("left", ("alice",)), OwnerList("right", ("bob",)))
OUTPUTS = (OwnerList("result", ("alice",)),)


def _file(data_id: str, kind: str, cmac: bytes = b"") -> DataFile:
    return DataFile(data_id, kind, "file:///x", ("alice",), AES128, cmac)


def _task(inputs: tuple[OwnerList, ...] = INPUTS, outputs: tuple[OwnerList, ...] = OUTPUTS,
          function: Function = FN, creator: str = "alice") -> Task:
    return tasks.new_task("task-1", creator, function, {}, "builtin", inputs, outputs, 1.0)


def _assigned() -> Task:
    task = _task()
    return tasks.assign(task, {"left": _file("input-l", "input"), "right": _file("input-r", "input")},
                        {"result": _file("output-o", "output")}, 2.0)


def test_participants_include_owners_creator_and_private_function_owner() -> None:
    """Participants are every data owner, the creator, and the owner of a private function."""
    assert _task().participants == ("alice", "bob", "fred")
    public = dataclasses.replace(FN, public=True)
    assert _task(function=public, creator="carol").participants == ("alice", "bob", "carol")


def test_new_task_status() -> None:
    """Tasks with data start Created; without data DataAssigned, or Approved with one participant."""
    assert _task().status is S.CREATED
    assert _task(inputs=(), outputs=()).status is S.DATA_ASSIGNED
    solo = _task(inputs=(), outputs=(), function=dataclasses.replace(FN, public=True))
    assert solo.status is S.APPROVED and solo.participants == ("alice",)


def test_assign_completes_data_only_when_every_listed_name_is_assigned() -> None:
    """A partial assignment keeps Created; the last slot moves the task to DataAssigned."""
    task = tasks.assign(_task(), {"left": _file("input-l", "input")}, {}, 2.0)
    assert task.status is S.CREATED and task.assigned_inputs == {"left": "input-l"}
    assert _assigned().status is S.DATA_ASSIGNED


def test_assign_rejections() -> None:
    """Unknown names, reassignment, wrong kinds, written outputs and empty requests are refused."""
    task = tasks.assign(_task(), {"left": _file("input-l", "input")}, {}, 2.0)
    with pytest.raises(InvalidArgument, match="no input named"):
        tasks.assign(task, {"nope": _file("input-x", "input")}, {}, 3.0)
    with pytest.raises(FailedPrecondition, match="already assigned"):
        tasks.assign(task, {"left": _file("input-x", "input")}, {}, 3.0)
    with pytest.raises(InvalidArgument, match="not an input"):
        tasks.assign(task, {"right": _file("output-x", "output")}, {}, 3.0)
    with pytest.raises(FailedPrecondition, match="already been written"):
        tasks.assign(task, {}, {"result": _file("output-x", "output", cmac=bytes(16))}, 3.0)
    with pytest.raises(InvalidArgument, match="nothing to assign"):
        tasks.assign(task, {}, {}, 3.0)
    with pytest.raises(FailedPrecondition, match="while the task is Created"):
        tasks.assign(_assigned(), {"left": _file("input-x", "input")}, {}, 3.0)


def test_approval_sequence() -> None:
    """Approvals accumulate (idempotently); the last participant's makes the task Approved."""
    task = _assigned()
    task = tasks.approve(task, "alice", 3.0)
    task = tasks.approve(task, "alice", 3.0)
    assert task.approved_users == ("alice",) and task.status is S.DATA_ASSIGNED
    task = tasks.approve(tasks.approve(task, "bob", 4.0), "fred", 5.0)
    assert task.status is S.APPROVED and task.approved_users == ("alice", "bob", "fred")


def test_approve_rejections() -> None:
    """Approval before the data is complete, or after staging, is a precondition failure."""
    with pytest.raises(FailedPrecondition, match="not yet fully assigned"):
        tasks.approve(_task(), "alice", 2.0)
    staged = dataclasses.replace(_assigned(), status=S.STAGED)
    with pytest.raises(FailedPrecondition, match="approval is over"):
        tasks.approve(staged, "alice", 2.0)


def test_stage_needs_approved() -> None:
    """Only an Approved task can be staged."""
    with pytest.raises(FailedPrecondition, match="only an Approved task"):
        tasks.stage(_assigned(), 3.0)
    approved = dataclasses.replace(_assigned(), status=S.APPROVED)
    assert tasks.stage(approved, 3.0).status is S.STAGED


@pytest.mark.parametrize("status", [s for s in S if not s.terminal])
def test_cancel_from_every_live_status(status: TaskStatus) -> None:
    """Every live status may be canceled; the result says so."""
    task = tasks.cancel(dataclasses.replace(_task(), status=status), 3.0)
    assert task.status is S.CANCELED and task.result is not None and not task.result.ok


@pytest.mark.parametrize("status", [s for s in S if s.terminal])
def test_cancel_refused_once_ended(status: TaskStatus) -> None:
    """Finished, Failed and Canceled tasks cannot be canceled."""
    with pytest.raises(FailedPrecondition, match="already ended"):
        tasks.cancel(dataclasses.replace(_task(), status=status), 3.0)


def test_transitions_follow_the_legal_table() -> None:
    """A move outside records.LEGAL_TRANSITIONS is refused even if a step asked for it."""
    assert S.STAGED not in LEGAL_TRANSITIONS[S.DATA_ASSIGNED]
    with pytest.raises(FailedPrecondition, match="cannot become"):
        tasks._move(_assigned(), S.STAGED, 3.0)


def test_public_function_owner_is_not_a_participant() -> None:
    """The owner of a public function is no participant."""
    assert "fred" not in _task(function=dataclasses.replace(spec(), owner="fred")).participants
