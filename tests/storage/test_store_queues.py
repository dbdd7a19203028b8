"""Queues and leases of the Store, over both engines."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from gaiwan.storage.client import QueueItem
from gaiwan.storage.store import LeaseRef, Store


def _enqueue(store: Store, *items: bytes, queue: str = "tasks") -> None:
    assert store.transact(enqueue=[(queue, i) for i in items]).versions == []


def test_dequeue_is_fifo_per_queue(store: Store) -> None:
    """Items come out in the order they went in, and queues do not mix."""
    _enqueue(store, b"1", b"2")
    _enqueue(store, b"other", queue="other")
    _enqueue(store, b"3")
    got = [store.dequeue("tasks", 10_000) for _ in range(4)]
    assert [g.item for g in got[:3]] == [b"1", b"2", b"3"]  # type: ignore[union-attr]
    assert got[3] is None
    first = got[0]
    assert first is not None and first.redeliveries == 0 and len(first.token) == 16
    assert first.deadline_ms > time.time() * 1000


def test_long_poll_wakes_on_enqueue_from_another_thread(store: Store) -> None:
    """A waiting dequeue returns the moment an item is enqueued, not at its timeout."""
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(store.dequeue("tasks", 5000, wait_s=10)))
    waiter.start()
    time.sleep(0.1)
    started = time.monotonic()
    _enqueue(store, b"job")
    waiter.join(5)
    assert [g.item for g in got] == [b"job"]  # type: ignore[attr-defined]
    assert time.monotonic() - started < 1


def test_long_poll_times_out_empty(store: Store) -> None:
    """With nothing enqueued, dequeue waits out wait_s and returns None."""
    started = time.monotonic()
    assert store.dequeue("tasks", 1000, wait_s=0.2) is None
    assert 0.15 < time.monotonic() - started < 2


def test_expired_lease_redelivers_with_new_token(store: Store) -> None:
    """An unrenewed lease returns its item; the next delivery has a new token and counts."""
    _enqueue(store, b"job")
    first = store.dequeue("tasks", 200)
    assert first is not None and store.dequeue("tasks", 200) is None
    started = time.monotonic()
    second = store.dequeue("tasks", 5000, wait_s=5)
    assert second is not None and 0.1 < time.monotonic() - started < 1.5
    assert second.item_id == first.item_id and second.item == b"job"
    assert second.token != first.token and second.redeliveries == 1


def test_stale_token_cannot_renew_ack_or_release(store: Store) -> None:
    """After redelivery the first holder's token renews, acks and releases nothing."""
    _enqueue(store, b"job")
    first = store.dequeue("tasks", 100)
    assert first is not None
    second = store.dequeue("tasks", 10_000, wait_s=5)
    assert second is not None
    assert store.renew(first, 10_000) is None
    assert store.release(first) is False
    failed = store.transact(writes={b"task/1": b"done"}, ack=[first])
    assert failed.versions is None and store.get(b"task/1") is None
    assert store.renew(LeaseRef("tasks", second.item_id, b"forged-token-xx"), 1000) is None
    assert store.transact(ack=[second]).versions == []
    assert store.dequeue("tasks", 1000) is None


def test_renew_extends_the_lease(store: Store) -> None:
    """A renewed lease outlives its first deadline; the item is not redelivered meanwhile."""
    _enqueue(store, b"job")
    lease = store.dequeue("tasks", 300)
    assert lease is not None
    deadline = store.renew(lease, 5000)
    assert deadline is not None and deadline > lease.deadline_ms
    assert store.dequeue("tasks", 1000, wait_s=0.6) is None
    assert store.transact(ack=[lease]).versions == []


def test_release_returns_item_at_once(store: Store) -> None:
    """release puts the item back immediately (waking a waiter); the old token is then dead."""
    _enqueue(store, b"job")
    lease = store.dequeue("tasks", 60_000)
    assert lease is not None
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(store.dequeue("tasks", 1000, wait_s=10)))
    waiter.start()
    time.sleep(0.1)
    assert store.release(lease) is True
    waiter.join(5)
    again = got[0]
    assert again is not None and again.item_id == lease.item_id  # type: ignore[attr-defined]
    assert again.redeliveries == 1  # type: ignore[attr-defined]
    assert store.transact(ack=[lease]).versions is None


def test_ack_with_writes_is_atomic(store: Store) -> None:
    """Acking and writing the result commit together; a failed condition keeps the lease."""
    (v,) = store.transact(writes={b"task/1": b"running"}).versions or [0]
    _enqueue(store, b"task/1")
    lease = store.dequeue("tasks", 10_000)
    assert lease is not None
    assert store.transact(conditions={b"task/1": v + 99}, writes={b"task/1": b"done"},
                          ack=[lease]).versions is None
    assert store.renew(lease, 10_000) is not None
    assert store.transact(conditions={b"task/1": v}, writes={b"task/1": b"done"},
                          ack=[lease]).versions
    assert store.dequeue("tasks", 1000) is None and store.release(lease) is False


def test_each_item_is_delivered_to_one_consumer(store: Store) -> None:
    """Racing consumers never receive the same item twice while leases hold."""
    _enqueue(store, *[str(i).encode() for i in range(20)])
    seen: list[int] = []
    lock = threading.Lock()

    def consume() -> None:
        while (lease := store.dequeue("tasks", 30_000)) is not None:
            with lock:
                seen.append(lease.item_id)

    threads = [threading.Thread(target=consume) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 20 and len(set(seen)) == 20


def test_queue_and_leases_survive_reopen(open_store: Callable[[], Store]) -> None:
    """Queued items persist; a leased item whose holder vanished returns after its deadline."""
    store = open_store()
    _enqueue(store, b"leased", b"queued")
    held = store.dequeue("tasks", 400)
    assert held is not None and held.item == b"leased"
    store.close()
    store = open_store()
    queued = store.dequeue("tasks", 10_000)
    assert queued is not None and queued.item == b"queued"
    back = store.dequeue("tasks", 10_000, wait_s=5)
    assert back is not None and back.item == b"leased" and back.redeliveries == 1
    assert back.token != held.token


def test_item_comes_with_the_records_it_names_as_of_the_lease(store: Store) -> None:
    """read_with: each dequeue hands out the named records as they are at that moment (absent
    ones as None), read in the lease's own transaction; an item naming none has no rows."""
    store.transact(writes={b"task/1": b"staged"})
    store.transact(enqueue=[QueueItem("tasks", b"job", (b"task/1", b"data/none"))])
    store.transact(enqueue=[("tasks", b"plain")])
    store.transact(writes={b"task/1": b"canceled"})
    first = store.dequeue("tasks", 50)
    assert first is not None and first.item == b"job"
    row = first.rows[b"task/1"]
    assert row is not None and row.value == b"canceled" and row.version == store.get(b"task/1").version  # type: ignore[union-attr]
    assert first.rows[b"data/none"] is None
    plain = store.dequeue("tasks", 10_000)
    assert plain is not None and plain.item == b"plain" and plain.rows == {}
    store.transact(writes={b"data/none": b"now here"})
    time.sleep(0.1)
    again = store.dequeue("tasks", 10_000, wait_s=5)  # the first lease expired: redelivered
    assert again is not None and again.item == b"job" and again.redeliveries == 1
    assert again.rows[b"data/none"] is not None and again.rows[b"data/none"].value == b"now here"  # type: ignore[union-attr]
