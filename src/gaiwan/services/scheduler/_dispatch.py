"""Placing staged tasks on execution nodes.

The loop sleeps on the registry's condition until a node has a free slot, then long-polls the
`tasks` queue, so a task reaches a node the moment both exist. A queue item the scheduler takes
but cannot place at once is *held*, its lease renewed by the scheduler's lease keeper:
- waiting: some connected node could run it, just not now (no fitting node has a free slot and
  room for the task's memory limit; see `NodeSession.can_take`);
- parked: no connected node could ever run it. Releasing it instead would hand it straight back
  to this loop (a busy loop); parked items are looked at again only when a node bringing new
  capabilities connects.
The scheduler restarting drops held items with their leases; storage redelivers them.

Right before a task is marked Running, the run is decided again (may the task use its function
and data, the questions InvokeTask asked) over the records as they are now: a revoked approval,
a new tag or a changed policy takes effect before the run, and a refused task ends Failed.
InvokeTask's own decision stands without asking the access control service again when it was
made over these very entities (same digest) by the policy set still in force (as the service's
announcements tell; while they do not arrive, the scheduler asks).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
import time
from dataclasses import dataclass, field
from typing import Any

from ... import records
from ...errors import GaiwanError
from ...logs import Logger
from ...records import DataFile, Function, QueuedTask, Task, TaskStatus
from ...roles import Role
from ..access_control.engine import Decision, Query, first_denial
from ..access_control.entities import digest, run_request, user_entity
from ...rpc.pb import gaiwan_scheduler_pb2 as spb
from ...storage.client import Lease
from . import _tasks, wire
from ._nodes import Need, NodeRegistry, NodeSession
from ._tasks import TaskBook

MAX_WAITING = 64
FRESH_S = 0.5  # how old the records a run decision is made on may be
# A long-poll's length: a stopping scheduler waits for the one under way, and an idle one with a
# free slot asks storage this often (a storage call every half second is nothing).
POLL_S = 0.5
ERROR_BACKOFF_S = 1.0


@dataclass
class Held:
    lease: Lease
    task_id: str
    need: Need
    function: Function
    # As they were when the item was taken from the queue (handed out with it): the task (what the
    # run decision reads of it no longer changes once Staged; its status may, and the
    # compare-and-set that marks it Running checks that), the function as stored then (None if
    # deleted since InvokeTask) and the task's data records.
    task: Task
    stored_function: Function | None
    files: dict[str, DataFile]
    queued: QueuedTask
    read_at: float = field(default_factory=time.monotonic)


_DEQUEUE = object()


def _role(text: str) -> Role | None:
    try:
        return Role.parse(text)
    except GaiwanError:
        return None

AuthorizeAll = Callable[[Sequence[Query], list[dict[str, Any]]], list[Decision]]


class Dispatcher:
    def __init__(self, storage: Any, registry: NodeRegistry, tasks: TaskBook, lease_ms: int,
                 authorize_all: AuthorizeAll, log: Logger, poll_s: float = POLL_S,
                 policy_set: Callable[[], str | None] = lambda: None) -> None:
        """policy_set: the fingerprint of the access control service's policy set in force,
        None when not known."""
        self._storage = storage
        self._authorize_all = authorize_all
        self._policy_set = policy_set
        self._registry = registry
        self._tasks = tasks
        self._lease_ms = lease_ms
        self._log = log
        self._poll_s = poll_s
        self._waiting: deque[Held] = deque()
        self._parked: dict[str, Held] = {}

    # ---- the loop ---------------------------------------------------------------------------

    def run(self, stop: Any) -> None:
        cond = self._registry.cond
        while True:
            with cond:
                move = self._next_move()
                while move is None and not stop.is_set():
                    cond.wait()
                    move = self._next_move()
                if stop.is_set():
                    return
            try:
                self._make(move)
            except GaiwanError as exc:  # storage unreachable for a moment: back off, go on
                self._log.warning("dispatch failed", error=type(exc).__name__, reason=exc.message)
                stop.wait(ERROR_BACKOFF_S)

    def step(self) -> bool:
        """One placement or one dequeue, without waiting for a slot; False if there was none to do."""
        with self._registry.cond:
            move = self._next_move()
        if move is None:
            return False
        return self._make(move)

    def _make(self, move: Any) -> bool:
        if move is _DEQUEUE:
            lease = self._storage.dequeue(records.TASK_QUEUE, self._lease_ms, self._poll_s)
            if lease is None:
                return False
            self.consider(lease)
        else:
            self._place(*move)
        return True

    def _next_move(self) -> tuple[Held, NodeSession] | object | None:
        """Called under the lock: place a waiting item, else fetch one if any slot is free."""
        for held in self._waiting:
            node = self._registry.pick(held.need)
            if node is not None:
                self._waiting.remove(held)
                node.reserve(held.task_id, held.lease, held.need)
                return held, node
        if len(self._waiting) < MAX_WAITING and self._registry.any_free():
            return _DEQUEUE
        return None

    # ---- one queue item ---------------------------------------------------------------------

    def consider(self, lease: Lease) -> None:
        try:
            queued = records.loads(QueuedTask, lease.item)
        except (ValueError, KeyError, TypeError):
            self._log.error("malformed queue item dropped", queue_item=lease.item_id)
            self._tasks.ack(lease)
            return
        task_id, function = queued.task_id, queued.function
        current, stored_function, files = self._tasks.read_run(task_id, function.function_id,
                                                               queued.data_ids, lease.rows)
        if current is None:
            self._tasks.apply(task_id, lambda t: None, ack=lease)
            return
        task = current[0]
        if task.status == TaskStatus.RUNNING:
            # Redelivered while marked Running: the scheduler that placed it lost its lease
            # (restart, or a node that stopped heartbeating). Count that run as lost.
            self._stop_stale(task_id)
            stored = self._tasks.lose(task_id, lease)
            if stored is None or stored.status != TaskStatus.STAGED:
                return
            self._log.info("task redelivered", task_id=task_id, attempt=stored.attempt)
            return  # released: it comes back as Staged
        if task.status != TaskStatus.STAGED:
            self._tasks.apply(task_id, lambda t: None, ack=lease)
            self._log.info("skipped queued task", task_id=task_id, status=task.status.name)
            return
        held = Held(lease, task_id, Need(function.executor_type, function.name), function, task,
                    stored_function, files, queued)
        with self._registry.cond:
            runnable = self._registry.could_run(held.need)
            if runnable:
                self._waiting.append(held)
            else:
                self._parked[task_id] = held
        if not runnable:
            self._tasks.apply(task_id, _tasks.note(held.need.describe()))
            self._log.warning("task parked", task_id=task_id, executor_type=held.need.executor_type)

    def _stop_stale(self, task_id: str) -> None:
        with self._registry.cond:
            node = self._registry.holder(task_id)
            if node is not None:
                node.assignments.pop(task_id)
                node.push(spb.SchedulerCommand(stop=spb.StopTask(task_id=task_id, reason="lease lost")))
                self._registry.cond.notify_all()

    def _place(self, held: Held, node: NodeSession) -> None:
        """The slot is reserved (under the lock); now mark the task Running and push it."""
        try:
            denied, decided_by = self._denial(held)
            if denied is not None:
                self._unreserve(node, held.task_id)
                reason = f"permission denied: the task may no longer use its function or data " \
                         f"(decision {denied.decision_id or 'by policy'})"
                self._tasks.apply(held.task_id, _tasks.fail(reason), ack=held.lease)
                self._log.warning("task refused at dispatch", task_id=held.task_id,
                                  decision_id=denied.decision_id)
                return
            stored = self._tasks.apply(held.task_id, _tasks.start, ack=None)
        except GaiwanError:
            self._unreserve(node, held.task_id)
            raise
        if stored is None or stored.status != TaskStatus.RUNNING:
            self._unreserve(node, held.task_id)
            self._tasks.apply(held.task_id, lambda t: None, ack=held.lease)
            return
        command = spb.SchedulerCommand(new_task=self._assignment(stored, held.function, held.files))
        with self._registry.cond:
            placed = node.assignments.get(held.task_id)
            alive = self._registry.get(node.node_id) is node and placed is not None
            if alive:
                assert placed is not None
                placed.attempt = stored.attempt
                node.push(command)
        if alive:
            self._log.info("task dispatched", task_id=held.task_id, node_id=node.node_id,
                           attempt=stored.attempt, run_decision=decided_by)
        else:
            self._tasks.lose(held.task_id, held.lease)

    def _denial(self, held: Held) -> tuple[Decision | None, str]:
        """The run decision over the records as read when the item was dequeued, or read again
        if it waited for a slot since (a disabled function, a new tag or a changed policy since
        InvokeTask counts), and whose it is: InvokeTask's ("invoke's") or asked now."""
        assigned = set(held.task.assigned_inputs.values()) | set(held.task.assigned_outputs.values())
        if time.monotonic() - held.read_at > FRESH_S or not assigned <= set(held.files):
            _, held.stored_function, held.files = self._tasks.read_run(
                held.task_id, held.function.function_id, sorted(assigned))
            held.read_at = time.monotonic()
        queries, entities = run_request(held.task, held.stored_function or held.function,
                                        held.files.values())
        queued = held.queued
        if queued.invoked_by:
            entities.add(user_entity(queued.invoked_by, _role(queued.invoked_as)))
        decided_on = entities.as_list()
        current = self._policy_set()
        if current and queued.run_basis and queued.run_basis == f"{current}:{digest(decided_on)}":
            return None, "invoke's"  # over these very entities, by the set in force
        return first_denial(self._authorize_all(queries, decided_on)), "asked"

    def _unreserve(self, node: NodeSession, task_id: str) -> None:
        with self._registry.cond:
            node.assignments.pop(task_id, None)
            self._registry.cond.notify_all()

    def _assignment(self, task: Task, function: Function,
                    files: dict[str, DataFile]) -> spb.TaskAssignment:
        def specs(assigned: dict[str, str]) -> list[spb.FileSpec]:
            return [wire.file_spec(name, files[data_id])
                    for name, data_id in sorted(assigned.items()) if data_id in files]
        return wire.assignment(task, function, specs(task.assigned_inputs),
                               specs(task.assigned_outputs), self._lease_ms)

    # ---- held items -------------------------------------------------------------------------

    def unpark(self) -> None:
        """A node with new capabilities connected: parked items get another look. Under the lock."""
        for held in self._parked.values():
            self._waiting.append(held)
        self._parked.clear()
        self._registry.cond.notify_all()

    def take_held(self, task_id: str) -> Held | None:
        """Removes a held item (a task canceled before it was placed). Under the lock."""
        for held in self._waiting:
            if held.task_id == task_id:
                self._waiting.remove(held)
                return held
        return self._parked.pop(task_id, None)

    def keep_held(self) -> None:
        """Renews the leases of held items and lets go of those no longer Staged."""
        with self._registry.cond:
            held_items = list(self._waiting) + list(self._parked.values())
        for held in held_items:
            current = self._tasks.read(held.task_id)
            staged = current is not None and current[0].status == TaskStatus.STAGED
            if staged and self._tasks.renew(held.lease, self._lease_ms):
                continue
            with self._registry.cond:
                dropped = self.take_held(held.task_id) is not None
            if dropped and not staged:
                self._tasks.apply(held.task_id, lambda t: None, ack=held.lease)

    def parked_ids(self) -> list[str]:
        with self._registry.cond:
            return sorted(self._parked)

    def waiting_ids(self) -> list[str]:
        with self._registry.cond:
            return [h.task_id for h in self._waiting]
