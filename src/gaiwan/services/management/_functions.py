"""Function records: register, read (with allowlist redaction), update, delete, disable, list."""

from __future__ import annotations

import dataclasses

from ...errors import Conflict
from ...logs import Logger
from ...records import Function, function_key, new_id
from ._rules import Caller, FunctionView, Rules
from ._store import MAX_ATTEMPTS, Records, Stored
from ._validation import check_function

_LABEL = "function"


def redacted(function: Function) -> Function:
    """What an allowlisted (but not owning) user may see: no code, no list of other users."""
    return dataclasses.replace(function, payload=b"", user_allowlist=())


class FunctionService:
    def __init__(self, records: Records, rules: Rules, log: Logger) -> None:
        self._records = records
        self._rules = rules
        self._log = log

    def _load(self, function_id: str) -> Stored[Function]:
        return self._records.load(Function, function_key(function_id), _LABEL)

    def register(self, caller: Caller, spec: Function) -> Function:
        """spec carries the caller's definition; id, owner and usage are the platform's."""
        function = dataclasses.replace(
            spec, function_id=new_id("function"), owner=caller.user_id, current_usage=0,
            disabled=False, user_allowlist=tuple(dict.fromkeys(spec.user_allowlist)),
            owner_role=str(caller.role))
        check_function(function)
        self._records.create(function_key(function.function_id), function)
        self._log.info("function registered", function_id=function.function_id,
                       executor_type=function.executor_type, user=caller.user_id)
        return function

    def get(self, caller: Caller, function_id: str) -> Function:
        function = self._load(function_id).record
        view = self._rules.function_view(caller, function)
        return function if view is FunctionView.FULL else redacted(function)

    def usage(self, caller: Caller, function_id: str) -> Function:
        """Usage stats are visible to whoever may see the function."""
        function = self._load(function_id).record
        self._rules.function_view(caller, function, "get function usage stats")
        return function

    def update(self, caller: Caller, function_id: str, spec: Function) -> Function:
        """Replaces the definition in place; id, owner, usage and the disabled flag stay."""

        def step(current: Function) -> Function:
            self._rules.require_function(caller, current, "user_update_function", "update function")
            new = dataclasses.replace(
                spec, function_id=current.function_id, owner=current.owner,
                current_usage=current.current_usage, disabled=current.disabled,
                user_allowlist=tuple(dict.fromkeys(spec.user_allowlist)))
            check_function(new)
            return new

        function = self._records.update(Function, function_key(function_id), _LABEL, step)
        self._log.info("function updated", function_id=function_id, user=caller.user_id)
        return function

    def delete(self, caller: Caller, function_id: str) -> None:
        for _ in range(MAX_ATTEMPTS):
            stored = self._load(function_id)
            self._rules.require_function(caller, stored.record, "user_update_function",
                                         "delete function")
            if self._records.delete(stored):
                self._log.info("function deleted", function_id=function_id, user=caller.user_id)
                return
        raise Conflict("function is changing, try again")

    def disable(self, caller: Caller, function_id: str) -> None:
        def step(current: Function) -> Function:
            self._rules.require_function(caller, current, "user_disable_function", "disable function")
            return dataclasses.replace(current, disabled=True)

        self._records.update(Function, function_key(function_id), _LABEL, step)
        self._log.info("function disabled", function_id=function_id, user=caller.user_id)

    def list(self, caller: Caller, user_id: str) -> tuple[list[str], list[str]]:
        """(registered, allowed) ids for user_id: the functions it owns, and the others that are
        not public and that the policies let it access (its allowlist grants, as in Teaclave),
        so everything listed is what GetFunction shows that user. The user's role is known only
        when users list their own functions, so an admin listing someone else matches by id."""
        user_id = user_id or caller.user_id
        self._rules.require_list_functions(caller, user_id)
        role = caller.role if user_id == caller.user_id else None
        functions = self._records.scan(Function, b"fn/")
        registered = [f.function_id for f in functions if f.owner == user_id]
        others = [f for f in functions if f.owner != user_id and not f.public]
        allowed = [f.function_id for f, ok in zip(others, self._rules.accessible(user_id, role, others)) if ok]
        return registered, allowed
