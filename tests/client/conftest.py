"""A real grpcio server with TLS, presenting certificates the tests build, with fake services."""

from __future__ import annotations

import time

from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2
import pytest

from gaiwan.rpc.pb import gaiwan_api_pb2_grpc as api_grpc
from gaiwan.rpc.pb import teaclave_authentication_service_pb2 as auth
from gaiwan.rpc.pb import teaclave_authentication_service_pb2_grpc as auth_grpc
from gaiwan.rpc.pb import teaclave_frontend_service_pb2 as fe
from gaiwan.rpc.pb import teaclave_frontend_service_pb2_grpc as fe_grpc

from ._pki import Authority, Leaf, ra_tls_leaf, write_client_dir


@dataclass
class Recorder:
    """What the fake services received, and what WaitTask answers next."""

    calls: list[tuple[str, Any, dict[str, str]]] = field(default_factory=list)
    waits: list[fe.GetTaskResponse] = field(default_factory=list)

    def record(self, name: str, request: Any, context: grpc.ServicerContext) -> None:
        self.calls.append((name, request, dict(context.invocation_metadata())))

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]


class FakeFrontend(fe_grpc.TeaclaveFrontendServicer):
    def __init__(self, rec: Recorder) -> None:
        self.rec = rec

    def RegisterFunction(self, request, context):  # noqa: N802
        self.rec.record("RegisterFunction", request, context)
        return fe.RegisterFunctionResponse(function_id="function-1")

    def CreateTask(self, request, context):  # noqa: N802
        self.rec.record("CreateTask", request, context)
        return fe.CreateTaskResponse(task_id="task-1")

    def InvokeTask(self, request, context):  # noqa: N802
        self.rec.record("InvokeTask", request, context)
        from google.protobuf import empty_pb2
        return empty_pb2.Empty()

    def GetTask(self, request, context):  # noqa: N802
        self.rec.record("GetTask", request, context)
        if request.task_id == "task-missing":
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "no such task")
        if request.task_id == "task-denied":
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "not a participant")
        return fe.GetTaskResponse(task_id=request.task_id, status=0)


class FakeTasks(api_grpc.GaiwanTasksServicer):
    def __init__(self, rec: Recorder) -> None:
        self.rec = rec

    def WaitTask(self, request, context):  # noqa: N802
        """Answers the queued states in turn (the last one repeats); a non-final state is held
        briefly, as the platform holds it until its timeout."""
        self.rec.record("WaitTask", request, context)
        task = self.rec.waits.pop(0) if len(self.rec.waits) > 1 else self.rec.waits[0]
        if task.status < 10:
            time.sleep(min(request.timeout_ms, 20) / 1000)
        return task

    def SetDataTags(self, request, context):  # noqa: N802
        self.rec.record("SetDataTags", request, context)
        if not request.data_id.startswith(("input-", "output-")):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "not a data id")
        return empty_pb2.Empty()


class FakeAuth(auth_grpc.TeaclaveAuthenticationApiServicer):
    def __init__(self, rec: Recorder) -> None:
        self.rec = rec

    def UserLogin(self, request, context):  # noqa: N802
        self.rec.record("UserLogin", request, context)
        if request.password != "right":
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid credentials")
        return auth.UserLoginResponse(token="tok-" + request.id)

    def ResetUserPassword(self, request, context):  # noqa: N802
        self.rec.record("ResetUserPassword", request, context)
        return auth.ResetUserPasswordResponse(password="new-pw")

    def ListUsers(self, request, context):  # noqa: N802
        self.rec.record("ListUsers", request, context)
        return auth.ListUsersResponse(ids=["a", "b"])


class Endpoint:
    """One TLS endpoint on a fixed port; `restart(leaf)` swaps in a new certificate."""

    def __init__(self, leaf: Leaf) -> None:
        self.rec = Recorder()
        self.port = 0
        self.server: grpc.Server | None = None
        self.start(leaf)

    def start(self, leaf: Leaf) -> None:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        fe_grpc.add_TeaclaveFrontendServicer_to_server(FakeFrontend(self.rec), server)
        api_grpc.add_GaiwanTasksServicer_to_server(FakeTasks(self.rec), server)
        auth_grpc.add_TeaclaveAuthenticationApiServicer_to_server(FakeAuth(self.rec), server)
        creds = grpc.ssl_server_credentials([(leaf.key_pem, leaf.cert_pem)])
        self.port = server.add_secure_port(f"127.0.0.1:{self.port}", creds)
        assert self.port
        server.start()
        self.server = server

    def restart(self, leaf: Leaf) -> None:
        self.stop()
        self.start(leaf)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop(None).wait()
            self.server = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture(scope="session")
def authority() -> Authority:
    return Authority.make()


@pytest.fixture
def client_dir(tmp_path: Path, authority: Authority) -> Path:
    return write_client_dir(tmp_path / "client", authority)


@pytest.fixture
def endpoint(authority: Authority) -> Iterator[Endpoint]:
    ep = Endpoint(ra_tls_leaf(authority, "frontend"))
    yield ep
    ep.stop()
