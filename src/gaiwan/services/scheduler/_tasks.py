"""The scheduler's writes to task records: each a compare-and-set on the task's version, legal
per records.LEGAL_TRANSITIONS, retried on fresh state when it loses a race (management may
cancel a task at any moment)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ... import records
from ...errors import GaiwanError, Internal
from ...logs import Logger
from ...records import DataFile, Function, Task, TaskResult, TaskStatus
from ...storage.client import Lease, Versioned
from . import _outputs

LOST_REASON = "execution node lost"
MAX_ATTEMPTS = 2

Update = Callable[[Task], "Task | None"]


def _stamp(task: Task, **changes: Any) -> Task:
    return dataclasses.replace(task, updated_at=time.time(), **changes)


def start(task: Task) -> Task | None:
    if task.status != TaskStatus.STAGED:
        return None
    return _stamp(task, status=TaskStatus.RUNNING, attempt=task.attempt + 1, status_message="")


def restage(message: str) -> Update:
    def update(task: Task) -> Task | None:
        if task.status not in (TaskStatus.RUNNING, TaskStatus.STAGED):
            return None
        return _stamp(task, status=TaskStatus.STAGED, status_message=message)
    return update


def note(message: str) -> Update:
    """Keeps a Staged task Staged, telling its users why it waits."""
    def update(task: Task) -> Task | None:
        if task.status != TaskStatus.STAGED or task.status_message == message:
            return None
        return _stamp(task, status_message=message)
    return update


def complete(result: TaskResult) -> Update:
    status = TaskStatus.FINISHED if result.ok else TaskStatus.FAILED

    def update(task: Task) -> Task | None:
        if task.status != TaskStatus.RUNNING:
            return None
        return _stamp(task, status=status, result=result, status_message="")
    return update


def fail(reason: str) -> Update:
    def update(task: Task) -> Task | None:
        if task.status not in (TaskStatus.RUNNING, TaskStatus.STAGED):
            return None
        return _stamp(task, status=TaskStatus.FAILED, result=TaskResult(failure=reason))
    return update


def cancel(task: Task) -> Task | None:
    if task.status != TaskStatus.RUNNING:
        return None
    return _stamp(task, status=TaskStatus.CANCELED, status_message="canceled while running")


_KNOWN_MAX = 4096


class TaskBook:
    """Task reads and transitions for the scheduler.

    The last version the scheduler read or wrote of each live task is remembered, so a
    transition on the dispatch path (Staged -> Running -> Finished) first tries a
    compare-and-set on that version instead of reading the task again: one storage round trip
    instead of two. If anything else changed the task meanwhile, the condition fails and the
    transition re-reads, exactly as without the memory."""

    def __init__(self, storage: Any, log: Logger) -> None:
        self._storage = storage
        self._log = log
        self._known: dict[str, tuple[Task, int]] = {}

    def read(self, task_id: str) -> tuple[Task, int] | None:
        found = self._storage.get(records.task_key(task_id))
        current = None if found is None else (records.loads(Task, found.value), int(found.version))
        self._remember(task_id, current)
        return current

    def read_run(self, task_id: str, function_id: str, data_ids: Iterable[str],
                 rows: Mapping[bytes, Versioned | None] | None = None,
                 ) -> tuple[tuple[Task, int] | None, Function | None, dict[str, DataFile]]:
        """The task, its function and its data records: those `rows` (read with the queue
        item) hold, else read in one round trip."""
        ids = list(data_ids)
        keys = [records.task_key(task_id), records.function_key(function_id),
                *(records.data_key(i) for i in ids)]
        if rows is not None and all(key in rows for key in keys):
            found = [rows[key] for key in keys]
        else:
            found = self._storage.get_many(keys)
        task = None if found[0] is None else (records.loads(Task, found[0].value), int(found[0].version))
        self._remember(task_id, task)
        function = None if found[1] is None else records.loads(Function, found[1].value)
        files = {i: records.loads(DataFile, f.value) for i, f in zip(ids, found[2:]) if f is not None}
        return task, function, files

    def _remember(self, task_id: str, current: tuple[Task, int] | None) -> None:
        if current is None or current[0].status.terminal:
            self._known.pop(task_id, None)
            return
        if len(self._known) >= _KNOWN_MAX:
            self._known.pop(next(iter(self._known)))
        self._known[task_id] = current

    def _version(self, key: bytes) -> int:
        found = self._storage.get(key)
        return 0 if found is None else int(found.version)

    def read_record(self, cls: type[Any], key: bytes) -> Any | None:
        found = self._storage.get(key)
        return None if found is None else records.loads(cls, found.value)

    def apply(self, task_id: str, update: Update, ack: Lease | None = None,
              retries: int = 8, output_cmacs: Mapping[str, bytes] | None = None) -> Task | None:
        """Writes update(task) (and acks `ack`) in one transaction; an update that returns None
        writes nothing but still acks. `output_cmacs` (output name -> cmac) are written into
        the outputs' records in the same transaction (see `_outputs`). Returns the task as
        stored afterwards, None if missing."""
        key = records.task_key(task_id)
        for attempt in range(retries):
            current = self._known.pop(task_id, None) if attempt == 0 else None
            if current is None:
                current = self.read(task_id)
            if current is None:
                self.ack(ack)
                return None
            task, version = current
            conditions: dict[bytes, int] = {key: version}
            writes: dict[bytes, bytes] = {}
            new = update(task)
            if new is not None and output_cmacs:
                new = self._record_outputs(task, new, output_cmacs, conditions, writes)
            if new is not None and not records.can_transition(task.status, new.status):
                raise Internal(f"illegal task transition {task.status.name} -> {new.status.name}")
            if new is None and ack is None:
                return task
            if new is not None:
                writes[key] = records.dumps(new)
            done = self._storage.transact(conditions=conditions, writes=writes,
                                          ack=[ack] if ack else [])
            if done is not None:
                if new is not None:
                    self._remember(task_id, (new, done[list(writes).index(key)]))
                return new or task
            if ack is not None and self._version(key) == version:
                ack = None  # the lease went stale (the item was handed out again): write anyway
        raise Internal(f"task {task_id} kept changing under the scheduler")

    def _record_outputs(self, task: Task, new: Task, cmacs: Mapping[str, bytes],
                        conditions: dict[bytes, int], writes: dict[bytes, bytes]) -> Task:
        """Adds the output records' writes (on their versions) or turns `new` into a refusal."""
        stored: dict[str, DataFile | None] = {}
        try:
            ids = _outputs.data_ids(task, cmacs)
            for data_id in ids.values():
                found = self._storage.get(records.data_key(data_id))
                conditions[records.data_key(data_id)] = 0 if found is None else int(found.version)
                stored[data_id] = None if found is None else records.loads(DataFile, found.value)
            files = _outputs.written(cmacs, ids, stored)
        except _outputs.OutputRefused as exc:
            self._log.warning("output cmacs refused", task_id=task.task_id, why=exc.reason)
            return _outputs.settle(new, cmacs, exc.reason)
        for data_id, file in files.items():
            writes[records.data_key(data_id)] = records.dumps(file)
        return _outputs.settle(new, cmacs, None)

    def ack(self, lease: Lease | None) -> None:
        """Acks a queue item on its own (nothing to write); a failed ack is only logged."""
        if lease is None:
            return
        try:
            self._storage.ack(lease)
        except GaiwanError as exc:
            self._log.warning("ack failed", queue_item=lease.item_id, error=type(exc).__name__)

    def release(self, lease: Lease) -> None:
        try:
            self._storage.release(lease)
        except GaiwanError as exc:
            # Stale lease: the item returns when its deadline passes anyway.
            self._log.warning("release failed", queue_item=lease.item_id, error=type(exc).__name__)

    def renew(self, lease: Lease, lease_ms: int) -> bool:
        try:
            return bool(self._storage.renew(lease, lease_ms))
        except GaiwanError:
            return False

    def lose(self, task_id: str, lease: Lease) -> Task | None:
        """A task's node went away: run it again if it has an attempt left, else end it Failed."""
        current = self.read(task_id)
        if current is None:
            self.ack(lease)
            return None
        task = current[0]
        if task.status == TaskStatus.RUNNING and task.attempt >= MAX_ATTEMPTS:
            return self.apply(task_id, fail(LOST_REASON), ack=lease)
        if task.status in (TaskStatus.RUNNING, TaskStatus.STAGED):
            stored = self.apply(task_id, restage(f"{LOST_REASON}; queued again"))
            self.release(lease)
            return stored
        self.ack(lease)
        return task
