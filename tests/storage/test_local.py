"""LocalStorage: StorageClient's surface in-process, with optional namespace enforcement."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from gaiwan.errors import PermissionDenied
from gaiwan.storage import LocalStorage, StorageClient


def test_same_methods_and_signatures_as_the_client() -> None:
    """Every public StorageClient method exists on LocalStorage with the same parameters."""
    for name, method in inspect.getmembers(StorageClient, inspect.isfunction):
        if name.startswith("_"):
            continue
        local = getattr(LocalStorage, name)
        assert inspect.signature(local) == inspect.signature(method), name


def test_task_path_in_process(tmp_path: Path) -> None:
    """Stage-and-enqueue, dequeue, renew and finish-with-ack work as over the wire."""
    with LocalStorage.open(tmp_path) as storage:
        v = storage.put(b"task/1", b"approved")
        assert storage.transact({b"task/1": v}, {b"task/1": b"staged"}, enqueue=[("tasks", b"1")])
        lease = storage.dequeue("tasks", 5000)
        assert lease is not None and lease.item == b"1" and storage.renew(lease, 5000)
        current = storage.get(b"task/1")
        assert current is not None
        assert storage.compare_and_set(b"task/1", v, b"stale") is None
        assert storage.transact({b"task/1": current.version}, {b"task/1": b"done"}, ack=[lease])
        assert storage.dequeue("tasks", 5000, wait_s=0.05) is None
        storage.release(lease)
        assert storage.watch(b"task/1", current.version, 0.05) > current.version
        storage.delete(b"task/1")
        assert storage.scan(b"task/") == []


def test_role_enforces_the_namespace(tmp_path: Path) -> None:
    """Given a role, LocalStorage refuses what the storage service would refuse."""
    with LocalStorage.open(tmp_path, role="management") as storage:
        storage.put(b"fn/1", b"ok")
        storage.transact(enqueue=[("tasks", b"1")])
        for call in (lambda: storage.get(b"auth/alice"), lambda: storage.scan(b""),
                     lambda: storage.dequeue("tasks", 1000),
                     lambda: storage.transact(writes={b"audit/1": b"x"})):
            with pytest.raises(PermissionDenied):
                call()
    with pytest.raises(PermissionDenied):
        LocalStorage.open(tmp_path / "other", role="operator")


def test_execution_reaches_fusion_files_only(tmp_path: Path) -> None:
    """Execution nodes keep fusion files and see nothing else; no other role sees fusion files."""
    with LocalStorage.open(tmp_path / "db", role="execution") as storage:
        storage.put(b"fusion/x.fusion/manifest", b"m")
        assert storage.scan(b"fusion/x.fusion/")
        for call in (lambda: storage.get(b"task/1"), lambda: storage.scan(b""),
                     lambda: storage.scan(b"fusio"), lambda: storage.put(b"data/1", b"x"),
                     lambda: storage.transact(writes={b"fusionx": b"x"}),
                     lambda: storage.transact(enqueue=[("tasks", b"1")]),
                     lambda: storage.dequeue("tasks", 1000)):
            with pytest.raises(PermissionDenied):
                call()
    for role in ("authentication", "frontend", "management", "scheduler"):
        with LocalStorage.open(tmp_path / role, role=role) as storage:
            for call in (lambda: storage.get(b"fusion/x.fusion/manifest"),
                         lambda: storage.scan(b"fusion/"),
                         lambda: storage.put(b"fusion/x.fusion/manifest", b"forged")):
                with pytest.raises(PermissionDenied):
                    call()
