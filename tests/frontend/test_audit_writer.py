"""Tests of the background audit writer: batching, flush, shutdown and storage failures."""

from __future__ import annotations

import threading

from gaiwan.logs import get_logger
from gaiwan.rpc.pb.teaclave_common_pb2 import Entry
from gaiwan.services.frontend import audit
from gaiwan.services.frontend.audit_writer import AuditWriter

from .conftest import MemoryStorage

LOG = get_logger("test")


def _entry(i: int) -> Entry:
    return audit.entry(i, b"", "", f"call_{i}")


def test_record_does_not_write_until_drained(storage: MemoryStorage) -> None:
    """Recording only queues; the caller never waits for storage."""
    writer = AuditWriter(storage, LOG)
    writer.record(audit.key(1), _entry(1))
    assert storage.data == {} and writer.pending() == 1


def test_flush_writes_everything_in_batches(storage: MemoryStorage) -> None:
    """flush() writes all queued entries, batch_size per transaction."""
    writer = AuditWriter(storage, LOG, batch_size=10)
    for i in range(25):
        writer.record(audit.key(i), _entry(i))
    writer.flush()
    assert len(storage.data) == 25 and storage.transactions == 3 and writer.pending() == 0


def test_background_thread_writes_and_stops(storage: MemoryStorage) -> None:
    """The run loop drains the queue and returns once stop is set."""
    writer = AuditWriter(storage, LOG)
    stop = threading.Event()
    thread = threading.Thread(target=writer.run, args=(stop,))
    thread.start()
    for i in range(5):
        writer.record(audit.key(i), _entry(i))
    for _ in range(200):
        if len(storage.data) == 5:
            break
        threading.Event().wait(0.01)
    stop.set()
    thread.join(2)
    assert len(storage.data) == 5 and not thread.is_alive()


def test_close_flushes_then_writes_synchronously(storage: MemoryStorage) -> None:
    """On stop, queued entries are written and later entries go straight to storage."""
    writer = AuditWriter(storage, LOG)
    writer.record(audit.key(1), _entry(1))
    writer.close()
    assert len(storage.data) == 1
    writer.record(audit.key(2), _entry(2))
    assert len(storage.data) == 2 and writer.pending() == 0


def test_transient_storage_failure_is_retried(storage: MemoryStorage) -> None:
    """A storage hiccup delays the batch; nothing is lost."""
    writer = AuditWriter(storage, LOG, retry_delays_s=(0.0, 0.0))
    storage.fail_next = 2
    writer.record(audit.key(1), _entry(1))
    writer.flush()
    assert len(storage.data) == 1 and writer.dropped == 0


def test_lasting_storage_failure_drops_and_counts(storage: MemoryStorage) -> None:
    """A storage outage loses the batch (counted), without raising into the service."""
    writer = AuditWriter(storage, LOG, retry_delays_s=(0.0,))
    storage.fail_next = 5
    writer.record(audit.key(1), _entry(1))
    writer.flush()
    assert storage.data == {} and writer.dropped == 1


def test_full_queue_drops_after_waiting(storage: MemoryStorage) -> None:
    """The queue is bounded: with no room after the wait, the entry is dropped and counted."""
    writer = AuditWriter(storage, LOG, capacity=2, room_wait_s=0.01)
    for i in range(3):
        writer.record(audit.key(i), _entry(i))
    assert writer.pending() == 2 and writer.dropped == 1


def test_entries_arriving_within_the_linger_share_one_transaction(storage: MemoryStorage) -> None:
    """The loop waits briefly after the first entry, so a burst costs storage one write."""
    writer = AuditWriter(storage, LOG, linger_s=0.5)
    stop = threading.Event()
    thread = threading.Thread(target=writer.run, args=(stop,))
    thread.start()
    try:
        for i in range(3):
            writer.record(audit.key(i), _entry(i))
            threading.Event().wait(0.02)
        for _ in range(300):
            if len(storage.data) == 3:
                break
            threading.Event().wait(0.01)
    finally:
        stop.set()
        writer.close()
        thread.join(2)
    assert len(storage.data) == 3 and storage.transactions == 1


def test_a_full_batch_ends_the_linger(storage: MemoryStorage) -> None:
    """Entries are not woken into the writer one by one, but a full batch is written at once,
    not after the linger."""
    writer = AuditWriter(storage, LOG, linger_s=30, batch_size=3)
    stop = threading.Event()
    thread = threading.Thread(target=writer.run, args=(stop,))
    thread.start()
    try:
        writer.record(audit.key(0), _entry(0))
        threading.Event().wait(0.2)  # the writer is lingering by now
        for i in (1, 2):
            writer.record(audit.key(i), _entry(i))
        for _ in range(500):
            if len(storage.data) == 3:
                break
            threading.Event().wait(0.01)
        assert len(storage.data) == 3 and storage.transactions == 1
    finally:
        stop.set()
        writer.close()
        thread.join(2)
