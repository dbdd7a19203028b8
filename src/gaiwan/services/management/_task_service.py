"""Task operations over storage: each one authorizes (`_rules`), steps the state machine (`_tasks`)
and writes the result with a compare-and-set on the task's version, retrying on a lost race.

InvokeTask is the one write that spans records: the task's move to Staged, the function's usage
count and the queue entry the scheduler waits on commit together or not at all, so a task is
queued exactly once and a quota is never overrun by racing invocations. Its data items are
conditions of that transaction too: their tags are what the run was authorized on.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

from ...errors import Conflict, FailedPrecondition, GaiwanError, InvalidArgument, ResourceExhausted
from ...logs import Logger
from ...records import (TASK_QUEUE, DataFile, Function, OwnerList, QueuedTask, Task, TaskStatus, data_key,
                        dumps, function_key, new_id, task_key)
from ...storage.client import QueueItem
from . import _tasks as tasks
from ._files import FileService
from ._rules import Caller, Rules
from ._store import MAX_ATTEMPTS, Records, Stored
from ._validation import check_executor, check_ownership, task_arguments

WAIT_CAP_S = 60.0
_LABEL = "task"

CancelRunning = Callable[[str], None]
"""Asks the scheduler to stop a running task; may raise if the scheduler is unreachable."""


def _dedupe(ownership: Sequence[OwnerList]) -> tuple[OwnerList, ...]:
    return tuple(OwnerList(o.data_name, tuple(dict.fromkeys(o.uids))) for o in ownership)


def _unique_names(pairs: Sequence[tuple[str, str]], kind: str) -> None:
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise InvalidArgument(f"an {kind} name is given twice")


class TaskService:
    def __init__(self, records: Records, files: FileService, rules: Rules,
                 cancel_running: CancelRunning, log: Logger,
                 clock: Callable[[], float] = time.time) -> None:
        self._records = records
        self._files = files
        self._rules = rules
        self._cancel_running = cancel_running
        self._log = log
        self._clock = clock

    def create(self, caller: Caller, function_id: str, arguments: str, executor: str,
               inputs: Sequence[OwnerList], outputs: Sequence[OwnerList]) -> Task:
        function = self._records.load(Function, function_key(function_id), "function").record
        self._rules.require_function(caller, function, "user_use_function", "use function")
        if function.disabled:
            raise FailedPrecondition("function is disabled")
        check_executor(function, executor)
        final_arguments = task_arguments(function, arguments)
        inputs_ownership, outputs_ownership = _dedupe(inputs), _dedupe(outputs)
        check_ownership(function.inputs, inputs_ownership, "inputs_ownership")
        check_ownership(function.outputs, outputs_ownership, "outputs_ownership")
        task = tasks.new_task(new_id("task"), caller.user_id, function, final_arguments, executor,
                              inputs_ownership, outputs_ownership, self._clock())
        self._records.create(task_key(task.task_id), task)
        self._log.info("task created", task_id=task.task_id, function_id=function_id,
                       status=task.status.name, user=caller.user_id)
        return task

    def get(self, caller: Caller, task_id: str) -> Task:
        task = self._records.load(Task, task_key(task_id), _LABEL).record
        self._rules.require_task(caller, task, "user_access_task", "get task")
        return task

    def assign(self, caller: Caller, task_id: str, inputs: Sequence[tuple[str, str]],
               outputs: Sequence[tuple[str, str]]) -> Task:
        """inputs/outputs: (data name, data id) pairs, all assigned in one write or none.

        One Authorize call decides the caller's right to assign and each file's fit; the order
        in which refusals are reported is still: not a participant, then the task's state, then
        unknown slots or files, then files that do not fit (a stranger learns nothing more)."""
        _unique_names(inputs, "input")
        _unique_names(outputs, "output")

        def step(task: Task) -> Task:
            slots: dict[str, tuple[DataFile, tuple[str, ...]]] = {}
            found: dict[str, dict[str, DataFile]] = {"input": {}, "output": {}}
            problems: list[GaiwanError] = []
            for kind, pairs in (("input", inputs), ("output", outputs)):
                for name, data_id in pairs:
                    try:
                        declared = tasks.declared_owners(task, name, kind)
                        found[kind][name] = self._files.load(data_id, kind)
                    except GaiwanError as exc:
                        problems.append(exc)
                        continue
                    slots[f"{kind} {name!r}"] = (found[kind][name], declared)

            def precondition() -> None:
                tasks.check_assignable(task)
                if problems:
                    raise problems[0]

            self._rules.require_assign(caller, task, slots, precondition)
            return tasks.assign(task, found["input"], found["output"], self._clock())

        task = self._records.update(Task, task_key(task_id), _LABEL, step)
        self._log.info("data assigned", task_id=task_id, status=task.status.name, user=caller.user_id)
        return task

    def approve(self, caller: Caller, task_id: str) -> Task:
        def step(task: Task) -> Task:
            self._rules.require_task(caller, task, "user_approve_task", "approve task")
            return tasks.approve(task, caller.user_id, self._clock())

        task = self._records.update(Task, task_key(task_id), _LABEL, step)
        self._log.info("task approved", task_id=task_id, status=task.status.name, user=caller.user_id)
        return task

    def invoke(self, caller: Caller, task_id: str) -> Task:
        """One Authorize call decides the creator's right and the run (the task's function and
        each data item); refusals are reported as: not the creator, then the task's and the
        function's state, then what the policies deny the run.

        The questions are asked about the task as invoking makes it (Staged): the records the
        scheduler decides the run on again when it takes the task, so that decision can stand
        there if nothing changed in between (`QueuedTask.run_basis`)."""
        key = task_key(task_id)
        allowed_on: tuple[object, ...] | None = None  # the records the last "allowed" was about
        run_basis = ""
        for attempt in range(MAX_ATTEMPTS):
            fresh = attempt > 0
            try:
                stored = self._records.for_write(Task, key, _LABEL, fresh)
                fn = self._records.find_for_write(Function, function_key(stored.record.function_id), fresh)
                data = self._data_of(stored.record, fresh)
                try:
                    staged = tasks.stage(stored.record, self._clock())
                except FailedPrecondition:
                    staged = stored.record  # refused by preconditions, once the caller may know

                def preconditions() -> None:
                    tasks.stage(stored.record, self._clock())
                    if fn is None:
                        raise FailedPrecondition("the task's function no longer exists")
                    if fn.record.disabled:
                        raise FailedPrecondition("function is disabled")
                    if 0 <= fn.record.usage_quota <= fn.record.current_usage:
                        raise ResourceExhausted("function usage quota reached")
                    if None in data:
                        raise FailedPrecondition("a data item of the task no longer exists")

                # Concurrent invocations of one function race on its usage count; a retry whose
                # records differ only in that count needs no new decision, just the state checks.
                basis = (stored.version, _without_usage(fn), tuple(d and d.version for d in data))
                if basis == allowed_on:
                    preconditions()
                else:
                    run_basis = self._rules.require_invoke(
                        caller, staged, fn.record if fn else None,
                        [d.record for d in data if d is not None], preconditions)
                    allowed_on = basis
                assert fn is not None  # preconditions refused a missing function
            except GaiwanError:
                if fresh:
                    raise
                continue  # decided on remembered records: decide again on fresh ones
            function = fn.record
            used = dataclasses.replace(function, current_usage=function.current_usage + 1)
            files = [d for d in data if d is not None]
            committed = self._records.storage.transact(
                conditions={key: stored.version, fn.key: fn.version, **{d.key: d.version for d in files}},
                writes={key: dumps(staged), fn.key: dumps(used)},
                # The scheduler decides the run again on these records as they are when it
                # takes the task: they come with the item, with no read of their own.
                enqueue=[QueueItem(TASK_QUEUE,
                                   dumps(QueuedTask(task_id, used, tuple(d.record.data_id for d in files),
                                                    caller.user_id, str(caller.role), run_basis)),
                                   read_with=(key, fn.key, *(d.key for d in files)))],
            )
            if committed is not None:
                self._records.remember(Stored(key, staged, committed[0]))
                self._records.remember(Stored(fn.key, used, committed[1]))
                self._log.info("task staged", task_id=task_id, function_id=function.function_id,
                               user=caller.user_id)
                return staged
        raise Conflict("task is changing too fast, try again")

    def _data_of(self, task: Task, fresh: bool) -> list[Stored[DataFile] | None]:
        """The task's data records (None for one that no longer exists), to decide the run on
        and to make conditions of InvokeTask's transaction."""
        ids = sorted(set(task.assigned_inputs.values()) | set(task.assigned_outputs.values()))
        return [self._records.find_for_write(DataFile, data_key(i), fresh) for i in ids]

    def cancel(self, caller: Caller, task_id: str) -> Task:
        before: list[TaskStatus] = []

        def step(task: Task) -> Task:
            self._rules.require_task(caller, task, "user_cancel_task", "cancel task")
            before[:] = [task.status]
            return tasks.cancel(task, self._clock())

        task = self._records.update(Task, task_key(task_id), _LABEL, step)
        self._log.info("task canceled", task_id=task_id, was=before[0].name, user=caller.user_id)
        if before[0] is TaskStatus.RUNNING:
            try:
                self._cancel_running(task_id)
            except Exception as exc:  # noqa: BLE001 - the task stays Canceled either way
                self._log.warning("cannot reach the scheduler to stop a running task",
                                  task_id=task_id, error=type(exc).__name__)
        return task

    def wait(self, caller: Caller, task_id: str, timeout_ms: int) -> Task:
        """The task once it has ended, or as it is when the timeout (capped; 0 = cap) passes."""
        timeout = WAIT_CAP_S if timeout_ms <= 0 else min(timeout_ms / 1000, WAIT_CAP_S)
        deadline = time.monotonic() + timeout
        key = task_key(task_id)
        # A remembered record is good enough to start from: who may see a task never changes
        # after it is created, and a watch on an outdated version returns the current record
        # at once.
        stored = self._records.for_write(Task, key, _LABEL, fresh=False)
        self._rules.require_task(caller, stored.record, "user_access_task", "wait for task")
        while not stored.record.status.terminal:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            stored = self._records.watch(Task, stored, _LABEL, remaining)
        return stored.record


def _without_usage(fn: Stored[Function] | None) -> Function | None:
    return None if fn is None else dataclasses.replace(fn.record, current_usage=0)
