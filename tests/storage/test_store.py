"""Key-space semantics of the Store, over both engines."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from gaiwan.errors import InvalidArgument, Unavailable
from gaiwan.storage.store import MAX_KEY_BYTES, LeaseRef, Store


def test_get_put_delete_versions(store: Store) -> None:
    """Writes return increasing versions; get returns value and version; delete removes the key."""
    assert store.get(b"fn/a") is None
    v1 = store.transact(writes={b"fn/a": b"one"}).versions
    assert v1 is not None and v1[0] > 0
    got = store.get(b"fn/a")
    assert got is not None and (got.value, got.version) == (b"one", v1[0])
    v2 = store.transact(writes={b"fn/a": b""}).versions
    assert v2 is not None and v2[0] > v1[0]
    assert store.get(b"fn/a").value == b""  # type: ignore[union-attr]
    assert store.transact(writes={b"fn/a": None}).versions == [0]
    assert store.get(b"fn/a") is None


def test_get_many_answers_in_order_from_one_read(store: Store) -> None:
    """Several keys in request order, None for an absent one, each with its version."""
    v = store.transact(writes={b"fn/a": b"one", b"task/b": b"two"}).versions
    assert v is not None
    got = store.get_many([b"task/b", b"fn/absent", b"fn/a"])
    assert [(g.key, g.value, g.version) if g else None for g in got] == [
        (b"task/b", b"two", v[1]), None, (b"fn/a", b"one", v[0])]
    assert store.get_many([]) == []


def test_recreated_key_never_reuses_a_version(store: Store) -> None:
    """A stale compare-and-set cannot succeed on a deleted and re-created key."""
    (old,) = store.transact(writes={b"task/1": b"x"}).versions or [0]
    store.transact(writes={b"task/1": None})
    (new,) = store.transact(conditions={b"task/1": 0}, writes={b"task/1": b"y"}).versions or [0]
    assert new > old
    assert store.transact(conditions={b"task/1": old}, writes={b"task/1": b"z"}).versions is None


def test_cas_conflicts_report_the_failed_keys(store: Store) -> None:
    """A condition on a stale version fails and names its key; a fresh one commits."""
    (v,) = store.transact(writes={b"k/1": b"a"}).versions or [0]
    failed = store.transact(conditions={b"k/1": v + 1000, b"k/2": 0}, writes={b"k/1": b"b"})
    assert failed.versions is None and failed.conflicts == [b"k/1"]
    assert store.get(b"k/1").value == b"a"  # type: ignore[union-attr]
    assert store.transact(conditions={b"k/1": 0}, writes={b"k/1": b"c"}).conflicts == [b"k/1"]
    assert store.transact(conditions={b"k/1": v}, writes={b"k/1": b"b"}).versions


def test_failing_condition_writes_and_enqueues_nothing(store: Store) -> None:
    """All-or-nothing: one failed condition leaves keys and queues untouched."""
    store.transact(writes={b"a/1": b"keep"})
    result = store.transact(conditions={b"a/1": 0},
                            writes={b"a/1": b"lost", b"a/2": b"lost", b"a/3": None},
                            enqueue=[("tasks", b"item")])
    assert result.versions is None
    assert store.get(b"a/1").value == b"keep"  # type: ignore[union-attr]
    assert store.get(b"a/2") is None
    assert store.dequeue("tasks", 1000) is None


def test_multi_key_commit_is_atomic_and_ordered(store: Store) -> None:
    """Every write of a committed transaction lands; versions come back in the order given."""
    versions = store.transact(writes={b"m/b": b"2", b"m/a": b"1", b"m/c": None}).versions
    assert versions is not None and versions[2] == 0 and 0 < versions[0] < versions[1]
    assert store.get(b"m/b").version == versions[0]  # type: ignore[union-attr]
    assert store.get(b"m/a").version == versions[1]  # type: ignore[union-attr]


def test_concurrent_cas_has_exactly_one_winner(store: Store) -> None:
    """Serializable transactions: of many racing compare-and-sets on one version, one commits."""
    (v,) = store.transact(writes={b"race": b"0"}).versions or [0]
    results: list[list[int] | None] = []
    barrier = threading.Barrier(8)

    def attempt(n: int) -> None:
        barrier.wait()
        results.append(store.transact(conditions={b"race": v},
                                      writes={b"race": str(n).encode()}).versions)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r is not None for r in results) == 1


@pytest.fixture
def filled(store: Store) -> Store:
    store.transact(writes={k: k.upper() for k in
                           (b"p/a", b"p/b", b"p/c", b"p/d", b"o", b"p0", b"q/a", b"p\xff")})
    return store


def _keys(items: list) -> list[bytes]:  # type: ignore[type-arg]
    return [i.key for i in items]


def test_scan_prefix_order_and_values(filled: Store) -> None:
    """A scan returns exactly the prefix's keys, in key order, with their values."""
    items = filled.scan(b"p/")
    assert _keys(items) == [b"p/a", b"p/b", b"p/c", b"p/d"]
    assert items[0].value == b"P/A" and items[0].version > 0


def test_scan_limit_reverse_and_paging(filled: Store) -> None:
    """limit, reverse and start_after page through a prefix in both directions."""
    assert _keys(filled.scan(b"p/", limit=2)) == [b"p/a", b"p/b"]
    assert _keys(filled.scan(b"p/", limit=2, start_after=b"p/b")) == [b"p/c", b"p/d"]
    assert _keys(filled.scan(b"p/", reverse=True)) == [b"p/d", b"p/c", b"p/b", b"p/a"]
    assert _keys(filled.scan(b"p/", limit=2, reverse=True, start_after=b"p/c")) == [b"p/b", b"p/a"]
    assert _keys(filled.scan(b"p/", reverse=True, start_after=b"p/zz")) == [
        b"p/d", b"p/c", b"p/b", b"p/a"]
    assert filled.scan(b"p/", start_after=b"p/d") == []
    assert _keys(filled.scan(b"p", reverse=True, limit=2)) == [b"p\xff", b"p0"]
    assert filled.scan(b"none/") == []


def test_scan_keys_only_lists_without_values(filled: Store) -> None:
    """keys_only: the same keys and versions as a full scan, every value empty."""
    full, keys = filled.scan(b"p/", limit=3), filled.scan(b"p/", limit=3, keys_only=True)
    assert [(i.key, i.version) for i in keys] == [(i.key, i.version) for i in full]
    assert {i.value for i in keys} == {b""} and full[0].value == b"P/A"


def test_watch_wakes_on_change(store: Store) -> None:
    """watch returns the new version as soon as another thread commits, well before its timeout."""
    (v,) = store.transact(writes={b"w/1": b"a"}).versions or [0]
    got: list[int] = []
    waiter = threading.Thread(target=lambda: got.append(store.watch(b"w/1", v, 10)))
    waiter.start()
    time.sleep(0.1)
    started = time.monotonic()
    (v2,) = store.transact(writes={b"w/1": b"b"}).versions or [0]
    waiter.join(5)
    assert got == [v2] and time.monotonic() - started < 1


def test_watch_returns_at_once_when_already_different(store: Store) -> None:
    """A stale version returns the current one without waiting; deletion reads as version 0."""
    (v,) = store.transact(writes={b"w/2": b"a"}).versions or [0]
    assert store.watch(b"w/2", v - 1 if v > 1 else 999999, 10) == v
    store.transact(writes={b"w/2": None})
    assert store.watch(b"w/2", v, 10) == 0


def test_watch_times_out_with_the_same_version(store: Store) -> None:
    """Without a change, watch returns the given version after the timeout."""
    started = time.monotonic()
    assert store.watch(b"w/3", 0, 0.2) == 0
    assert 0.15 < time.monotonic() - started < 2


def test_close_wakes_waiters_with_unavailable(open_store: Callable[[], Store]) -> None:
    """Shutting down ends long-polls promptly with Unavailable instead of hanging."""
    store = open_store()
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            store.watch(b"w/4", 0, 30)
        except Unavailable as exc:
            errors.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.1)
    store.close()
    waiter.join(5)
    assert len(errors) == 1
    with pytest.raises(Unavailable):
        store.get(b"w/4")


@pytest.mark.parametrize("call", [
    lambda s: s.get(b""),
    lambda s: s.get(b"x" * (MAX_KEY_BYTES + 1)),
    lambda s: s.get_many([b"fn/a", b""]),
    lambda s: s.transact(conditions={b"k": -1}),
    lambda s: s.transact(enqueue=[("bad\x00name", b"")]),
    lambda s: s.scan(b"p/", limit=-1),
    lambda s: s.watch(b"k", 0, -1),
    lambda s: s.dequeue("", 1000),
    lambda s: s.dequeue("tasks", 0),
    lambda s: s.renew(LeaseRef("tasks", 1, b"t"), 10**9),
])
def test_bad_arguments_raise_invalid_argument(store: Store, call: Callable[[Store], object]) -> None:
    """Malformed keys, versions, queue names, limits and durations are refused clearly."""
    with pytest.raises(InvalidArgument):
        call(store)
