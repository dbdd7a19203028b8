"""Fixtures: a real LMDB-backed store, seen through the scheduler's namespace, and staged tasks."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from gaiwan import records
from gaiwan.logs import get_logger
from gaiwan.records import Function, FunctionArgument, Task, TaskStatus
from gaiwan.services.scheduler import Scheduler
from gaiwan.storage import LocalStorage
from gaiwan.storage.client import QueueItem
from gaiwan.storage._lmdb import LmdbEngine
from gaiwan.storage.store import Store
from tests.support.policies import packaged_engine

LEASE_MS = 400


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path) -> Iterator[Store]:
    s = Store(LmdbEngine(tmp_path / "db", 64), os.urandom(32))
    yield s
    s.close()


@pytest.fixture
def storage(store: Store) -> LocalStorage:
    return LocalStorage(store, role="scheduler")


@pytest.fixture
def management(store: Store) -> LocalStorage:
    return LocalStorage(store, role="management")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def scheduler(storage: LocalStorage, clock: Clock) -> Scheduler:
    return Scheduler(storage, LEASE_MS, packaged_engine().authorize_all, get_logger("scheduler"),
                     clock=clock, poll_s=0.05)


@pytest.fixture
def stage(management: LocalStorage) -> Callable[..., str]:
    """Registers a function and a task for it, moves it to Staged and queues it, as InvokeTask does
    (read_with False: an item that names no records, as queued before items could)."""

    def make(name: str = "builtin-echo", executor_type: str = "builtin",
             arguments: dict[str, str] | None = None, read_with: bool = True) -> str:
        fn = Function(function_id=records.new_id("function"), owner="alice", name=name,
                      description="", executor_type=executor_type, public=True, payload=b"",
                      arguments=(FunctionArgument("message"), FunctionArgument("save_log", "false")))
        task = Task(task_id=records.new_id("task"), creator="alice", function_id=fn.function_id,
                    function_owner="alice", function_arguments=arguments or {"message": "hi"},
                    executor="builtin", participants=("alice",), status=TaskStatus.STAGED)
        keys = (records.task_key(task.task_id), records.function_key(fn.function_id))
        management.put(keys[1], records.dumps(fn))
        management.transact(writes={keys[0]: records.dumps(task)}, enqueue=[QueueItem(
            records.TASK_QUEUE, records.dumps(records.QueuedTask(task.task_id, fn)),
            keys if read_with else ())])
        return task.task_id

    return make


def read_task(storage: LocalStorage, task_id: str) -> Task:
    found = storage.get(records.task_key(task_id))
    assert found is not None
    return records.loads(Task, found.value)


def set_status(storage: LocalStorage, task_id: str, status: TaskStatus) -> None:
    import dataclasses

    found = storage.get(records.task_key(task_id))
    assert found is not None
    task = dataclasses.replace(records.loads(Task, found.value), status=status)
    assert storage.compare_and_set(found.key, found.version, records.dumps(task)) is not None
