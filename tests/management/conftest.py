"""Fixtures: the management core over in-process storage and the packaged policy set (real Cedar
evaluation, in-process), and a cast of callers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gaiwan.logs import get_logger
from gaiwan.records import CryptoInfo, Function, FunctionArgument, FunctionIO
from gaiwan.roles import Role
from gaiwan.services.access_control import PolicyEngine
from gaiwan.services.management import Caller, Management
from gaiwan.storage._lmdb import LmdbEngine
from gaiwan.storage.local import LocalStorage
from gaiwan.storage.store import Store
from tests.support.policies import packaged_engine

ALICE = Caller("alice", Role.parse("DataOwner-bank_a"))
BOB = Caller("bob", Role.parse("DataOwner-bank_b"))
CAROL = Caller("carol", Role.parse("DataOwnerManager-bank_a"))
FRED = Caller("fred", Role.parse("FunctionOwner"))
ADMIN = Caller("root", Role.parse("PlatformAdmin"))

AES128 = CryptoInfo("aes-gcm-128", bytes(16), bytes(12))
CMAC = bytes(range(16))


def spec(**changes: object) -> Function:
    """A function definition as a caller would send it (id and owner are the platform's)."""
    base: dict[str, object] = dict(
        function_id="", owner="", name="builtin-echo", description="echo", executor_type="builtin",
        public=True, payload=b"", arguments=(FunctionArgument("message"),), inputs=(), outputs=(),
    )
    base.update(changes)
    return Function(**base)  # type: ignore[arg-type]


def io_spec(**changes: object) -> Function:
    """A two-input, one-output function with a fixed argument and an optional input."""
    return spec(
        name="join", public=False, user_allowlist=("alice", "bank_b"),
        arguments=(FunctionArgument("order", "asc", allow_overwrite=True),
                   FunctionArgument("mode", "fast", allow_overwrite=False)),
        inputs=(FunctionIO("left"), FunctionIO("right"), FunctionIO("extra", optional=True)),
        outputs=(FunctionIO("result"),),
        **changes,
    )


class CancelHook:
    """Records the scheduler calls the core makes; can be told to fail like an unreachable peer."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.fail = False

    def __call__(self, task_id: str) -> None:
        self.calls.append(task_id)
        if self.fail:
            raise ConnectionError("scheduler unreachable")


@pytest.fixture
def shared_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(LmdbEngine(tmp_path / "lmdb", 16), bytes(range(32)))
    yield store
    store.close()


@pytest.fixture
def management_storage(shared_store: Store) -> LocalStorage:
    """Confined to management's namespace, as the storage service confines the real one."""
    return LocalStorage(shared_store, role="management")


@pytest.fixture
def storage(shared_store: Store) -> LocalStorage:
    """The same state as the scheduler sees it: tests write task outcomes and read the queue."""
    return LocalStorage(shared_store, role="scheduler")


@pytest.fixture
def hook() -> CancelHook:
    return CancelHook()


@pytest.fixture
def engine() -> PolicyEngine:
    return packaged_engine()


@pytest.fixture
def core(management_storage: LocalStorage, engine: PolicyEngine, hook: CancelHook) -> Management:
    return Management(management_storage, engine, hook, get_logger("management"))
