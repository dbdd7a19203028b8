"""The task state machine of spec §6 as pure functions from one Task record to the next.

Each step checks its preconditions on the record (status, data completeness) and raises
FailedPrecondition or InvalidArgument; who may take the step is decided in `_rules`, and writing
the result (compare-and-set on the stored version) is the caller's job. Every status change goes
through `_move`, which refuses anything outside records.LEGAL_TRANSITIONS.

Decisions where Teaclave left room:
- Data is complete when every name listed in the ownership lists has a file (as in Teaclave):
  an optional input the creator listed must be assigned; one left out is simply absent.
- A task whose ownership lists are empty is DataAssigned at creation.
- A task with a single participant needs no approval: it becomes Approved as soon as its data is
  complete (at creation when it has none), so create -> invoke works. ApproveTask on it is still
  accepted (Teaclave's single-user examples call it) and recorded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from ...errors import FailedPrecondition, InvalidArgument
from ...records import DataFile, Function, OwnerList, Task, TaskResult, TaskStatus, can_transition

S = TaskStatus
CANCELED_REASON = "canceled"


def _move(task: Task, status: TaskStatus, now: float, **changes: object) -> Task:
    if status != task.status and not can_transition(task.status, status):
        raise FailedPrecondition(f"task is {task.status.name}, cannot become {status.name}")
    return dataclasses.replace(task, status=status, updated_at=now, **changes)  # type: ignore[arg-type]


def participants_of(function: Function, creator: str, inputs: tuple[OwnerList, ...],
                    outputs: tuple[OwnerList, ...]) -> tuple[str, ...]:
    people = {creator}
    for owners in inputs + outputs:
        people.update(owners.uids)
    if not function.public:
        people.add(function.owner)
    return tuple(sorted(people))


def data_complete(task: Task) -> bool:
    return ({o.data_name for o in task.inputs_ownership} == task.assigned_inputs.keys()
            and {o.data_name for o in task.outputs_ownership} == task.assigned_outputs.keys())


def all_approved(task: Task) -> bool:
    return len(task.participants) == 1 or set(task.participants) <= set(task.approved_users)


def _advance(task: Task, now: float) -> Task:
    """Moves a task as far as its data and approvals allow (Created -> DataAssigned -> Approved)."""
    if task.status is S.CREATED and data_complete(task):
        task = _move(task, S.APPROVED if all_approved(task) else S.DATA_ASSIGNED, now)
    if task.status is S.DATA_ASSIGNED and all_approved(task):
        task = _move(task, S.APPROVED, now)
    return task


def new_task(task_id: str, creator: str, function: Function, arguments: dict[str, str],
             executor: str, inputs: tuple[OwnerList, ...], outputs: tuple[OwnerList, ...],
             now: float) -> Task:
    """The created task; callers have validated arguments, ownership and executor."""
    task = Task(
        task_id=task_id,
        creator=creator,
        function_id=function.function_id,
        function_owner=function.owner,
        function_arguments=arguments,
        executor=executor,
        inputs_ownership=inputs,
        outputs_ownership=outputs,
        participants=participants_of(function, creator, inputs, outputs),
        created_at=now,
        updated_at=now,
    )
    return _advance(task, now)


def _slot(ownership: tuple[OwnerList, ...], name: str, kind: str) -> OwnerList:
    for owners in ownership:
        if owners.data_name == name:
            return owners
    raise InvalidArgument(f"task has no {kind} named {name!r}")


def declared_owners(task: Task, name: str, kind: str) -> tuple[str, ...]:
    """The owners the task declared for an input or output slot (InvalidArgument if none)."""
    ownership = task.inputs_ownership if kind == "input" else task.outputs_ownership
    return _slot(ownership, name, kind).uids


def check_assignable(task: Task) -> None:
    if task.status is not S.CREATED:
        raise FailedPrecondition(
            f"data can only be assigned while the task is Created (it is {task.status.name})")


def assign(task: Task, inputs: Mapping[str, DataFile], outputs: Mapping[str, DataFile],
           now: float) -> Task:
    """Records the files for the named slots; the caller has checked their owners."""
    check_assignable(task)
    if not inputs and not outputs:
        raise InvalidArgument("nothing to assign")
    for kind, files, assigned in (("input", inputs, task.assigned_inputs),
                                  ("output", outputs, task.assigned_outputs)):
        for name, file in files.items():
            declared_owners(task, name, kind)
            if name in assigned:
                raise FailedPrecondition(f"{kind} {name!r} is already assigned")
            if file.kind != kind:
                raise InvalidArgument(f"{file.data_id} is not an {kind} file")
            if kind == "output" and file.cmac:
                raise FailedPrecondition(f"output {file.data_id} has already been written")
    task = dataclasses.replace(
        task,
        assigned_inputs={**task.assigned_inputs, **{n: f.data_id for n, f in inputs.items()}},
        assigned_outputs={**task.assigned_outputs, **{n: f.data_id for n, f in outputs.items()}},
        updated_at=now,
    )
    return _advance(task, now)


def approve(task: Task, user_id: str, now: float) -> Task:
    """Adds the user's approval (idempotent); the last one makes the task Approved."""
    if task.status is S.CREATED:
        raise FailedPrecondition("task data is not yet fully assigned")
    if task.status not in (S.DATA_ASSIGNED, S.APPROVED):
        raise FailedPrecondition(f"task is {task.status.name}, approval is over")
    if user_id not in task.approved_users:
        task = dataclasses.replace(task, approved_users=task.approved_users + (user_id,), updated_at=now)
    return _advance(task, now)


def stage(task: Task, now: float) -> Task:
    """InvokeTask's transition; quota and function checks are the caller's."""
    if task.status is not S.APPROVED:
        raise FailedPrecondition(f"task is {task.status.name}; only an Approved task can be invoked")
    return _move(task, S.STAGED, now)


def cancel(task: Task, now: float) -> Task:
    if task.status.terminal:
        raise FailedPrecondition(f"task has already ended ({task.status.name})")
    return _move(task, S.CANCELED, now, result=TaskResult(failure=CANCELED_REASON),
                 status_message=CANCELED_REASON)
