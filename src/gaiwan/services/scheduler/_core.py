"""The scheduler's state machine over connected nodes, independent of gRPC.

Every event (a node connecting or going away, a heartbeat, a finished task, a cancel) changes
the in-memory registry under its one lock and then writes the task records outside it. A node
is gone when its stream ends or when it stays silent for a whole lease period; its tasks are
then run again once or end Failed, so nothing stays Running forever.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from ...errors import GaiwanError
from ...logs import Logger
from ...records import TaskResult, TaskStatus
from ...rpc.pb import gaiwan_scheduler_pb2 as spb
from . import _tasks
from ._dispatch import POLL_S, AuthorizeAll, Dispatcher
from ._nodes import Capabilities, NodeRegistry, NodeSession
from ._tasks import TaskBook

CANCEL_REASON = "canceled"
STREAM_ENDED = "stream ended"


class Scheduler:
    def __init__(self, storage: Any, lease_ms: int, authorize_all: AuthorizeAll, log: Logger,
                 clock: Callable[[], float] = time.monotonic, poll_s: float = POLL_S,
                 policy_set: Callable[[], str | None] = lambda: None) -> None:
        """authorize_all: the access control service's (or, in tests, the engine's) batch call;
        policy_set: the fingerprint of its policy set in force, None when not known."""
        self.lease_ms = lease_ms
        self.registry = NodeRegistry()
        self.tasks = TaskBook(storage, log)
        self.dispatcher = Dispatcher(storage, self.registry, self.tasks, lease_ms, authorize_all,
                                     log, poll_s, policy_set)
        self._log = log
        self._clock = clock

    # ---- loops (each runs in a runtime-owned thread) -------------------------------------------

    def dispatch_loop(self, stop: Any) -> None:
        self.dispatcher.run(stop)

    def keeper_loop(self, stop: Any) -> None:
        """Every third of a lease: drop silent nodes, renew the leases of held queue items."""
        while not stop.wait(self.lease_ms / 3000):
            try:
                self.reap()
                self.dispatcher.keep_held()
            except GaiwanError as exc:
                self._log.warning("lease keeping failed", error=type(exc).__name__)

    def wake(self) -> None:
        with self.registry.cond:
            self.registry.cond.notify_all()

    def stop(self) -> None:
        """On shutdown: wakes the dispatch loop and ends every node's stream, which the server
        would otherwise wait out for its whole grace period (the nodes reconnect on their own)."""
        self.wake()
        with self.registry.cond:
            sessions = self.registry.sessions()
        for session in sessions:
            session.close()

    # ---- node events ----------------------------------------------------------------------------

    def connect(self, node_id: str, caps: Capabilities) -> NodeSession:
        session = NodeSession(node_id, caps, self._clock())
        with self.registry.cond:
            old, new_caps = self.registry.add(session)
            if new_caps:
                self.dispatcher.unpark()
            self.registry.cond.notify_all()
        self._log.info("node connected", node_id=node_id, slots=caps.slots,
                       executors=",".join(sorted(caps.executors)))
        if old is not None:
            self._drop(old, "node reconnected")
        return session

    def disconnect(self, session: NodeSession) -> None:
        """The session's stream ended."""
        with self.registry.cond:
            removed = self.registry.remove(session)
        if removed:
            self._drop(session, STREAM_ENDED)

    def reap(self) -> list[str]:
        """Drops nodes that have not heartbeated for a lease period; returns their ids."""
        deadline = self._clock() - self.lease_ms / 1000
        with self.registry.cond:
            silent = self.registry.silent_since(deadline)
            for session in silent:
                self.registry.remove(session)
        for session in silent:
            self._drop(session, "heartbeats stopped")
        return [s.node_id for s in silent]

    def _drop(self, session: NodeSession, why: str) -> None:
        with self.registry.cond:
            lost = list(session.assignments.values())
            session.assignments.clear()
            self.registry.cond.notify_all()
        session.close()
        if lost or why != STREAM_ENDED:
            self._log.warning("node lost", node_id=session.node_id, why=why, tasks=len(lost))
        else:  # a node that hung up holding nothing, as every node does when it stops
            self._log.info("node left", node_id=session.node_id)
        for assignment in lost:
            if assignment.stop_reason == CANCEL_REASON:
                self.tasks.apply(assignment.task_id, _tasks.cancel, ack=assignment.lease)
                continue
            stored = self.tasks.lose(assignment.task_id, assignment.lease)
            if stored is not None:
                self._log.info("lost task", task_id=assignment.task_id, status=stored.status.name)

    def heartbeat(self, node_id: str, running: list[str]) -> list[str]:
        """Renews the node's leases; returns the tasks it should stop."""
        with self.registry.cond:
            session = self.registry.get(node_id)
            if session is None:
                return list(running)  # unknown node (scheduler restarted): its runs are void
            session.last_seen = self._clock()
            held = list(session.assignments.values())
        stop = [task_id for task_id in running if task_id not in {a.task_id for a in held}]
        for assignment in held:
            if assignment.attempt == 0:
                continue  # still being placed
            current = self.tasks.read(assignment.task_id)
            status = None if current is None else current[0].status
            if status == TaskStatus.RUNNING and self.tasks.renew(assignment.lease, self.lease_ms):
                continue
            # Canceled, or the lease is gone (its item is someone else's now): stop the run.
            stop.append(assignment.task_id)
            self._release_slot(session, assignment.task_id)
            if status is not None and status.terminal:
                self.tasks.apply(assignment.task_id, lambda t: None, ack=assignment.lease)
        return stop

    def finish(self, node_id: str, task_id: str, result: TaskResult,
               output_cmacs: Mapping[str, bytes] | None = None) -> None:
        """Writes the run's result, the cmacs of the outputs it uploaded, and acks its queue
        item, in one transaction."""
        with self.registry.cond:
            session = self.registry.get(node_id)
            assignment = None if session is None else session.assignments.get(task_id)
        if session is None or assignment is None:
            self._log.info("stale result ignored", task_id=task_id, node_id=node_id)
            return
        if assignment.stop_reason == CANCEL_REASON:
            stored = self.tasks.apply(task_id, _tasks.cancel, ack=assignment.lease,
                                      output_cmacs=output_cmacs)
        else:
            stored = self.tasks.apply(task_id, _tasks.complete(result), ack=assignment.lease,
                                      output_cmacs=output_cmacs)
        self._release_slot(session, task_id)
        self._log.info("task done", task_id=task_id, node_id=node_id,
                       status=stored.status.name if stored else "missing")

    def cancel_running(self, task_id: str) -> bool:
        """Tells the node running the task to stop it; False if no node holds it."""
        with self.registry.cond:
            session = self.registry.holder(task_id)
            if session is None:
                held = self.dispatcher.take_held(task_id)
            else:
                held = None
                session.assignments[task_id].stop_reason = CANCEL_REASON
                session.push(spb.SchedulerCommand(
                    stop=spb.StopTask(task_id=task_id, reason=CANCEL_REASON)))
        if held is not None:
            self.tasks.apply(task_id, lambda t: None, ack=held.lease)
        if session is not None:
            self._log.info("stop sent", task_id=task_id, node_id=session.node_id)
        return session is not None

    def _release_slot(self, session: NodeSession, task_id: str) -> None:
        with self.registry.cond:
            session.assignments.pop(task_id, None)
            self.registry.cond.notify_all()
