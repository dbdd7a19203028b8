"""Typed task results for Python callers, instead of the protobuf or the dict Teaclave returned."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import grpc

from gaiwan.rpc.pb import teaclave_frontend_service_pb2 as fe

from ..errors import FailedPrecondition, GaiwanError


class TaskStatus(enum.IntEnum):
    """Teaclave's TaskStatus values (spec §2), so they compare equal to the wire numbers."""

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


class TaskFailed(GaiwanError):
    """A task ended Failed or Canceled; raised by the calls that promise its return value."""

    code = grpc.StatusCode.FAILED_PRECONDITION

    def __init__(self, task_id: str, status: TaskStatus, reason: str) -> None:
        super().__init__(f"task {task_id} {status.name.lower()}: {reason}" if reason
                         else f"task {task_id} {status.name.lower()}")
        self.task_id = task_id
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Task:
    id: str
    status: TaskStatus
    function_id: str
    creator: str
    participants: tuple[str, ...] = ()
    approved_users: tuple[str, ...] = ()
    return_value: bytes | None = None
    tags: dict[str, bytes] = field(default_factory=dict)
    log: tuple[str, ...] = ()
    failure: str | None = None

    @classmethod
    def from_proto(cls, response: fe.GetTaskResponse) -> "Task":
        outcome = response.result.WhichOneof("result")
        ok = response.result.Ok
        return cls(
            id=response.task_id,
            status=TaskStatus(response.status),
            function_id=response.function_id,
            creator=response.creator,
            participants=tuple(response.participants),
            approved_users=tuple(response.approved_users),
            return_value=ok.return_value if outcome == "Ok" else None,
            tags=dict(ok.tags_map) if outcome == "Ok" else {},
            log=tuple(ok.log) if outcome == "Ok" else (),
            failure=response.result.Err.reason if outcome == "Err" else None,
        )

    @property
    def done(self) -> bool:
        return self.status.terminal

    def result(self) -> bytes:
        """The return value of a Finished task; raises TaskFailed for Failed or Canceled ones."""
        if self.status is TaskStatus.FINISHED:
            return self.return_value or b""
        if self.status.terminal:
            raise TaskFailed(self.id, self.status, self.failure or "")
        raise FailedPrecondition(f"task {self.id} has not ended (status {self.status.name})")
