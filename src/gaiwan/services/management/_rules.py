"""Resource authorization of management (spec §6): who may see, change and use which record.

Every rule is a pure predicate over the caller and records, kept apart from the task state
machine's preconditions (wrong status is not a permission question). The predicates mirror the
decisions the Cedar policy set will take over (user_access_function, user_access_data,
user_access_task, task_access_data), so that move replaces this module and nothing else.

Allowlists match a caller by user id or by role attribute (e.g. `bank_a` of `DataOwner-bank_a`),
consistently in every call; Teaclave matched the attribute in CreateTask and the id elsewhere.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from ...errors import PermissionDenied
from ...records import DataFile, Function, Task
from ...roles import Role


@dataclass(frozen=True)
class Caller:
    """The authenticated user the frontend forwards with each call."""

    user_id: str
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role.is_admin


class FunctionView(enum.Enum):
    FULL = "full"
    REDACTED = "redacted"  # payload and allowlist blanked
    NONE = "none"


def require(allowed: bool, what: str) -> None:
    """Turns a denied decision into the one error callers see; `what` names the action only."""
    if not allowed:
        raise PermissionDenied(f"permission denied: {what}")


def allowlisted(user_id: str, attribute: str, allowlist: Iterable[str]) -> bool:
    names = set(allowlist)
    return user_id in names or bool(attribute and attribute in names)


def in_allowlist(caller: Caller, allowlist: Iterable[str]) -> bool:
    return allowlisted(caller.user_id, caller.role.attribute, allowlist)


def function_view(caller: Caller, function: Function) -> FunctionView:
    if function.public or caller.is_admin or caller.user_id == function.owner:
        return FunctionView.FULL
    if in_allowlist(caller, function.user_allowlist):
        return FunctionView.REDACTED
    return FunctionView.NONE


def may_modify_function(caller: Caller, function: Function) -> bool:
    """Update and delete: the owner alone (not even an admin rewrites someone's code)."""
    return caller.user_id == function.owner


def may_disable_function(caller: Caller, function: Function) -> bool:
    return caller.is_admin or caller.user_id == function.owner


def may_list_functions_of(caller: Caller, user_id: str) -> bool:
    return caller.is_admin or caller.user_id == user_id


def may_use_function(caller: Caller, function: Function) -> bool:
    """CreateTask: data owners need the function public or themselves allowlisted."""
    return function.public or caller.is_admin or caller.user_id == function.owner or in_allowlist(
        caller, function.user_allowlist)


def may_read_file(caller: Caller, file: DataFile) -> bool:
    return caller.user_id in file.owners


def may_update_file(caller: Caller, file: DataFile) -> bool:
    """Update makes a new record under a new URL: only a sole owner decides that alone."""
    return file.owners == (caller.user_id,)


def may_register_fusion(caller: Caller, owners: Iterable[str]) -> bool:
    names = set(owners)
    return len(names) >= 2 and caller.user_id in names


def may_assign_file(caller: Caller, file: DataFile, declared_owners: Iterable[str]) -> bool:
    """A file fits a task slot only if its owners are exactly the ones the task declared for it
    (each of whom must then approve) and the caller is one of them."""
    return caller.user_id in file.owners and set(file.owners) == set(declared_owners)


def is_participant(caller: Caller, task: Task) -> bool:
    return caller.user_id in task.participants


def may_view_task(caller: Caller, task: Task) -> bool:
    return caller.is_admin or is_participant(caller, task)


def may_assign_data(caller: Caller, task: Task) -> bool:
    return is_participant(caller, task)


def may_approve_task(caller: Caller, task: Task) -> bool:
    return is_participant(caller, task)


def may_invoke_task(caller: Caller, task: Task) -> bool:
    return caller.user_id == task.creator


def may_cancel_task(caller: Caller, task: Task) -> bool:
    return caller.is_admin or caller.user_id == task.creator
