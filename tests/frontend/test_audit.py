"""Tests of audit entry formatting, keys and the QueryAuditLogs search."""

from __future__ import annotations

import re

from gaiwan.rpc.pb.teaclave_common_pb2 import Entry
from gaiwan.services.frontend import audit

from .conftest import MemoryStorage


def test_user_field_format() -> None:
    """Authenticated calls show Teaclave's `{ user: <id>, role: <role> }`."""
    assert audit.format_user("alice", "DataOwner-bank_a") == "{ user: alice, role: DataOwner-bank_a }"


def test_user_field_empty_when_unauthenticated() -> None:
    """A call that never authenticated has an empty user."""
    assert audit.format_user("", "") == ""


def test_successful_entry() -> None:
    """Success: the bare API name and result true."""
    e = audit.entry(123, b"\x7f\x00\x00\x01", "{ user: a, role: FunctionOwner }", "get_function")
    assert (e.microsecond, e.ip, e.message, e.result) == (123, b"\x7f\x00\x00\x01", "get_function", True)


def test_failed_entry_has_error_suffix() -> None:
    """Failure: `<api>:<error message>` and result false."""
    e = audit.entry(1, b"", "", "get_task", "authentication failed")
    assert (e.message, e.result) == ("get_task:authentication failed", False)


def test_key_is_time_ordered_and_unique() -> None:
    """Keys are audit/<20-digit µs>-<8 hex>, sortable by time, distinct within one µs."""
    k = audit.key(1_700_000_000_000_000)
    assert re.fullmatch(rb"audit/\d{20}-[0-9a-f]{8}", k)
    assert audit.key(9) < audit.key(10) < audit.key(10**15)
    assert audit.key(5) != audit.key(5)


def _fill(storage: MemoryStorage, messages: list[str]) -> None:
    for i, message in enumerate(messages):
        e = Entry(microsecond=1000 + i, message=message, result=True)
        storage.transact(writes={audit.key(1000 + i): e.SerializeToString()})


def test_query_newest_first_with_filter_and_limit(storage: MemoryStorage) -> None:
    """Matching entries come back newest first, at most `limit`."""
    _fill(storage, ["get_task", "create_task", "get_function", "get_task:permission denied", "get_task"])
    found = audit.query(storage, "task", 3)
    assert [e.microsecond for e in found] == [1004, 1003, 1001]


def test_empty_query_matches_all(storage: MemoryStorage) -> None:
    """An empty query returns every entry (up to the limit)."""
    _fill(storage, ["a", "b", "c"])
    assert [e.message for e in audit.query(storage, "", 10)] == ["c", "b", "a"]


def test_query_pages_through_many_entries(storage: MemoryStorage) -> None:
    """A rare message deep in the log is found across scan pages."""
    _fill(storage, ["needle"] + ["hay"] * 1200)
    found = audit.query(storage, "needle", 5)
    assert [e.microsecond for e in found] == [1000]


def test_zero_limit_means_default_and_huge_limit_is_capped() -> None:
    """limit 0 gives the default; an enormous limit is capped."""
    assert audit.effective_limit(0) == audit.DEFAULT_LIMIT
    assert audit.effective_limit(7) == 7
    assert audit.effective_limit(2**63) == audit.MAX_LIMIT


def test_zero_limit_returns_default_count(storage: MemoryStorage) -> None:
    """QueryAuditLogs with limit 0 returns up to the default number of entries."""
    _fill(storage, ["x"] * (audit.DEFAULT_LIMIT + 5))
    assert len(audit.query(storage, "", 0)) == audit.DEFAULT_LIMIT
