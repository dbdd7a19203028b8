"""The one error tree of Gaiwan.

Every error a service raises on purpose is a `GaiwanError`; its class carries the gRPC status the
caller sees and its message is safe to show (it never holds secrets or other parties' data). The
server interceptor (gaiwan.rpc.interceptors) maps these to statuses in one place; anything else
becomes INTERNAL with a correlation id. The SDK maps statuses back to these classes
(`from_status`), so callers catch the same types on both sides of the wire.
"""

from __future__ import annotations

import grpc


class GaiwanError(Exception):
    """Base of all deliberate errors; `message` is shown to the caller as it is."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(GaiwanError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(InvalidArgument):
    """An id that names nothing. Teaclave reports bad ids as INVALID_ARGUMENT; so do we."""


class AlreadyExists(GaiwanError):
    code = grpc.StatusCode.ALREADY_EXISTS


class Unauthenticated(GaiwanError):
    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(GaiwanError):
    code = grpc.StatusCode.PERMISSION_DENIED


class FailedPrecondition(GaiwanError):
    """The request is well formed but the record is in the wrong state (e.g. a task not Created)."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class ResourceExhausted(GaiwanError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class Unavailable(GaiwanError):
    code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceeded(GaiwanError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class Conflict(GaiwanError):
    """A compare-and-set lost a race; callers normally retry on fresh state."""

    code = grpc.StatusCode.ABORTED


class Internal(GaiwanError):
    code = grpc.StatusCode.INTERNAL


class AttestationError(GaiwanError):
    """Evidence, a report, a certificate or enclave_info failed verification; says exactly why."""

    code = grpc.StatusCode.PERMISSION_DENIED


class ConfigError(GaiwanError):
    """The platform's configuration or data directory is missing or inconsistent."""

    code = grpc.StatusCode.FAILED_PRECONDITION


_BY_CODE: dict[grpc.StatusCode, type[GaiwanError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.ABORTED: Conflict,
    grpc.StatusCode.INTERNAL: Internal,
}


def from_rpc_error(error: grpc.RpcError) -> GaiwanError:
    """Turns a failed call back into the typed error the server raised (status kept)."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    details = error.details() if hasattr(error, "details") else str(error)
    cls = _BY_CODE.get(code, GaiwanError)
    err = cls(details or code.name)
    err.code = code
    return err
