"""The builtin executor and builtin-echo."""

from __future__ import annotations

import pytest

from gaiwan import functions
from gaiwan.executors import CancelEvent, FunctionError, TaskContext, default_registry


def _ctx(name: str, arguments: dict[str, str]) -> TaskContext:
    return TaskContext("task-1", name, "builtin", b"", arguments)


def test_echo_returns_message():
    """builtin-echo returns its message argument as the return value."""
    out = default_registry().get("builtin").run(_ctx("builtin-echo", {"message": "Hello, Teaclave!"}),
                                                CancelEvent())
    assert out.return_value == b"Hello, Teaclave!"


def test_echo_without_message_names_the_argument():
    """A missing argument fails with its name."""
    with pytest.raises(FunctionError, match="missing argument: message"):
        default_registry().get("builtin").run(_ctx("builtin-echo", {}), CancelEvent())


def test_unknown_builtin_and_executor_fail():
    """An unknown function name or executor kind is a FunctionError, not a crash."""
    registry = default_registry()
    with pytest.raises(FunctionError, match="no built-in function"):
        registry.get("builtin").run(_ctx("builtin-nope", {}), CancelEvent())
    with pytest.raises(FunctionError, match="not available"):
        registry.get("sgx-nope")


def test_registry_offers_builtins():
    """Node capabilities list the builtin kind and every registered built-in."""
    registry = default_registry()
    assert "builtin" in registry.executor_types()
    assert "builtin-echo" in registry.builtin_names() == functions.names()


def test_cancel_event_runs_callbacks_once():
    """on_set callbacks run when set (or at once if already set), exactly once."""
    event, calls = CancelEvent(), []
    event.on_set(lambda: calls.append("a"))
    event.set()
    event.set()
    event.on_set(lambda: calls.append("b"))
    assert calls == ["a", "b"]
