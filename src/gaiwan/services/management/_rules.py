"""Resource authorization of management (spec §6): every decision is the access control
service's, asked here and nowhere else in management.

Each method builds the entities one call needs once and asks all of that call's questions in one
Authorize round trip; the answer comes from the Cedar policy set (packaged `resources.cedar` plus
the operator's files). What stays in management is the task state machine's preconditions
(wrong status is not a permission question) and input validation.

A denial raises PermissionDenied naming the action only, with the reference under which the
access control service audited the deciding policies: the caller learns what was refused, not
who else is involved or which operator rule (whose id may name other parties) refused it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ...errors import PermissionDenied
from ...records import DataFile, Function, Task
from ...roles import Role
from ..access_control import Decision, Entities, Query, user_entity, user_uid
from ..access_control.engine import Authorizer, first_denial
from ..access_control.entities import (data_entity, data_uid, function_entity, function_uid,
                                       run_basis, run_request, task_entity, task_uid)


@dataclass(frozen=True)
class Caller:
    """The authenticated user the frontend forwards with each call."""

    user_id: str
    role: Role


class FunctionView(enum.Enum):
    FULL = "full"
    REDACTED = "redacted"  # payload and allowlist blanked


def require(decision: Decision, what: str) -> None:
    """Turns a denied decision into the one error callers see; `what` names the action only."""
    if not decision.allowed:
        ref = f" (decision {decision.decision_id})" if decision.decision_id else ""
        raise PermissionDenied(f"permission denied: {what}{ref}")


class Rules:
    def __init__(self, authorizer: Authorizer) -> None:
        self._authorizer = authorizer

    def _ask(self, entities: Entities, *queries: Query) -> list[Decision]:
        return self._authorizer.authorize_all(list(queries), entities.as_list())

    @staticmethod
    def _with_caller(caller: Caller) -> Entities:
        return Entities().add(user_entity(caller.user_id, caller.role))

    # ---- functions ----------------------------------------------------------------------------

    def function_view(self, caller: Caller, function: Function, what: str = "get function") -> FunctionView:
        """FULL or REDACTED; a caller who may see neither is refused (as `what`)."""
        entities = self._with_caller(caller).add(function_entity(function))
        me, fn = user_uid(caller.user_id), function_uid(function.function_id)
        full, seen = self._ask(entities, Query(me, "user_read_function", fn),
                               Query(me, "user_access_function", fn))
        if full.allowed:
            return FunctionView.FULL
        require(seen, what)
        return FunctionView.REDACTED

    def require_function(self, caller: Caller, function: Function, action: str, what: str) -> None:
        """action: user_use_function, user_update_function or user_disable_function."""
        entities = self._with_caller(caller).add(function_entity(function))
        require(self._ask(entities, Query(user_uid(caller.user_id), action,
                                          function_uid(function.function_id)))[0], what)

    def require_list_functions(self, caller: Caller, user_id: str) -> None:
        entities = self._with_caller(caller).add(user_entity(user_id, None))
        require(self._ask(entities, Query(user_uid(caller.user_id), "user_list_functions",
                                          user_uid(user_id)))[0], "list functions")

    def accessible(self, user_id: str, role: Role | None, functions: Sequence[Function]) -> list[bool]:
        """For each function: may the user access it (what `allowed_functions` lists)? The
        user's role is known only when users list their own functions."""
        if not functions:
            return []
        entities = Entities().add(user_entity(user_id, role))
        for function in functions:
            entities.add(function_entity(function))
        me = user_uid(user_id)
        decisions = self._ask(entities, *(Query(me, "user_access_function",
                                                function_uid(f.function_id)) for f in functions))
        return [d.allowed for d in decisions]

    # ---- data ---------------------------------------------------------------------------------

    def require_data(self, caller: Caller, file: DataFile, action: str, what: str) -> None:
        """action: user_access_data, user_update_data, user_tag_data or user_register_fusion."""
        entities = self._with_caller(caller).add(data_entity(file))
        require(self._ask(entities, Query(user_uid(caller.user_id), action,
                                          data_uid(file.data_id)))[0], what)

    # ---- tasks --------------------------------------------------------------------------------

    def require_task(self, caller: Caller, task: Task, action: str, what: str) -> None:
        """action: user_access_task, user_approve_task, user_invoke_task or user_cancel_task."""
        entities = self._with_caller(caller).add(task_entity(task))
        require(self._ask(entities, Query(user_uid(caller.user_id), action,
                                          task_uid(task.task_id)))[0], what)

    def require_assign(self, caller: Caller, task: Task,
                       slots: Mapping[str, tuple[DataFile, Iterable[str]]],
                       precondition: Callable[[], None]) -> None:
        """AssignData: the caller may assign to the task, and each file fits its slot.
        slots: a label ("input 'left'") -> (the file, the owners the task declared for it).
        precondition runs once the caller is known to be allowed to assign to the task and
        before any file's decision is reported, so only a participant learns the task's state."""
        me = user_uid(caller.user_id)
        entities = self._with_caller(caller).add(task_entity(task))
        queries = [Query(me, "user_assign_task", task_uid(task.task_id))]
        for file, declared in slots.values():
            entities.add(data_entity(file))
            queries.append(Query(me, "user_assign_data", data_uid(file.data_id),
                                 {"slot_owners": list(dict.fromkeys(declared))}))
        decisions = self._ask(entities, *queries)
        require(decisions[0], "assign data")
        precondition()
        for label, decision in zip(slots, decisions[1:]):
            require(decision, f"assign {label}")

    def require_invoke(self, caller: Caller, task: Task, function: Function | None,
                       files: Iterable[DataFile], preconditions: Callable[[], None]) -> str:
        """InvokeTask: the caller may invoke the task, and the task may use its function and
        every data item (spec §6 subset rule). preconditions run once the caller is known to be
        allowed, before the run's decisions are reported; function is None when it is gone
        (preconditions then refuse). Returns the run decision's basis (`entities.run_basis`)."""
        me, task_id = user_uid(caller.user_id), task_uid(task.task_id)
        if function is None:
            queries: list[Query] = []
            entities = Entities().add(task_entity(task))
        else:
            queries, entities = run_request(task, function, files)
        entities.add(user_entity(caller.user_id, caller.role))
        decisions = self._ask(entities, Query(me, "user_invoke_task", task_id), *queries)
        require(decisions[0], "invoke task")
        preconditions()
        denied = first_denial(decisions[1:])
        if denied is not None:
            require(denied, "run task with its function and data")
        return run_basis(decisions[1:], entities.as_list())
