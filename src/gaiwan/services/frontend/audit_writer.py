"""Writes audit entries in the background, so auditing adds no latency to a call.

A call hands its entry to a bounded in-memory queue and returns; one thread owned by the
service runtime writes whatever has accumulated in one storage transaction. After the first
entry arrives it lingers briefly (default 50 ms) for more, so a client's create, invoke and wait
cost storage one write instead of three: audit writes share the CPU with the calls they record.
Under overload the queue fills and callers wait briefly for room (back-pressure) before an entry
is dropped and the loss logged: a silently unbounded queue would trade the service's memory for
its audit log.

`flush()` writes everything queued so far before returning; QueryAuditLogs calls it so an
administrator sees every call that completed before the query. `close()` (on stop) flushes and
switches to writing synchronously, for calls still finishing during the server's grace period.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Protocol

from ...errors import GaiwanError
from ...logs import Logger
from ...rpc.pb.teaclave_common_pb2 import Entry


class AuditSink(Protocol):
    def transact(self, conditions: Mapping[bytes, int] | None = None,
                 writes: Mapping[bytes, bytes | None] | None = None) -> list[int] | None: ...


class AuditWriter:
    def __init__(self, sink: AuditSink, log: Logger, capacity: int = 10_000,
                 batch_size: int = 256, room_wait_s: float = 1.0,
                 retry_delays_s: tuple[float, ...] = (0.05, 0.5), linger_s: float = 0.05) -> None:
        self._sink = sink
        self._log = log
        self._capacity = capacity
        self._batch_size = batch_size
        self._room_wait_s = room_wait_s
        self._retry_delays_s = retry_delays_s
        self._linger_s = linger_s
        self._items: deque[tuple[bytes, bytes]] = deque()
        self._cond = threading.Condition()
        # Held while a batch is taken and written, so flush() returns only after every entry
        # queued before it is in storage (not merely taken by the thread).
        self._write_lock = threading.Lock()
        self._closed = False
        self.dropped = 0

    def record(self, key: bytes, entry: Entry) -> None:
        item = (key, entry.SerializeToString())
        with self._cond:
            if not self._closed:
                if len(self._items) >= self._capacity:
                    self._cond.wait_for(lambda: len(self._items) < self._capacity,
                                        timeout=self._room_wait_s)
                if len(self._items) >= self._capacity:
                    self.dropped += 1
                    self._log.error("audit queue full, entry dropped", dropped=self.dropped)
                    return
                self._items.append(item)
                # The first entry wakes the writer and a full batch ends its linger; any other
                # would only wake it into lingering on (a thread switch per call for nothing).
                if len(self._items) == 1 or len(self._items) >= self._batch_size:
                    self._cond.notify_all()
                return
        with self._write_lock:
            self._write([item])

    def run(self, stop: threading.Event) -> None:
        """The writer loop; give it to `runtime.spawn`. Returns once `stop` is set (promptly
        after `close()`, which wakes it)."""
        while not stop.is_set() and not self._closed:
            with self._cond:
                if self._cond.wait_for(lambda: bool(self._items) or self._closed, timeout=0.5):
                    self._cond.wait_for(
                        lambda: len(self._items) >= self._batch_size or self._closed,
                        timeout=self._linger_s)
            self._drain()

    def flush(self) -> None:
        self._drain()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._drain()

    def pending(self) -> int:
        with self._cond:
            return len(self._items)

    def _drain(self) -> None:
        with self._write_lock:
            while True:
                with self._cond:
                    n = min(self._batch_size, len(self._items))
                    batch = [self._items.popleft() for _ in range(n)]
                    self._cond.notify_all()
                if not batch:
                    return
                self._write(batch)

    def _write(self, batch: list[tuple[bytes, bytes]]) -> None:
        """Writes one batch, retrying briefly; a lasting storage failure loses the batch
        (logged with its size) rather than stopping the frontend."""
        writes: dict[bytes, bytes | None] = dict(batch)
        for delay in (*self._retry_delays_s, None):
            try:
                self._sink.transact(writes=writes)
                return
            except GaiwanError as exc:
                if delay is None:
                    self.dropped += len(batch)
                    self._log.error("audit entries lost", count=len(batch),
                                    status=exc.code.name, dropped=self.dropped)
                    return
                time.sleep(delay)
