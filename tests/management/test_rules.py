"""Resource authorization predicates: allowlist matching, function views, file and task access."""

from __future__ import annotations

import dataclasses

import pytest

from gaiwan.errors import PermissionDenied
from gaiwan.records import DataFile, Task
from gaiwan.services.management import _rules as rules
from gaiwan.services.management._rules import FunctionView

from .conftest import ADMIN, AES128, ALICE, BOB, CAROL, FRED, spec

PRIVATE = dataclasses.replace(spec(), owner="fred", public=False, user_allowlist=("alice", "bank_b"))
TASK = Task("task-1", "alice", "function-1", "fred", {}, "builtin", participants=("alice", "bob"))


def _file(*owners: str) -> DataFile:
    return DataFile("input-1", "input", "file:///x", owners, AES128)


def test_allowlist_matches_user_id_or_attribute() -> None:
    """A caller is allowlisted by its user id or by its role attribute, nothing else."""
    assert rules.in_allowlist(ALICE, ["alice"])
    assert rules.in_allowlist(BOB, ["bank_b"])
    assert rules.in_allowlist(CAROL, ["bank_a"])
    assert not rules.in_allowlist(BOB, ["alice", "bank_a"])
    assert not rules.in_allowlist(FRED, [""])


def test_function_views() -> None:
    """Owner and admin see everything, allowlisted users a redacted record, others nothing."""
    assert rules.function_view(FRED, PRIVATE) is FunctionView.FULL
    assert rules.function_view(ADMIN, PRIVATE) is FunctionView.FULL
    assert rules.function_view(ALICE, PRIVATE) is FunctionView.REDACTED
    assert rules.function_view(BOB, PRIVATE) is FunctionView.REDACTED
    assert rules.function_view(CAROL, PRIVATE) is FunctionView.NONE
    assert rules.function_view(CAROL, dataclasses.replace(PRIVATE, public=True)) is FunctionView.FULL


def test_function_modification_rights() -> None:
    """Only the owner updates or deletes; the owner or an admin disables."""
    assert rules.may_modify_function(FRED, PRIVATE)
    assert not rules.may_modify_function(ADMIN, PRIVATE)
    assert rules.may_disable_function(ADMIN, PRIVATE)
    assert not rules.may_disable_function(ALICE, PRIVATE)


def test_function_use_and_listing() -> None:
    """Using a private function needs the allowlist; listing is for oneself or an admin."""
    assert rules.may_use_function(ALICE, PRIVATE)
    assert not rules.may_use_function(CAROL, PRIVATE)
    assert rules.may_list_functions_of(ALICE, "alice")
    assert rules.may_list_functions_of(ADMIN, "alice")
    assert not rules.may_list_functions_of(BOB, "alice")


def test_file_rules() -> None:
    """Owners read, a sole owner updates, fusion needs two owners including the caller."""
    assert rules.may_read_file(ALICE, _file("alice", "bob"))
    assert not rules.may_read_file(CAROL, _file("alice", "bob"))
    assert rules.may_update_file(ALICE, _file("alice"))
    assert not rules.may_update_file(ALICE, _file("alice", "bob"))
    assert rules.may_register_fusion(ALICE, ["alice", "bob"])
    assert not rules.may_register_fusion(ALICE, ["alice", "alice"])
    assert not rules.may_register_fusion(ALICE, ["bob", "carol"])


def test_assign_file_needs_exact_owner_set_including_caller() -> None:
    """A file fits a slot only with exactly the declared owners, and only its owner assigns it."""
    assert rules.may_assign_file(ALICE, _file("alice", "bob"), ["bob", "alice"])
    assert not rules.may_assign_file(ALICE, _file("alice"), ["alice", "bob"])
    assert not rules.may_assign_file(CAROL, _file("alice"), ["alice"])


def test_task_rules() -> None:
    """Participants see, assign and approve; the creator invokes; creator or admin cancels."""
    assert rules.may_view_task(BOB, TASK) and rules.may_view_task(ADMIN, TASK)
    assert not rules.may_view_task(CAROL, TASK)
    assert rules.may_approve_task(BOB, TASK) and not rules.may_approve_task(ADMIN, TASK)
    assert rules.may_invoke_task(ALICE, TASK) and not rules.may_invoke_task(BOB, TASK)
    assert rules.may_cancel_task(ADMIN, TASK) and not rules.may_cancel_task(BOB, TASK)


def test_require_raises_permission_denied() -> None:
    """A denied decision is PERMISSION_DENIED naming the action only."""
    with pytest.raises(PermissionDenied, match="get task"):
        rules.require(False, "get task")
    rules.require(True, "get task")
