"""What the executor, the template process and a task's sandbox say to each other.

Sans-IO: byte strings in and out, no sockets here.

- executor -> template, on the control socket: one `RUN` datagram carrying, as SCM_RIGHTS,
  the task's status socket, the write end of its result pipe, a memfd holding the request and
  the task's files (inputs opened read-only, outputs created write-only, in request order).
- template <-> executor, on the task's status socket (SOCK_SEQPACKET): `pid:N` once the sandbox
  exists, `exit:STATUS:CPU_MS` (a waitpid status, the CPU time used) once it is gone; the executor may send `KILL`.
- sandbox -> executor, on the result pipe: one frame (4-byte big-endian length, JSON body).
"""

from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass
from typing import Any

RUN = b"run"
KILL = b"kill"
READY = b"ready"
_LENGTH = struct.Struct(">I")


@dataclass(frozen=True)
class Request:
    """One task as the sandbox needs it; files travel as descriptors next to it."""

    payload: bytes
    argv: tuple[str, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    memory: int
    processes: int
    open_files: int
    file_size: int
    cpu_seconds: int
    result_size: int
    log_size: int

    def encode(self) -> bytes:
        header = {k: v for k, v in self.__dict__.items() if k != "payload"}
        return frame(header) + self.payload

    @classmethod
    def decode(cls, data: bytes) -> Request:
        header, end = unframe(data)
        if header is None:
            raise ValueError("truncated request")
        header["argv"] = tuple(header["argv"])
        header["inputs"] = tuple(header["inputs"])
        header["outputs"] = tuple(header["outputs"])
        return cls(payload=data[end:], **header)


@dataclass(frozen=True)
class Result:
    """What the payload did: a return value, or an error with its kind (`exception`,
    `memory`, `result`, `setup`), a reason and the payload frames of its traceback."""

    value: bytes = b""
    error_kind: str = ""
    reason: str = ""
    trace: tuple[str, ...] = ()
    log: tuple[str, ...] = ()

    def encode(self) -> bytes:
        return frame({"value": base64.b64encode(self.value).decode(), "error_kind": self.error_kind,
                      "reason": self.reason, "trace": list(self.trace), "log": list(self.log)})

    @classmethod
    def decode(cls, body: dict[str, Any]) -> Result:
        return cls(value=base64.b64decode(body["value"], validate=True),
                   error_kind=str(body["error_kind"]), reason=str(body["reason"]),
                   trace=tuple(str(t) for t in body["trace"]), log=tuple(str(x) for x in body["log"]))


def frame(obj: Any) -> bytes:
    body = json.dumps(obj, separators=(",", ":")).encode()
    return _LENGTH.pack(len(body)) + body


def frame_length(data: bytes) -> int | None:
    """The length a frame starting `data` announces, or None while fewer than 4 bytes are in."""
    return _LENGTH.unpack_from(data)[0] if len(data) >= _LENGTH.size else None


def unframe(data: bytes) -> tuple[Any, int]:
    """(decoded body, end offset) of the frame starting `data`, or (None, 0) if incomplete."""
    length = frame_length(data)
    if length is None or len(data) < _LENGTH.size + length:
        return None, 0
    end = _LENGTH.size + length
    return json.loads(data[_LENGTH.size:end]), end


def pid_message(pid: int) -> bytes:
    return b"pid:%d" % pid


def exit_message(status: int, cpu_ms: int) -> bytes:
    return b"exit:%d:%d" % (status, cpu_ms)


def parse_status(message: bytes) -> tuple[str, tuple[int, ...]]:
    """('pid', (pid,)) or ('exit', (wait status, CPU ms)); ValueError for anything else."""
    kind, _, numbers = message.partition(b":")
    if kind not in (b"pid", b"exit"):
        raise ValueError("unexpected status message")
    return kind.decode(), tuple(int(n) for n in numbers.split(b":"))
