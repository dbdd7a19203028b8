"""Wall-clock time limits for running modules: one watcher thread for the whole node.

A timer thread per task cost more than running a small module (thread start-up is ~150 µs);
instead one daemon thread sleeps until the earliest deadline and stops that run. It wakes only
when a deadline is due or an earlier one arrives, never on a polling interval.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Deadlines:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._live: set[int] = set()
        self._ids = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    @contextmanager
    def within(self, seconds: float, expire: Callable[[], None]) -> Iterator[None]:
        """Calls `expire` (on the watcher thread) if the block is still running after `seconds`."""
        entry = (time.monotonic() + seconds, next(self._ids), expire)
        with self._wake:
            heapq.heappush(self._heap, entry)
            self._live.add(entry[1])
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="wasm-deadlines", daemon=True)
                self._thread.start()
            if self._heap[0] is entry:
                self._wake.notify()
        try:
            yield
        finally:
            with self._wake:
                self._live.discard(entry[1])
                if len(self._heap) > 2 * len(self._live) + 64:  # drop runs that ended in time
                    self._heap = [item for item in self._heap if item[1] in self._live]
                    heapq.heapify(self._heap)

    def _watch(self) -> None:
        while True:
            with self._wake:
                while self._heap and self._heap[0][1] not in self._live:
                    heapq.heappop(self._heap)  # finished in time
                if not self._heap:
                    self._wake.wait()
                    continue
                due, key, expire = self._heap[0]
                delay = due - time.monotonic()
                if delay > 0:
                    self._wake.wait(delay)
                    continue
                heapq.heappop(self._heap)
                self._live.discard(key)
            expire()
