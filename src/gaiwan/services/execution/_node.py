"""An execution node: holds its Subscribe stream to the scheduler, runs assignments in a pool of
`slots` worker threads, heartbeats its running tasks, and reports each result.

The stream is reconnected with exponential backoff when it drops; the scheduler treats a
reconnected node as new, so tasks still running from before are stopped when the next heartbeat
says the scheduler no longer knows them.
"""

from __future__ import annotations

import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc

from ... import records
from ...executors import CancelEvent, ExecutorRegistry
from ...logs import Logger
from ...rpc.pb import gaiwan_scheduler_pb2 as spb
from ...rpc.pb import gaiwan_scheduler_pb2_grpc as spb_grpc
from ...transport import Transport
from ..scheduler import wire
from ._runner import run_assignment

BACKOFF_S = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
REPORT_RETRIES_S = (0.1, 0.5, 1.0, 2.0, 5.0)


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return 0


class ExecutionNode:
    def __init__(self, channel: grpc.Channel, executors: ExecutorRegistry, slots: int,
                 lease_ms: int, log: Logger, stop: threading.Event,
                 node_id: str | None = None, transport: Transport | None = None,
                 memory_bytes: int | None = None) -> None:
        """memory_bytes: what this node's tasks may take together (None: the host's physical
        memory); the scheduler places no more tasks than their memory limits fit in."""
        self.node_id = node_id or f"node-{uuid.uuid4()}"
        self._stub = spb_grpc.GaiwanSchedulerStub(channel)
        self._executors = executors
        self._transport = transport or Transport()
        self._slots = slots
        self._memory = _physical_memory() if memory_bytes is None else memory_bytes
        self._lease_ms = lease_ms
        self._log = log
        self._stop = stop
        self._pool = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="task")
        self._running: dict[str, CancelEvent] = {}
        self._lock = threading.Lock()
        self._call: Any = None
        self.connected = threading.Event()

    def capabilities(self) -> spb.NodeCapabilities:
        return spb.NodeCapabilities(
            executors=list(self._executors.executor_types()),
            builtins=list(self._executors.builtin_names()),
            slots=self._slots,
            memory_bytes=self._memory,
            task_memory_bytes={e.executor_type: e.task_memory_bytes()
                               for e in self._executors.executors()},
        )

    def start_executors(self) -> None:
        """Prepares each executor before the node subscribes, so the first task is warm (the
        Python executor forks tasks from a template process that takes a second to start). An
        executor that cannot work on this host is left out of the node's capabilities, so
        the scheduler places its tasks elsewhere instead of failing them here."""
        for executor in self._executors.executors():
            if self._memory and executor.task_memory_bytes() > self._memory:
                self._log.error("executor not offered: one task may take more memory than the "
                                "node has", executor_type=executor.executor_type,
                                task_memory_mb=executor.task_memory_bytes() >> 20,
                                node_memory_mb=self._memory >> 20)
                self._executors.remove(executor.executor_type)
                continue
            try:
                executor.start()
            except Exception as exc:  # noqa: BLE001 - any failure means: do not offer it
                self._log.error("executor not offered: it cannot start", error=type(exc).__name__,
                                executor_type=executor.executor_type)
                self._executors.remove(executor.executor_type)

    def running_ids(self) -> list[str]:
        with self._lock:
            return sorted(self._running)

    # ---- loops ----------------------------------------------------------------------------------

    def subscribe_loop(self, stop: threading.Event) -> None:
        attempt = 0
        request = spb.SubscribeRequest(node_id=self.node_id, capabilities=self.capabilities())
        while not stop.is_set():
            call = self._stub.Subscribe(request)
            with self._lock:
                self._call = call
            try:
                call.initial_metadata()  # returns once the scheduler accepted the stream
                if call.is_active():
                    attempt = 0
                    self.connected.set()
                    self._log.info("subscribed", node_id=self.node_id)
                for command in call:
                    self._handle(command)
            except grpc.RpcError as exc:
                if stop.is_set():
                    return
                self._log.warning("scheduler stream failed", code=exc.code().name)
            finally:
                self.connected.clear()
            stop.wait(BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)])
            attempt += 1

    def heartbeat_loop(self, stop: threading.Event) -> None:
        while not stop.wait(self._lease_ms / 3000):
            request = spb.HeartbeatRequest(node_id=self.node_id, running_task_ids=self.running_ids())
            try:
                response = self._stub.Heartbeat(request, timeout=self._lease_ms / 1000)
            except grpc.RpcError as exc:
                self._log.warning("heartbeat failed", code=exc.code().name)
                continue
            for task_id in response.stop_task_ids:
                self.stop_task(task_id, "scheduler no longer holds it")

    def shutdown(self) -> None:
        """Ends the stream and stops every running task (their leases let them run again)."""
        with self._lock:
            call, cancels = self._call, list(self._running.values())
        if call is not None:
            call.cancel()
        for cancel in cancels:
            cancel.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        for executor in self._executors.executors():
            executor.close()

    # ---- commands -------------------------------------------------------------------------------

    def _handle(self, command: spb.SchedulerCommand) -> None:
        kind = command.WhichOneof("command")
        if kind == "new_task":
            self.accept(command.new_task)
        elif kind == "stop":
            self.stop_task(command.stop.task_id, command.stop.reason)

    def accept(self, assignment: spb.TaskAssignment) -> None:
        cancel = CancelEvent()
        with self._lock:
            if assignment.task_id in self._running:
                self._log.warning("duplicate assignment ignored", task_id=assignment.task_id)
                return
            self._running[assignment.task_id] = cancel
        self._log.info("task started", task_id=assignment.task_id, attempt=assignment.attempt,
                       executor_type=assignment.executor_type)
        self._pool.submit(self._run, assignment, cancel)

    def stop_task(self, task_id: str, reason: str) -> None:
        with self._lock:
            cancel = self._running.get(task_id)
        if cancel is not None:
            self._log.info("stopping task", task_id=task_id, why=reason)
            cancel.set()

    def _run(self, assignment: spb.TaskAssignment, cancel: CancelEvent) -> None:
        try:
            result = run_assignment(assignment, cancel, self._executors, self._log, self._transport)
            self._report(assignment.task_id, result)
        finally:
            with self._lock:
                self._running.pop(assignment.task_id, None)

    def _report(self, task_id: str, result: records.TaskResult) -> None:
        # Uploaded outputs are reported even from a failed run: the scheduler records their
        # cmacs so that those output records are never written a second time.
        request = spb.FinishTaskRequest(node_id=self.node_id, task_id=task_id,
                                        result=wire.result_to_pb(result),
                                        output_cmacs=dict(result.tags_map))
        for delay in REPORT_RETRIES_S:
            try:
                self._stub.FinishTask(request, timeout=self._lease_ms / 1000)
                self._log.info("task reported", task_id=task_id, ok=result.ok)
                return
            except grpc.RpcError as exc:
                self._log.warning("report failed", task_id=task_id, code=exc.code().name)
                if self._stop.wait(delay):
                    return
        # The lease runs out on the scheduler's side and the task is run again or failed there.
        self._log.error("result not delivered", task_id=task_id)
