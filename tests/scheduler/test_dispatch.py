"""Placement of queued tasks: free slots, capabilities, skipped and redelivered tasks."""

from __future__ import annotations

import json

from conftest import read_task, set_status

from gaiwan import records
from gaiwan.records import TaskStatus
from gaiwan.services.scheduler._nodes import Capabilities

ECHO = Capabilities(frozenset({"builtin"}), frozenset({"builtin-echo"}), slots=1)


def _drain(scheduler) -> None:
    while scheduler.dispatcher.step():
        pass


def _new_tasks(session) -> list:
    commands = []
    while not session._commands.empty():
        command = session._commands.get()
        if command is not None and command.WhichOneof("command") == "new_task":
            commands.append(command.new_task)
    return commands


def test_dispatches_only_to_nodes_with_a_free_slot(scheduler, stage, storage):
    """Two one-slot nodes take one task each; the third waits in the queue for a freed slot."""
    a = scheduler.connect("node-a", ECHO)
    b = scheduler.connect("node-b", ECHO)
    ids = [stage(arguments={"message": f"m{i}"}) for i in range(3)]
    _drain(scheduler)
    placed = _new_tasks(a) + _new_tasks(b)
    assert sorted(p.task_id for p in placed) == sorted(ids[:2])
    assert read_task(storage, ids[2]).status == TaskStatus.STAGED
    assert a.free_slots == 0 and b.free_slots == 0

    scheduler.finish("node-a", a_task := next(iter(a.assignments)), records.TaskResult(b"ok"))
    assert read_task(storage, a_task).status == TaskStatus.FINISHED
    _drain(scheduler)
    assert [p.task_id for p in _new_tasks(a)] == [ids[2]]
    assert read_task(storage, ids[2]).status == TaskStatus.RUNNING


def test_a_node_without_memory_for_the_task_is_passed_over(scheduler, stage, storage):
    """Memory limits are reserved per task: a node with free slots but no room left for one more
    task's limit is skipped for a node that has room; built-ins reserve their own amount."""
    roomy = Capabilities(frozenset({"python", "builtin"}), frozenset({"builtin-echo"}), slots=4,
                         memory_bytes=1000, task_memory={"python": 400, "builtin": 100})
    tight = Capabilities(frozenset({"python"}), frozenset(), slots=1, memory_bytes=400,
                         task_memory={"python": 400})
    a = scheduler.connect("node-a", roomy)
    ids = [stage(name=f"f{i}", executor_type="python") for i in range(3)]
    _drain(scheduler)
    assert [p.task_id for p in _new_tasks(a)] == ids[:2]  # 800 of 1000 reserved
    assert read_task(storage, ids[2]).status == TaskStatus.STAGED
    assert (a.free_slots, a.free_memory) == (2, 200)
    echo = stage()  # a built-in's 100 still fits beside them
    _drain(scheduler)
    assert [p.task_id for p in _new_tasks(a)] == [echo]

    b = scheduler.connect("node-b", tight)  # fewer free slots, but room: it takes the task
    _drain(scheduler)
    assert [p.task_id for p in _new_tasks(b)] == [ids[2]]
    assert _new_tasks(a) == []
    scheduler.finish("node-a", ids[0], records.TaskResult(b"ok"))
    assert a.free_memory == 500  # given back with the slot


def test_assignment_carries_function_and_final_arguments(scheduler, stage):
    """The pushed assignment names the function and fills in argument defaults."""
    node = scheduler.connect("node-a", ECHO)
    task_id = stage(arguments={"message": "hello"})
    _drain(scheduler)
    [assignment] = _new_tasks(node)
    assert assignment.task_id == task_id
    assert assignment.function_name == "builtin-echo"
    assert assignment.executor_type == "builtin"
    assert assignment.attempt == 1
    assert json.loads(assignment.function_arguments) == {"message": "hello", "save_log": "false"}


def test_canceled_task_in_queue_is_skipped_and_acked(scheduler, stage, storage):
    """A task canceled after staging is never run, and its queue item is gone."""
    node = scheduler.connect("node-a", ECHO)
    task_id = stage()
    set_status(storage, task_id, TaskStatus.CANCELED)
    _drain(scheduler)
    assert _new_tasks(node) == []
    assert read_task(storage, task_id).status == TaskStatus.CANCELED
    assert storage.dequeue(records.TASK_QUEUE, 1000, 0) is None
    assert node.free_slots == 1


def test_capability_mismatch_parks_task_until_a_fitting_node_connects(scheduler, stage, storage):
    """No node offers the function: the task stays Staged with a reason, then runs on a new node."""
    other = scheduler.connect("node-a", Capabilities(frozenset({"builtin"}), frozenset(), slots=1))
    task_id = stage()
    _drain(scheduler)
    task = read_task(storage, task_id)
    assert task.status == TaskStatus.STAGED
    assert task.status_message == "no execution node offers built-in function builtin-echo"
    assert scheduler.dispatcher.parked_ids() == [task_id]
    assert _new_tasks(other) == []

    fitting = scheduler.connect("node-b", ECHO)
    _drain(scheduler)
    assert [a.task_id for a in _new_tasks(fitting)] == [task_id]
    task = read_task(storage, task_id)
    assert task.status == TaskStatus.RUNNING and task.status_message == ""


def test_unknown_executor_kind_is_reported(scheduler, stage, storage):
    """A payload executor no node has is named in the task's status message."""
    scheduler.connect("node-a", ECHO)
    task_id = stage(name="f", executor_type="python")
    _drain(scheduler)
    assert read_task(storage, task_id).status_message == "no execution node offers executor python"


def test_redelivered_running_task_on_last_attempt_fails(scheduler, stage, storage):
    """After a scheduler restart a task Running for the second time is failed, not re-run."""
    import dataclasses

    task_id = stage()
    found = storage.get(records.task_key(task_id))
    task = dataclasses.replace(records.loads(records.Task, found.value),
                               status=TaskStatus.RUNNING, attempt=2)
    storage.compare_and_set(found.key, found.version, records.dumps(task))
    scheduler.connect("node-a", ECHO)
    _drain(scheduler)
    task = read_task(storage, task_id)
    assert task.status == TaskStatus.FAILED
    assert task.result.failure == "execution node lost"
    assert storage.dequeue(records.TASK_QUEUE, 1000, 0) is None


def test_redelivered_running_task_with_attempt_left_runs_again(scheduler, stage, storage):
    """A task Running once when redelivered is run again as attempt 2."""
    import dataclasses

    task_id = stage()
    found = storage.get(records.task_key(task_id))
    task = dataclasses.replace(records.loads(records.Task, found.value),
                               status=TaskStatus.RUNNING, attempt=1)
    storage.compare_and_set(found.key, found.version, records.dumps(task))
    node = scheduler.connect("node-a", ECHO)
    _drain(scheduler)
    [assignment] = _new_tasks(node)
    assert assignment.attempt == 2
    assert read_task(storage, task_id).status == TaskStatus.RUNNING


def test_records_come_with_the_queue_item(scheduler, stage, storage, monkeypatch):
    """The task and function records ride with the queue item, so placing it reads nothing;
    an item that names no records (queued by an older version) is placed the same way after a
    read."""
    node = scheduler.connect("node-a", Capabilities(frozenset({"builtin"}),
                                                    frozenset({"builtin-echo"}), slots=2))
    reads: list[list[bytes]] = []
    get_many = storage.get_many
    monkeypatch.setattr(storage, "get_many", lambda keys: reads.append(list(keys)) or get_many(keys))
    carried = stage()
    _drain(scheduler)
    assert [p.task_id for p in _new_tasks(node)] == [carried] and reads == []
    older = stage(read_with=False)
    _drain(scheduler)
    assert [p.task_id for p in _new_tasks(node)] == [older]
    assert reads == [[records.task_key(older), records.function_key(read_task(storage, older).function_id)]]
    assert read_task(storage, carried).status == read_task(storage, older).status == TaskStatus.RUNNING
