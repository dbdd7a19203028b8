"""Connected execution nodes: what each can run, what it holds, and its command stream.

Not thread-safe on its own: the scheduler calls every method while holding `NodeRegistry.cond`,
the one lock of the scheduler's in-memory state, whose condition the dispatcher waits on.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from ...rpc.pb import gaiwan_scheduler_pb2 as spb
from ...storage.client import Lease


@dataclass(frozen=True)
class Need:
    """What running a task requires of a node."""

    executor_type: str
    function_name: str

    def describe(self) -> str:
        if self.executor_type == "builtin":
            return f"no execution node offers built-in function {self.function_name}"
        return f"no execution node offers executor {self.executor_type}"


@dataclass(frozen=True)
class Capabilities:
    executors: frozenset[str]
    builtins: frozenset[str]
    slots: int
    memory_bytes: int = 0  # what the node's tasks may take together; 0: not accounted
    task_memory: Mapping[str, int] = field(default_factory=dict)  # per executor kind

    @classmethod
    def from_pb(cls, caps: spb.NodeCapabilities) -> "Capabilities":
        return cls(frozenset(caps.executors), frozenset(caps.builtins), caps.slots,
                   caps.memory_bytes, dict(caps.task_memory_bytes))

    def fits(self, need: Need) -> bool:
        if need.executor_type not in self.executors:
            return False
        return need.executor_type != "builtin" or need.function_name in self.builtins

    def memory_for(self, need: Need) -> int:
        """What a task of this kind reserves on the node while it runs."""
        return self.task_memory.get(need.executor_type, 0) if self.memory_bytes else 0

    def oversized(self) -> list[str]:
        """Executor kinds one task of which would not fit in the node's memory at all."""
        return sorted(kind for kind in self.executors
                      if self.memory_bytes and self.task_memory.get(kind, 0) > self.memory_bytes)


@dataclass
class Assignment:
    """A task placed on a node. `attempt` is 0 while the placement is being written to storage."""

    task_id: str
    lease: Lease
    attempt: int = 0
    stop_reason: str = ""
    memory: int = 0  # reserved on the node until the task ends


class NodeSession:
    """One Subscribe stream of a node. A reconnecting node gets a new session."""

    def __init__(self, node_id: str, caps: Capabilities, now: float) -> None:
        self.node_id = node_id
        self.caps = caps
        self.last_seen = now
        self.assignments: dict[str, Assignment] = {}
        self._commands: queue.SimpleQueue[spb.SchedulerCommand | None] = queue.SimpleQueue()
        self.closed = False

    @property
    def free_slots(self) -> int:
        return self.caps.slots - len(self.assignments)

    @property
    def free_memory(self) -> int:
        return self.caps.memory_bytes - sum(a.memory for a in self.assignments.values())

    def can_take(self, need: Need) -> bool:
        """Offers the executor, has a free slot and, where memory is accounted, room for the
        task's memory limit beside the limits of the tasks it already runs."""
        return (self.free_slots > 0 and self.caps.fits(need)
                and self.caps.memory_for(need) <= self.free_memory)

    def reserve(self, task_id: str, lease: Lease, need: Need) -> None:
        self.assignments[task_id] = Assignment(task_id, lease, memory=self.caps.memory_for(need))

    def push(self, command: spb.SchedulerCommand) -> None:
        self._commands.put(command)

    def close(self) -> None:
        """Ends the stream; safe to call from any thread, any number of times."""
        self.closed = True
        self._commands.put(None)

    def commands(self) -> Iterator[spb.SchedulerCommand]:
        """Blocks for each next command until the session is closed."""
        while True:
            command = self._commands.get()
            if command is None:
                return
            yield command


@dataclass
class NodeRegistry:
    cond: threading.Condition = field(default_factory=threading.Condition)
    _nodes: dict[str, NodeSession] = field(default_factory=dict)

    def add(self, session: NodeSession) -> tuple[NodeSession | None, bool]:
        """Registers a session; returns the one it replaces and whether it brings new capabilities."""
        new_caps = not any(self._covers(n.caps, session.caps) for n in self._nodes.values())
        old = self._nodes.get(session.node_id)
        self._nodes[session.node_id] = session
        return old, new_caps

    @staticmethod
    def _covers(a: Capabilities, b: Capabilities) -> bool:
        return b.executors <= a.executors and b.builtins <= a.builtins

    def remove(self, session: NodeSession) -> bool:
        if self._nodes.get(session.node_id) is session:
            del self._nodes[session.node_id]
            return True
        return False

    def get(self, node_id: str) -> NodeSession | None:
        return self._nodes.get(node_id)

    def sessions(self) -> list[NodeSession]:
        return list(self._nodes.values())

    def holder(self, task_id: str) -> NodeSession | None:
        for session in self._nodes.values():
            if task_id in session.assignments:
                return session
        return None

    def pick(self, need: Need) -> NodeSession | None:
        """The node that can take the task with the most free slots, then the most free
        memory (spreads load), or None."""
        free = [s for s in self._nodes.values() if s.can_take(need)]
        return max(free, key=lambda s: (s.free_slots, s.free_memory), default=None)

    def could_run(self, need: Need) -> bool:
        return any(s.caps.fits(need) for s in self._nodes.values())

    def any_free(self) -> bool:
        return any(s.free_slots > 0 for s in self._nodes.values())

    def silent_since(self, deadline: float) -> list[NodeSession]:
        return [s for s in self._nodes.values() if s.last_seen < deadline]
