"""An execution node and the scheduler over real in-process gRPC: run, report, stop."""

from __future__ import annotations

import dataclasses
import os
import threading
from concurrent import futures

import grpc
import pytest

from gaiwan import records
from gaiwan.executors import CancelEvent, ExecutionOutput, Executor, ExecutorRegistry, TaskContext
from gaiwan.executors import default_registry
from gaiwan.logs import get_logger
from gaiwan.records import Function, Task, TaskStatus
from gaiwan.rpc.interceptors import ServerInterceptor
from gaiwan.rpc.pb import gaiwan_scheduler_pb2 as spb
from gaiwan.rpc.pb import gaiwan_scheduler_pb2_grpc as spb_grpc
from gaiwan.services.execution import ExecutionNode
from gaiwan.services.scheduler import Scheduler, SchedulerServicer
from gaiwan.storage import LocalStorage
from gaiwan.storage._lmdb import LmdbEngine
from gaiwan.storage.store import Store
from tests.support.policies import packaged_engine

LEASE_MS = 900


class Waiter(Executor):
    """Runs until stopped, the way a long function honours its cancel event."""

    executor_type = "waiter"

    def __init__(self) -> None:
        self.started = threading.Event()
        self.ended = threading.Event()

    def run(self, task: TaskContext, cancel: CancelEvent) -> ExecutionOutput:
        self.started.set()
        cancel.wait(30)
        self.ended.set()
        return ExecutionOutput(b"too late")


@pytest.fixture
def platform(tmp_path):
    store = Store(LmdbEngine(tmp_path / "db", 64), os.urandom(32))
    management = LocalStorage(store, role="management")
    scheduler = Scheduler(LocalStorage(store, role="scheduler"), LEASE_MS,
                          packaged_engine().authorize_all, get_logger("scheduler"), poll_s=0.2)
    server = grpc.server(futures.ThreadPoolExecutor(8),
                         interceptors=[ServerInterceptor(get_logger("scheduler"), None)])
    spb_grpc.add_GaiwanSchedulerServicer_to_server(SchedulerServicer(scheduler), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    stop = threading.Event()
    threads = [threading.Thread(target=scheduler.dispatch_loop, args=(stop,), daemon=True),
               threading.Thread(target=scheduler.keeper_loop, args=(stop,), daemon=True)]
    for t in threads:
        t.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    nodes: list[ExecutionNode] = []

    def start_node(registry: ExecutorRegistry, prepare: bool = False,
                   memory_bytes: int | None = None) -> ExecutionNode:
        node = ExecutionNode(channel, registry, slots=2, lease_ms=LEASE_MS,
                             log=get_logger("execution"), stop=stop, memory_bytes=memory_bytes)
        if prepare:
            node.start_executors()
        for loop in (node.subscribe_loop, node.heartbeat_loop):
            threading.Thread(target=loop, args=(stop,), daemon=True).start()
        assert node.connected.wait(5)
        nodes.append(node)
        return node

    yield management, start_node, spb_grpc.GaiwanSchedulerStub(channel)
    stop.set()
    scheduler.wake()
    for node in nodes:
        node.shutdown()
    server.stop(0).wait()
    channel.close()
    for t in threads:
        t.join(5)
    store.close()


def _stage(storage: LocalStorage, name: str, executor_type: str, arguments: dict[str, str]) -> str:
    fn = Function(function_id=records.new_id("function"), owner="u", name=name, description="",
                  executor_type=executor_type, public=True, payload=b"")
    task = Task(task_id=records.new_id("task"), creator="u", function_id=fn.function_id,
                function_owner="u", function_arguments=arguments, executor=executor_type,
                participants=("u",),
                status=TaskStatus.STAGED)
    storage.put(records.function_key(fn.function_id), records.dumps(fn))
    storage.transact(writes={records.task_key(task.task_id): records.dumps(task)},
                     enqueue=[(records.TASK_QUEUE, records.dumps(records.QueuedTask(task.task_id, fn)))])
    return task.task_id


def _wait_for(storage: LocalStorage, task_id: str, done, timeout_s: float = 10.0) -> Task:
    """Watches the task key (no polling) until `done(task)` holds."""
    key = records.task_key(task_id)
    found = storage.get(key)
    while not done(task := records.loads(Task, found.value)):
        version = storage.watch(key, found.version, timeout_s)
        assert version != found.version, f"task stuck in {task.status.name}"
        found = storage.get(key)
    return task


def test_echo_runs_to_finished(platform):
    """A staged echo task is pushed to the node, run, and recorded Finished with its log."""
    management, start_node, _ = platform
    start_node(default_registry())
    task_id = _stage(management, "builtin-echo", "builtin",
                     {"message": "Hello, Teaclave!", "save_log": "true"})
    task = _wait_for(management, task_id, lambda t: t.status.terminal)
    assert task.status == TaskStatus.FINISHED
    assert task.result.return_value == b"Hello, Teaclave!"
    assert task.attempt == 1


def test_cancel_running_stops_only_that_task(platform):
    """CancelRunning over gRPC stops the run on its node; the task stays Canceled."""
    management, start_node, stub = platform
    waiter = Waiter()
    start_node(ExecutorRegistry((waiter,) + tuple(
        default_registry().get(k) for k in default_registry().executor_types())))
    task_id = _stage(management, "long", "waiter", {})
    _wait_for(management, task_id, lambda t: t.status == TaskStatus.RUNNING)
    assert waiter.started.wait(5)

    found = management.get(records.task_key(task_id))
    canceled = dataclasses.replace(records.loads(Task, found.value), status=TaskStatus.CANCELED)
    management.compare_and_set(found.key, found.version, records.dumps(canceled))
    stub.CancelRunning(spb.CancelRunningRequest(task_id=task_id), timeout=5)
    assert waiter.ended.wait(2)

    echo_id = _stage(management, "builtin-echo", "builtin", {"message": "still here"})
    assert _wait_for(management, echo_id, lambda t: t.status.terminal).status == TaskStatus.FINISHED
    found = management.get(records.task_key(task_id))
    assert records.loads(Task, found.value).status == TaskStatus.CANCELED


def test_rejects_subscribe_without_node_id(platform):
    """A Subscribe without a node id is INVALID_ARGUMENT."""
    _, _, stub = platform
    with pytest.raises(grpc.RpcError) as err:
        next(iter(stub.Subscribe(spb.SubscribeRequest(), timeout=5)))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


class Unstartable(Executor):
    """An executor whose host lacks what it needs (say, namespaces for the Python sandbox)."""

    executor_type = "unstartable"

    def start(self) -> None:
        raise OSError("no sandbox here")

    def run(self, task: TaskContext, cancel: CancelEvent) -> ExecutionOutput:
        raise AssertionError("never placed")


def test_executor_that_cannot_start_is_not_offered(platform):
    """Its tasks wait Staged with a status message saying why; the node serves the rest."""
    management, start_node, _ = platform
    node = start_node(ExecutorRegistry((Unstartable(), default_registry().get("builtin"))),
                      prepare=True)
    assert list(node.capabilities().executors) == ["builtin"]
    task_id = _stage(management, "f", "unstartable", {})
    task = _wait_for(management, task_id, lambda t: bool(t.status_message))
    assert task.status == TaskStatus.STAGED
    assert task.status_message == "no execution node offers executor unstartable"
    echo_id = _stage(management, "builtin-echo", "builtin", {"message": "served"})
    assert _wait_for(management, echo_id, lambda t: t.status.terminal).status == TaskStatus.FINISHED


MiB = 1 << 20


class Heavy(Waiter):
    """A waiter whose every task may take 600 MiB (its executor's memory limit)."""

    executor_type = "heavy"

    def task_memory_bytes(self) -> int:
        return 600 * MiB


def _cancel(management: LocalStorage, stub, task_id: str) -> None:
    found = management.get(records.task_key(task_id))
    canceled = dataclasses.replace(records.loads(Task, found.value), status=TaskStatus.CANCELED)
    management.compare_and_set(found.key, found.version, records.dumps(canceled))
    stub.CancelRunning(spb.CancelRunningRequest(task_id=task_id), timeout=5)


def test_tasks_run_together_only_as_far_as_their_memory_fits(platform):
    """Two slots but memory for one 600 MiB task: the second waits Staged, and runs as soon as
    the first ends and gives its memory back."""
    management, start_node, stub = platform
    node = start_node(ExecutorRegistry((Heavy(),)), memory_bytes=1000 * MiB)
    caps = node.capabilities()
    assert (caps.slots, caps.memory_bytes, dict(caps.task_memory_bytes)) == (
        2, 1000 * MiB, {"heavy": 600 * MiB})
    first, second = (_stage(management, f"h{i}", "heavy", {}) for i in range(2))
    _wait_for(management, first, lambda t: t.status == TaskStatus.RUNNING)
    found = management.get(records.task_key(second))
    assert management.watch(found.key, found.version, 1.0) == found.version  # not placed
    assert records.loads(Task, found.value).status == TaskStatus.STAGED
    _cancel(management, stub, first)
    _wait_for(management, second, lambda t: t.status == TaskStatus.RUNNING)
    _cancel(management, stub, second)


def test_executor_whose_one_task_exceeds_the_node_is_not_offered(platform):
    """A memory limit larger than the node's whole memory: that executor is left out (its tasks
    wait for a node that has room); the rest are offered with their limits."""
    _, start_node, _ = platform
    node = start_node(ExecutorRegistry((Heavy(), default_registry(builtin_memory=64 * MiB)
                                        .get("builtin"))), prepare=True, memory_bytes=512 * MiB)
    caps = node.capabilities()
    assert list(caps.executors) == ["builtin"]
    assert dict(caps.task_memory_bytes) == {"builtin": 64 * MiB}


def test_subscribe_offering_a_task_larger_than_the_node_is_refused(platform):
    """The scheduler refuses capabilities no task could ever be placed under."""
    _, _, stub = platform
    caps = spb.NodeCapabilities(executors=["python"], slots=1, memory_bytes=100 * MiB,
                                task_memory_bytes={"python": 200 * MiB})
    with pytest.raises(grpc.RpcError) as err:
        next(iter(stub.Subscribe(spb.SubscribeRequest(node_id="n", capabilities=caps), timeout=5)))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "python" in err.value.details()
