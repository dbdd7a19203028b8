"""Platform records as frozen dataclasses, and the one JSON codec they are stored with.

Records are what management writes and the scheduler reads; protobuf appears only at the RPC
boundary (each service's converter module). Stored values are sealed by the storage service,
so crypto keys and payloads inside these records never reach disk in plaintext.

Storage keys (one namespace per owner; the storage service enforces who may touch which):
    fn/<function-id>          Function
    data/<data-id>            DataFile (input-…, output-…)
    task/<task-id>            Task
    auth/…                    authentication's users and token secret
    audit/<µs>-<rand>         frontend's audit entries
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import functools
import json
import types
import typing
import uuid
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

TASK_QUEUE = "tasks"


def new_id(prefix: str) -> str:
    """Ids are `<prefix>-<uuid>` (spec §6)."""
    return f"{prefix}-{uuid.uuid4()}"


def function_key(function_id: str) -> bytes:
    return f"fn/{function_id}".encode()


def data_key(data_id: str) -> bytes:
    return f"data/{data_id}".encode()


def task_key(task_id: str) -> bytes:
    return f"task/{task_id}".encode()


class TaskStatus(enum.IntEnum):
    """Values equal teaclave_common_proto.TaskStatus."""

    CREATED = 0
    DATA_ASSIGNED = 1
    APPROVED = 2
    STAGED = 3
    RUNNING = 4
    FINISHED = 10
    CANCELED = 20
    FAILED = 99

    @property
    def terminal(self) -> bool:
        return self in (TaskStatus.FINISHED, TaskStatus.CANCELED, TaskStatus.FAILED)


_S = TaskStatus
LEGAL_TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    _S.CREATED: frozenset({_S.DATA_ASSIGNED, _S.APPROVED, _S.CANCELED}),
    _S.DATA_ASSIGNED: frozenset({_S.APPROVED, _S.CANCELED}),
    _S.APPROVED: frozenset({_S.STAGED, _S.CANCELED}),
    # STAGED -> STAGED: a lost executor's task is queued again (retry).
    _S.STAGED: frozenset({_S.RUNNING, _S.CANCELED, _S.FAILED, _S.STAGED}),
    _S.RUNNING: frozenset({_S.FINISHED, _S.FAILED, _S.CANCELED, _S.STAGED}),
    _S.FINISHED: frozenset(),
    _S.CANCELED: frozenset(),
    _S.FAILED: frozenset(),
}


def can_transition(current: TaskStatus, new: TaskStatus) -> bool:
    return new in LEGAL_TRANSITIONS[current]


@dataclass(frozen=True)
class FunctionArgument:
    key: str
    default_value: str = ""
    allow_overwrite: bool = True


@dataclass(frozen=True)
class FunctionIO:
    name: str
    description: str = ""
    optional: bool = False


@dataclass(frozen=True)
class Function:
    function_id: str
    owner: str
    name: str
    description: str
    executor_type: str
    public: bool
    payload: bytes = field(repr=False)
    arguments: tuple[FunctionArgument, ...] = ()
    inputs: tuple[FunctionIO, ...] = ()
    outputs: tuple[FunctionIO, ...] = ()
    user_allowlist: tuple[str, ...] = ()
    usage_quota: int = -1  # < 0: unlimited
    current_usage: int = 0
    disabled: bool = False
    # The role the owner registered it under (e.g. "FunctionOwner"): policies may ask about the
    # owner (its attribute), and management cannot look users up.
    owner_role: str = ""


@dataclass(frozen=True)
class CryptoInfo:
    schema: str
    key: bytes = field(repr=False)
    iv: bytes = field(repr=False, default=b"")


@dataclass(frozen=True)
class DataFile:
    data_id: str
    kind: str  # "input" | "output"
    url: str
    owners: tuple[str, ...]
    crypto_info: CryptoInfo
    cmac: bytes = b""
    fusion: bool = False
    # Labels its owners attach (GaiwanTasks/SetDataTags) for policies to read, e.g. "eu-only".
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class OwnerList:
    data_name: str
    uids: tuple[str, ...]


@dataclass(frozen=True)
class TaskResult:
    """Either ok (return_value, tags_map, log) or failed (reason)."""

    return_value: bytes = b""
    tags_map: dict[str, bytes] = field(default_factory=dict)
    log: tuple[str, ...] = ()
    failure: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass(frozen=True)
class Task:
    task_id: str
    creator: str
    function_id: str
    function_owner: str
    function_arguments: dict[str, str]
    executor: str
    inputs_ownership: tuple[OwnerList, ...] = ()
    outputs_ownership: tuple[OwnerList, ...] = ()
    participants: tuple[str, ...] = ()
    approved_users: tuple[str, ...] = ()
    assigned_inputs: dict[str, str] = field(default_factory=dict)
    assigned_outputs: dict[str, str] = field(default_factory=dict)
    status: TaskStatus = TaskStatus.CREATED
    result: TaskResult | None = None
    # Gaiwan bookkeeping, not part of the Teaclave view:
    attempt: int = 0
    status_message: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0


@dataclass(frozen=True)
class QueuedTask:
    """An item of the task queue: the invoked task and its function as it was at InvokeTask.

    The scheduler runs exactly the function that was checked (not disabled, within quota) when
    the task was invoked, and needs no storage read to learn what it needs to place it."""

    task_id: str
    function: Function
    # The data the task was assigned (ids), so the scheduler reads them with the task at once.
    data_ids: tuple[str, ...] = ()
    # Who invoked it, as what role: their entity is part of the run decision's, at InvokeTask
    # and at dispatch alike.
    invoked_by: str = ""
    invoked_as: str = ""
    # InvokeTask's run decision, `<policy set>:<entities digest>` (entities.run_basis): the
    # scheduler need not ask again while both still hold.
    run_basis: str = ""


# ---- codec ---------------------------------------------------------------------------------

def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode()}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    """A record class's field types, resolved once: resolving the annotations (strings, under
    `from __future__ import annotations`) costs far more than decoding a record."""
    return typing.get_type_hints(cls)


def _decode(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):  # `X | None`: the one non-None member
        return _decode(next(a for a in args if a is not type(None)), value)
    if tp is bytes:
        return base64.b64decode(value["$b"])
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(value)
    if dataclasses.is_dataclass(tp):
        hints = _field_types(tp)
        return tp(**{k: _decode(hints[k], v) for k, v in value.items() if k in hints})
    if origin is tuple:
        return tuple(_decode(args[0], v) for v in value)
    if origin is list:
        return [_decode(args[0], v) for v in value]
    if origin is dict:
        return {k: _decode(args[1], v) for k, v in value.items()}
    return value


def dumps(record: Any) -> bytes:
    return json.dumps(_encode(record), separators=(",", ":")).encode()


def loads(cls: type[T], data: bytes) -> T:
    return _decode(cls, json.loads(data))  # type: ignore[no-any-return]
