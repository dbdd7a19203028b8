"""Typed task results for Python callers, instead of the protobuf or the dict Teaclave returned."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc

from gaiwan.rpc.pb import teaclave_frontend_service_pb2 as fe

from ..errors import FailedPrecondition, GaiwanError
from ..records import TaskStatus  # the wire values of Teaclave's TaskStatus


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
