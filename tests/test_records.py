"""Platform records: the storage codec and the task state machine."""

from __future__ import annotations

import pytest

from gaiwan import records
from gaiwan.records import (CryptoInfo, DataFile, Function, FunctionArgument, FunctionIO, OwnerList,
                            Task, TaskResult, TaskStatus)


def test_records_round_trip_through_the_codec() -> None:
    """Every record type, with bytes, enums, tuples, dicts and optionals, survives dumps/loads."""
    task = Task("task-1", "alice", "function-1", "bob", {"k": "v"}, "builtin",
                inputs_ownership=(OwnerList("in", ("alice", "carol")),), participants=("alice",),
                assigned_inputs={"in": "input-1"}, status=TaskStatus.RUNNING,
                result=TaskResult(b"\x00ok", {"out": bytes(16)}, ("line",)))
    function = Function("function-1", "bob", "f", "d", "python", False, b"\xffpayload",
                        (FunctionArgument("k", "1", False),), (FunctionIO("in", "", True),))
    data = DataFile("input-1", "input", "http://h/f", ("alice",), CryptoInfo("aes-gcm-128", b"k" * 16, b"i" * 12))
    for record in (task, function, data):
        assert records.loads(type(record), records.dumps(record)) == record
    failed = Task("task-2", "a", "f", "o", {}, "builtin", result=TaskResult(failure="boom"))
    assert records.loads(Task, records.dumps(failed)).result == TaskResult(failure="boom")


def test_secrets_are_kept_out_of_reprs() -> None:
    """Keys and payloads never show up when a record is logged or printed."""
    info = CryptoInfo("aes-gcm-128", b"SECRETKEY0123456", b"SECRETIV0123")
    assert "SECRET" not in repr(info)
    assert "payload" not in repr(Function("f", "o", "n", "d", "builtin", True, b"payload-bytes"))


@pytest.mark.parametrize("current,new,legal", [
    (TaskStatus.CREATED, TaskStatus.DATA_ASSIGNED, True),
    (TaskStatus.APPROVED, TaskStatus.STAGED, True),
    (TaskStatus.STAGED, TaskStatus.RUNNING, True),
    (TaskStatus.RUNNING, TaskStatus.FINISHED, True),
    (TaskStatus.RUNNING, TaskStatus.STAGED, True),
    (TaskStatus.CREATED, TaskStatus.RUNNING, False),
    (TaskStatus.DATA_ASSIGNED, TaskStatus.STAGED, False),
    (TaskStatus.FINISHED, TaskStatus.CANCELED, False),
    (TaskStatus.CANCELED, TaskStatus.STAGED, False),
    (TaskStatus.FAILED, TaskStatus.RUNNING, False),
])
def test_legal_transitions(current: TaskStatus, new: TaskStatus, legal: bool) -> None:
    """Only the transitions of the Teaclave task life cycle (plus retry re-staging) are legal."""
    assert records.can_transition(current, new) is legal


def test_terminal_states() -> None:
    """Finished, Canceled and Failed end a task; nothing leaves them."""
    assert {s for s in TaskStatus if s.terminal} == {TaskStatus.FINISHED, TaskStatus.CANCELED,
                                                      TaskStatus.FAILED}
    assert all(not records.LEGAL_TRANSITIONS[s] for s in TaskStatus if s.terminal)
