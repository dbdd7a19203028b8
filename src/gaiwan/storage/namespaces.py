"""Which caller role may touch which keys and queues: the table of docs/internals.md, as data.

Each service sees only its own part of the platform's state, so a compromised service cannot read
or forge another's records (authentication's password hashes, say). Conditions and watches count
as access too: they reveal whether a key exists and when it changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..errors import PermissionDenied

ENQUEUE = "enqueue"
CONSUME = "consume"  # dequeue, renew, release, ack


@dataclass(frozen=True)
class Namespace:
    role: str
    prefixes: tuple[bytes, ...]
    queues: dict[str, frozenset[str]] = field(default_factory=dict)

    def check_key(self, key: bytes) -> None:
        if not any(key.startswith(p) for p in self.prefixes):
            raise PermissionDenied(f"role {self.role!r} may not access key {key[:64]!r}")

    def check_prefix(self, prefix: bytes) -> None:
        """A scan must stay inside one allowed prefix (an empty prefix would cover everything)."""
        if not any(prefix.startswith(p) for p in self.prefixes):
            raise PermissionDenied(f"role {self.role!r} may not scan prefix {prefix[:64]!r}")

    def check_queue(self, queue: str, operation: str) -> None:
        if operation not in self.queues.get(queue, frozenset()):
            raise PermissionDenied(f"role {self.role!r} may not {operation} on queue {queue[:64]!r}")


_TASK_STATE = (b"fn/", b"data/", b"task/")

NAMESPACES: dict[str, Namespace] = {
    ns.role: ns
    for ns in (
        Namespace("authentication", (b"auth/",)),
        Namespace("frontend", (b"audit/",)),
        Namespace("management", _TASK_STATE, {"tasks": frozenset({ENQUEUE})}),
        Namespace("scheduler", _TASK_STATE, {"tasks": frozenset({ENQUEUE, CONSUME})}),
        # Fusion files (gaiwan.transport._fusion): sealed outputs of several owners, shared by
        # every execution node. Nodes see nothing else: task records reach them from the scheduler.
        Namespace("execution", (b"fusion/",)),
    )
}


def check_read_with(enqueuer: Namespace, queue: str, keys: Iterable[bytes],
                    table: Mapping[str, Namespace] = NAMESPACES) -> None:
    """Keys named to be read with a queue item: the enqueuer must be allowed to read them, and
    so must every role that may consume the queue, since it gets them without asking."""
    consumers = [ns for ns in table.values() if CONSUME in ns.queues.get(queue, frozenset())]
    for key in keys:
        enqueuer.check_key(key)
        for ns in consumers:
            ns.check_key(key)


def namespace_for(role: str | None) -> Namespace:
    ns = NAMESPACES.get(role or "")
    if ns is None:
        raise PermissionDenied(f"role {role!r} has no storage namespace")
    return ns
