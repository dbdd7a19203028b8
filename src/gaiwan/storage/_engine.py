"""The one small interface both storage engines implement, below sealing and above bytes.

Engines know nothing of sealing, leases or notifications: they offer transactions over a key
space (versioned sealed values), a global sequence, and queue entries with an index of ready
items and one of lease deadlines. All semantics live once, in `Store`, written against `Txn`.
`Engine.run` re-runs the whole function when the engine reports a serialization conflict, so the
function must do nothing but `Txn` calls and pure computation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Row:
    key: bytes
    version: int
    sealed: bytes


@dataclass(frozen=True)
class Entry:
    """A queue item as stored. token_digest is empty while the item waits in its queue."""

    queue: str
    item_id: int
    sealed: bytes
    deliveries: int
    token_digest: bytes
    deadline_ms: int


class Txn(Protocol):
    def get(self, key: bytes) -> Row | None: ...

    def scan(self, prefix: bytes, start_after: bytes, limit: int, reverse: bool) -> list[Row]:
        """Keys with `prefix`, strictly after `start_after` in the scan direction (if not empty)."""
        ...

    def put(self, row: Row) -> None: ...

    def delete(self, key: bytes) -> None: ...

    def next_seq(self) -> int:
        """The next value of the global, persisted, never-reused sequence (versions, item ids)."""
        ...

    def q_put(self, entry: Entry) -> None:
        """Inserts or replaces an entry; it is ready iff its token_digest is empty."""
        ...

    def q_get(self, queue: str, item_id: int) -> Entry | None: ...

    def q_first_ready(self, queue: str) -> Entry | None:
        """The ready entry with the smallest item id (FIFO)."""
        ...

    def q_remove(self, queue: str, item_id: int) -> None: ...

    def q_expired(self, now_ms: int) -> list[Entry]:
        """Leased entries whose deadline is at or before now_ms."""
        ...

    def q_next_deadline(self) -> int | None: ...


class Engine(Protocol):
    def run(self, fn: Callable[[Txn], T], write: bool) -> T:
        """Runs fn in one serializable transaction, committing it if write is true."""
        ...

    def close(self) -> None: ...


def prefix_end(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key starting with prefix; None when unbounded."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])
