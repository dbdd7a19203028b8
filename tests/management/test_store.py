"""Management's typed records and its memory of versions: stale memory never decides anything."""

from __future__ import annotations

import dataclasses

import pytest

from gaiwan.errors import PermissionDenied
from gaiwan.records import Task, TaskStatus, dumps, loads, task_key
from gaiwan.services.management._store import Records, Stored
from gaiwan.storage.local import LocalStorage


class _Counting:
    """The storage API, counting the reads that reach it."""

    def __init__(self, inner: LocalStorage) -> None:
        self._inner = inner
        self.gets = 0

    def get(self, key: bytes):  # type: ignore[no-untyped-def]
        self.gets += 1
        return self._inner.get(key)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._inner, name)


def _task(status: TaskStatus = TaskStatus.CREATED) -> Task:
    return Task("task-1", "alice", "function-1", "bob", {}, "builtin", status=status)


def test_writes_start_from_remembered_records(management_storage: LocalStorage) -> None:
    """After creating a record, an update needs no read: one transaction, no get."""
    storage = _Counting(management_storage)
    records = Records(storage)
    records.create(task_key("task-1"), _task())
    storage.gets = 0
    records.update(Task, task_key("task-1"), "task",
                   lambda t: dataclasses.replace(t, status=TaskStatus.DATA_ASSIGNED))
    assert storage.gets == 0
    assert loads(Task, management_storage.get(task_key("task-1")).value).status == TaskStatus.DATA_ASSIGNED


def test_stale_memory_fails_the_condition_and_retries_fresh(management_storage: LocalStorage) -> None:
    """A change made elsewhere is not overwritten: the write re-reads and applies on top of it."""
    records = Records(management_storage)
    key = task_key("task-1")
    records.create(key, _task())
    current = management_storage.get(key)
    elsewhere = dataclasses.replace(_task(), approved_users=("bob",))
    assert management_storage.compare_and_set(key, current.version, dumps(elsewhere)) is not None
    records.update(Task, key, "task", lambda t: dataclasses.replace(t, participants=("carol",)))
    stored = loads(Task, management_storage.get(key).value)
    assert stored.approved_users == ("bob",) and stored.participants == ("carol",)


def test_refusal_on_stale_memory_is_checked_again(management_storage: LocalStorage) -> None:
    """A step that refuses on the remembered record is decided again on the fresh one."""
    records = Records(management_storage)
    key = task_key("task-1")
    records.create(key, _task())
    current = management_storage.get(key)
    management_storage.compare_and_set(key, current.version, dumps(_task(TaskStatus.APPROVED)))

    def only_when_approved(task: Task) -> Task:
        if task.status != TaskStatus.APPROVED:
            raise PermissionDenied("not approved")
        return dataclasses.replace(task, status=TaskStatus.STAGED)

    assert records.update(Task, key, "task", only_when_approved).status == TaskStatus.STAGED
    with pytest.raises(PermissionDenied):
        records.update(Task, key, "task", only_when_approved)  # fresh and still refused


def test_remembered_type_must_match(management_storage: LocalStorage) -> None:
    """A remembered record of another type under the key is never handed out as this type."""
    records = Records(management_storage)
    key = task_key("task-1")
    records.create(key, _task())
    records.remember(Stored(key, "not a task", 1))
    assert isinstance(records.for_write(Task, key, "task", fresh=False).record, Task)
