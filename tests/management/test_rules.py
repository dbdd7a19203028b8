"""Management's questions to access control: one Authorize round trip per call, and denials that
name the action (and the audited decision) but nothing about other parties or policies."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest

from gaiwan.errors import FailedPrecondition, PermissionDenied
from gaiwan.records import DataFile, Task
from gaiwan.services.access_control import Decision, Query
from gaiwan.services.management._rules import FunctionView, Rules, require

from .conftest import ADMIN, AES128, ALICE, BOB, CAROL, FRED, spec
from tests.support.policies import packaged_engine

PRIVATE = dataclasses.replace(spec(), function_id="function-1", owner="fred", public=False,
                              user_allowlist=("alice", "bank_b"), owner_role="FunctionOwner")
FILE = DataFile("input-1", "input", "file:///x", ("alice",), AES128)
TASK = Task("task-1", "alice", "function-1", "fred", {}, "builtin", participants=("alice", "bob", "fred"),
            assigned_inputs={"left": "input-1"}, approved_users=("alice", "bob"))


class Counting:
    """The packaged engine, counting the round trips a real client would make."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def authorize_all(self, queries: Sequence[Query], entities: list[dict[str, Any]]) -> list[Decision]:
        self.calls.append([q.action for q in queries])
        return packaged_engine().authorize_all(queries, entities)


@pytest.fixture
def counting() -> Counting:
    return Counting()


@pytest.fixture
def rules(counting: Counting) -> Rules:
    return Rules(counting)


def test_function_view_is_one_round_trip(rules: Rules, counting: Counting) -> None:
    """Full, redacted or denied, decided from one batch of two questions."""
    assert rules.function_view(FRED, PRIVATE) is FunctionView.FULL
    assert rules.function_view(BOB, PRIVATE) is FunctionView.REDACTED
    with pytest.raises(PermissionDenied, match="get function"):
        rules.function_view(CAROL, PRIVATE)
    assert counting.calls == [["user_read_function", "user_access_function"]] * 3


def test_assign_asks_everything_at_once(rules: Rules, counting: Counting) -> None:
    """The task right and every file's fit go in one request; the precondition runs between."""
    ran: list[str] = []
    rules.require_assign(ALICE, TASK, {"input 'left'": (FILE, ("alice",))}, lambda: ran.append("x"))
    assert counting.calls == [["user_assign_task", "user_assign_data"]] and ran == ["x"]


def test_assign_refuses_strangers_before_the_precondition(rules: Rules) -> None:
    """A non-participant is refused before the task's state is looked at."""
    def precondition() -> None:
        raise AssertionError("state checked for a stranger")
    with pytest.raises(PermissionDenied, match="assign data"):
        rules.require_assign(CAROL, TASK, {}, precondition)


def test_assign_names_the_misfitting_slot(rules: Rules) -> None:
    """A file whose owners differ from the slot's is refused naming the slot."""
    with pytest.raises(PermissionDenied, match="assign input 'left'"):
        rules.require_assign(ALICE, TASK, {"input 'left'": (FILE, ("alice", "bob"))}, lambda: None)


def test_invoke_is_one_round_trip(rules: Rules, counting: Counting) -> None:
    """InvokeTask's right and its run (function and each data item) go in one request."""
    approved = dataclasses.replace(TASK, approved_users=("alice", "bob", "fred"))
    rules.require_invoke(ALICE, approved, PRIVATE, [FILE], lambda: None)
    assert counting.calls == [["user_invoke_task", "task_access_function", "task_access_data"]]
    with pytest.raises(PermissionDenied, match="run task"):
        rules.require_invoke(ALICE, TASK, PRIVATE, [FILE], lambda: None)  # fred has not approved


def test_invoke_refuses_non_creators_before_the_preconditions(rules: Rules) -> None:
    """Another participant is refused before the task's state or the run is looked at."""
    def preconditions() -> None:
        raise AssertionError("state checked for a non-creator")
    with pytest.raises(PermissionDenied, match="invoke task"):
        rules.require_invoke(BOB, TASK, PRIVATE, [FILE], preconditions)


def test_invoke_with_a_missing_function_asks_only_the_right(rules: Rules, counting: Counting) -> None:
    """When the function is gone only the caller's right is asked; preconditions then refuse."""
    def preconditions() -> None:
        raise FailedPrecondition("the task's function no longer exists")
    with pytest.raises(FailedPrecondition):
        rules.require_invoke(ALICE, TASK, None, [], preconditions)
    assert counting.calls == [["user_invoke_task"]]


def test_list_functions_self_or_admin(rules: Rules) -> None:
    """Users list themselves; an admin lists anyone; others are refused."""
    rules.require_list_functions(ALICE, "alice")
    rules.require_list_functions(ADMIN, "alice")
    with pytest.raises(PermissionDenied, match="list functions"):
        rules.require_list_functions(BOB, "alice")


def test_denial_quotes_the_decision_id_only() -> None:
    """The message names the action and the audited decision, never the deciding policy."""
    with pytest.raises(PermissionDenied) as info:
        require(Decision(False, ("alice-forbids-function",), (), "d-0123456789ab"), "get input file")
    assert info.value.message == "permission denied: get input file (decision d-0123456789ab)"
    require(Decision(True, ("data-owner-access",)), "get input file")
