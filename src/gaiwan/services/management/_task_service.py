"""Task operations over storage: each one authorizes (`_rules`), steps the state machine (`_tasks`)
and writes the result with a compare-and-set on the task's version, retrying on a lost race.

InvokeTask is the one write that spans records: the task's move to Staged, the function's usage
count and the queue entry the scheduler waits on commit together or not at all, so a task is
queued exactly once and a quota is never overrun by racing invocations.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

from ...errors import (Conflict, FailedPrecondition, GaiwanError, InvalidArgument, NotFound,
                       ResourceExhausted)
from ...logs import Logger
from ...records import (TASK_QUEUE, DataFile, Function, OwnerList, QueuedTask, Task, TaskStatus, dumps,
                        function_key, new_id, task_key)
from . import _rules as rules
from . import _tasks as tasks
from ._files import FileService
from ._rules import Caller
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
    def __init__(self, records: Records, files: FileService, cancel_running: CancelRunning,
                 log: Logger, clock: Callable[[], float] = time.time) -> None:
        self._records = records
        self._files = files
        self._cancel_running = cancel_running
        self._log = log
        self._clock = clock

    def create(self, caller: Caller, function_id: str, arguments: str, executor: str,
               inputs: Sequence[OwnerList], outputs: Sequence[OwnerList]) -> Task:
        function = self._records.load(Function, function_key(function_id), "function").record
        rules.require(rules.may_use_function(caller, function), "use function")
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
        rules.require(rules.may_view_task(caller, task), "get task")
        return task

    def _files_for(self, caller: Caller, task: Task, pairs: Sequence[tuple[str, str]],
                   kind: str) -> dict[str, DataFile]:
        files: dict[str, DataFile] = {}
        for name, data_id in pairs:
            declared = tasks.declared_owners(task, name, kind)
            file = self._files.load(data_id, kind)
            rules.require(rules.may_assign_file(caller, file, declared), f"assign {kind} {name!r}")
            files[name] = file
        return files

    def assign(self, caller: Caller, task_id: str, inputs: Sequence[tuple[str, str]],
               outputs: Sequence[tuple[str, str]]) -> Task:
        """inputs/outputs: (data name, data id) pairs, all assigned in one write or none."""
        _unique_names(inputs, "input")
        _unique_names(outputs, "output")

        def step(task: Task) -> Task:
            rules.require(rules.may_assign_data(caller, task), "assign data")
            tasks.check_assignable(task)
            return tasks.assign(task, self._files_for(caller, task, inputs, "input"),
                                self._files_for(caller, task, outputs, "output"), self._clock())

        task = self._records.update(Task, task_key(task_id), _LABEL, step)
        self._log.info("data assigned", task_id=task_id, status=task.status.name, user=caller.user_id)
        return task

    def approve(self, caller: Caller, task_id: str) -> Task:
        def step(task: Task) -> Task:
            rules.require(rules.may_approve_task(caller, task), "approve task")
            return tasks.approve(task, caller.user_id, self._clock())

        task = self._records.update(Task, task_key(task_id), _LABEL, step)
        self._log.info("task approved", task_id=task_id, status=task.status.name, user=caller.user_id)
        return task

    def invoke(self, caller: Caller, task_id: str) -> Task:
        key = task_key(task_id)
        for attempt in range(MAX_ATTEMPTS):
            fresh = attempt > 0
            try:
                stored = self._records.for_write(Task, key, _LABEL, fresh)
                rules.require(rules.may_invoke_task(caller, stored.record), "invoke task")
                staged = tasks.stage(stored.record, self._clock())
                fn_key = function_key(stored.record.function_id)
                try:
                    fn = self._records.for_write(Function, fn_key, "function", fresh)
                except NotFound:
                    raise FailedPrecondition("the task's function no longer exists") from None
                function = fn.record
                if function.disabled:
                    raise FailedPrecondition("function is disabled")
                if 0 <= function.usage_quota <= function.current_usage:
                    raise ResourceExhausted("function usage quota reached")
            except GaiwanError:
                if fresh:
                    raise
                continue  # decided on remembered records: decide again on fresh ones
            used = dataclasses.replace(function, current_usage=function.current_usage + 1)
            committed = self._records.storage.transact(
                conditions={key: stored.version, fn.key: fn.version},
                writes={key: dumps(staged), fn.key: dumps(used)},
                enqueue=[(TASK_QUEUE, dumps(QueuedTask(task_id, used)))],
            )
            if committed is not None:
                self._records.remember(Stored(key, staged, committed[0]))
                self._records.remember(Stored(fn.key, used, committed[1]))
                self._log.info("task staged", task_id=task_id, function_id=function.function_id,
                               user=caller.user_id)
                return staged
        raise Conflict("task is changing too fast, try again")

    def cancel(self, caller: Caller, task_id: str) -> Task:
        before: list[TaskStatus] = []

        def step(task: Task) -> Task:
            rules.require(rules.may_cancel_task(caller, task), "cancel task")
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
        stored = self._records.load(Task, key, _LABEL)
        rules.require(rules.may_view_task(caller, stored.record), "wait for task")
        while not stored.record.status.terminal:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            stored = self._records.watch(Task, stored, _LABEL, remaining)
        return stored.record
