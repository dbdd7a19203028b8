"""Turning one assignment into a TaskResult."""

from __future__ import annotations

import json

from gaiwan.executors import (CancelEvent, ExecutionOutput, Executor, ExecutorRegistry,
                              TaskContext, default_registry)
from gaiwan.logs import get_logger
from gaiwan.rpc.pb import gaiwan_scheduler_pb2 as spb
from gaiwan.services.execution._runner import run_assignment

LOG = get_logger("execution")


class Chatty(Executor):
    """Logs two lines, returns the argument count."""

    executor_type = "chatty"

    def run(self, task: TaskContext, cancel: CancelEvent) -> ExecutionOutput:
        return ExecutionOutput(str(len(task.arguments)).encode(), ("started", "done"))


class Broken(Executor):
    """Fails like careless function code: the message quotes a host path and an argument."""

    executor_type = "broken"

    def run(self, task: TaskContext, cancel: CancelEvent) -> ExecutionOutput:
        raise ValueError(f"cannot parse {task.arguments['secret']!r} from /srv/gaiwan/tmp/in.csv")


def _assignment(executor_type: str, name: str, arguments: dict[str, str]) -> spb.TaskAssignment:
    return spb.TaskAssignment(task_id="task-1", function_name=name, executor_type=executor_type,
                              function_arguments=json.dumps(arguments))


def test_echo_result_ok():
    """An echo run ends Ok with the message as return value and no log."""
    result = run_assignment(_assignment("builtin", "builtin-echo", {"message": "hi"}),
                            CancelEvent(), default_registry(), LOG)
    assert result.ok and result.return_value == b"hi" and result.log == ()


def test_log_kept_only_with_save_log():
    """The function's log reaches the result only when save_log is "true"."""
    registry = ExecutorRegistry((Chatty(),))
    kept = run_assignment(_assignment("chatty", "f", {"save_log": "true"}), CancelEvent(),
                          registry, LOG)
    dropped = run_assignment(_assignment("chatty", "f", {"save_log": "false"}), CancelEvent(),
                             registry, LOG)
    assert kept.log == ("started", "done")
    assert dropped.log == () and dropped.return_value == b"1"


def test_function_exception_becomes_err_without_secrets():
    """An exception becomes Err "Type: message" with host paths and argument values blanked."""
    registry = ExecutorRegistry((Broken(),))
    result = run_assignment(_assignment("broken", "f", {"secret": "hunter2-value"}),
                            CancelEvent(), registry, LOG)
    assert not result.ok
    assert result.failure.startswith("ValueError: cannot parse")
    assert "hunter2" not in result.failure and "/srv" not in result.failure


def test_builtin_function_exception_becomes_err():
    """A built-in raising an arbitrary exception is reported with its type."""
    from gaiwan.functions import _BY_NAME

    def explode(call):
        raise ZeroDivisionError("division by zero")

    _BY_NAME["builtin-test-explode"] = explode
    try:
        result = run_assignment(_assignment("builtin", "builtin-test-explode", {}), CancelEvent(),
                                default_registry(), LOG)
    finally:
        del _BY_NAME["builtin-test-explode"]
    assert result.failure == "ZeroDivisionError: division by zero"


def test_stopped_run_reports_stopped():
    """A run whose cancel event is set reports Err "stopped"."""
    cancel = CancelEvent()
    cancel.set()
    result = run_assignment(_assignment("builtin", "builtin-echo", {"message": "x"}), cancel,
                            default_registry(), LOG)
    assert result.failure == "stopped"


def test_malformed_arguments_fail_cleanly():
    """Arguments that are not a JSON object end the task Failed, not the worker."""
    assignment = spb.TaskAssignment(task_id="t", function_name="builtin-echo",
                                    executor_type="builtin", function_arguments="[1]")
    result = run_assignment(assignment, CancelEvent(), default_registry(), LOG)
    assert result.failure == "malformed function arguments"
