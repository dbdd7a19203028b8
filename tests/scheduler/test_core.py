"""Node events: results, cancel, heartbeats and lost nodes."""

from __future__ import annotations

from conftest import LEASE_MS, read_task, set_status

from gaiwan import records
from gaiwan.records import TaskResult, TaskStatus
from gaiwan.services.scheduler._nodes import Capabilities

ECHO = Capabilities(frozenset({"builtin"}), frozenset({"builtin-echo"}), slots=2)


def _run_one(scheduler, stage, node_id="node-a"):
    session = scheduler.connect(node_id, ECHO)
    task_id = stage()
    while scheduler.dispatcher.step():
        pass
    assert task_id in session.assignments
    return session, task_id


def _queue_empty(storage) -> bool:
    return storage.dequeue(records.TASK_QUEUE, 1000, LEASE_MS * 2 / 1000) is None


def test_finish_writes_result_and_acks(scheduler, stage, storage):
    """An Ok result ends the task Finished with it, and the queue item never comes back."""
    session, task_id = _run_one(scheduler, stage)
    scheduler.finish("node-a", task_id, TaskResult(return_value=b"hi", log=("line",)))
    task = read_task(storage, task_id)
    assert task.status == TaskStatus.FINISHED
    assert task.result == TaskResult(return_value=b"hi", log=("line",))
    assert session.free_slots == 2
    assert _queue_empty(storage)


def test_finish_with_error_fails_task(scheduler, stage, storage):
    """An Err result ends the task Failed with its reason."""
    _, task_id = _run_one(scheduler, stage)
    scheduler.finish("node-a", task_id, TaskResult(failure="ValueError: bad"))
    task = read_task(storage, task_id)
    assert task.status == TaskStatus.FAILED and task.result.failure == "ValueError: bad"


def test_result_for_task_canceled_meanwhile_only_acks(scheduler, stage, storage):
    """A task canceled while running stays Canceled when its node reports."""
    _, task_id = _run_one(scheduler, stage)
    set_status(storage, task_id, TaskStatus.CANCELED)
    scheduler.finish("node-a", task_id, TaskResult(return_value=b"late"))
    task = read_task(storage, task_id)
    assert task.status == TaskStatus.CANCELED and task.result is None
    assert _queue_empty(storage)


def test_cancel_running_sends_stop_to_holder(scheduler, stage, storage):
    """CancelRunning pushes StopTask down the holding node's stream; its report ends it Canceled."""
    session, task_id = _run_one(scheduler, stage)
    session._commands.get()  # the assignment
    set_status(storage, task_id, TaskStatus.CANCELED)
    assert scheduler.cancel_running(task_id)
    command = session._commands.get_nowait()
    assert command.stop.task_id == task_id
    scheduler.finish("node-a", task_id, TaskResult(failure="stopped"))
    assert read_task(storage, task_id).status == TaskStatus.CANCELED
    assert not scheduler.cancel_running(task_id)


def test_heartbeat_renews_leases_and_names_unknown_tasks(scheduler, stage, storage, clock):
    """Heartbeats keep a long run leased and tell the node to stop runs the scheduler does not hold."""
    import time

    _, task_id = _run_one(scheduler, stage)
    for _ in range(3):
        time.sleep(LEASE_MS / 2000)  # real time passes so the queue lease would expire unrenewed
        clock.now += LEASE_MS / 2000
        assert scheduler.heartbeat("node-a", [task_id, "task-stray"]) == ["task-stray"]
    assert storage.dequeue(records.TASK_QUEUE, 1000, 0) is None
    assert scheduler.reap() == []
    assert scheduler.heartbeat("node-unknown", ["task-x"]) == ["task-x"]


def test_heartbeat_stops_canceled_task(scheduler, stage, storage):
    """A task canceled without a CancelRunning call is stopped on the next heartbeat."""
    session, task_id = _run_one(scheduler, stage)
    set_status(storage, task_id, TaskStatus.CANCELED)
    assert scheduler.heartbeat("node-a", [task_id]) == [task_id]
    assert task_id not in session.assignments
    assert _queue_empty(storage)


def test_lost_node_task_is_restaged_once_then_failed(scheduler, stage, storage, clock):
    """Stream end re-stages the task for attempt 2; a silent second node ends it Failed."""
    first, task_id = _run_one(scheduler, stage, "node-a")
    scheduler.disconnect(first)
    task = read_task(storage, task_id)
    assert task.status == TaskStatus.STAGED and task.attempt == 1

    second = scheduler.connect("node-b", ECHO)
    while scheduler.dispatcher.step():
        pass
    assert task_id in second.assignments
    assert read_task(storage, task_id).attempt == 2

    clock.now += LEASE_MS / 1000 + 0.001
    assert scheduler.reap() == ["node-b"]
    task = read_task(storage, task_id)
    assert task.status == TaskStatus.FAILED
    assert task.result.failure == "execution node lost"
    assert _queue_empty(storage)


def test_stop_ends_every_node_stream(scheduler):
    """On shutdown each node's command stream ends at once, rather than holding the server's
    grace period open until the node hangs up."""
    sessions = [scheduler.connect(f"node-{n}", ECHO) for n in "ab"]
    scheduler.stop()
    assert all(s.closed and list(s.commands()) == [] for s in sessions)


def test_a_node_leaving_empty_handed_is_no_warning(scheduler, stage, caplog):
    """A node that stops holding no task is news, not trouble; one that took tasks with it, or
    fell silent, is a warning."""
    with caplog.at_level("INFO", logger="gaiwan"):
        scheduler.disconnect(scheduler.connect("node-idle", ECHO))
        busy, _ = _run_one(scheduler, stage, "node-busy")
        scheduler.disconnect(busy)
    levels = {r.getMessage(): r.levelname for r in caplog.records
              if r.getMessage() in ("node left", "node lost")}
    assert levels == {"node left": "INFO", "node lost": "WARNING"}
