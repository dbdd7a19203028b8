"""The Pythonic layer and AuthenticationService: login, typed tasks, and the exported names."""

from __future__ import annotations

from pathlib import Path

import pytest

import gaiwan.client
from gaiwan.client import AuthenticationService, Gaiwan, TaskStatus
from gaiwan.errors import ConfigError, Unauthenticated
from gaiwan.rpc.pb import teaclave_common_pb2 as common
from gaiwan.rpc.pb import teaclave_frontend_service_pb2 as fe

from ._pki import Authority, write_client_dir
from .conftest import Endpoint


@pytest.fixture
def home(tmp_path: Path, authority: Authority) -> Path:
    write_client_dir(tmp_path / "home" / "client", authority)
    return tmp_path / "home"


def test_public_surface_is_deliberate() -> None:
    """gaiwan.client exports exactly its documented names."""
    public = {n for n in dir(gaiwan.client) if not n.startswith("_")}
    assert public == set(gaiwan.client.__all__)
    assert gaiwan.client.TeaclaveException is gaiwan.client.GaiwanError


def test_login_keeps_credentials(endpoint: Endpoint, home: Path) -> None:
    """user_login returns the token and attaches it to later calls, like Teaclave's SDK."""
    with AuthenticationService(endpoint.address, home / "client/as_root_ca_cert.pem",
                               home / "client/enclave_info.toml") as auth:
        assert auth.user_login("alice", "right") == "tok-alice"
        assert auth.reset_user_password("bob") == "new-pw"
    assert endpoint.rec.calls[-1][2]["token"] == "tok-alice"


def test_wrong_password_is_unauthenticated(endpoint: Endpoint, home: Path) -> None:
    """A refused login surfaces as the typed Unauthenticated error."""
    with pytest.raises(Unauthenticated):
        Gaiwan.connect("alice", "wrong", home=home, auth_address=endpoint.address,
                       frontend_address=endpoint.address)


def test_run_returns_typed_task(endpoint: Endpoint, home: Path) -> None:
    """connect + run: create, invoke, wait, and a Task with status and result."""
    ok = common.TaskResult(Ok=common.TaskOutputs(return_value=b"hi", log=["l1"]))
    endpoint.rec.waits.append(fe.GetTaskResponse(task_id="task-1", status=10, result=ok))
    with Gaiwan.connect("alice", "right", home=home, auth_address=endpoint.address,
                        frontend_address=endpoint.address) as gw:
        task = gw.run("function-1", "builtin", {"message": "hi"})
    assert task.status is TaskStatus.FINISHED and task.result() == b"hi" and task.log == ("l1",)
    assert endpoint.rec.names()[-3:] == ["CreateTask", "InvokeTask", "WaitTask"]
    assert endpoint.rec.calls[-1][2]["id"] == "alice"


def test_set_data_tags_on_the_session(endpoint: Endpoint, home: Path) -> None:
    """Gaiwan.set_data_tags goes to SetDataTags with the session's credentials."""
    with Gaiwan.connect("alice", "right", home=home, auth_address=endpoint.address,
                        frontend_address=endpoint.address) as gw:
        gw.set_data_tags("output-1", ("eu-only",))
    name, request, metadata = endpoint.rec.calls[-1]
    assert (name, request.data_id, list(request.tags), metadata["id"]) == (
        "SetDataTags", "output-1", ["eu-only"], "alice")


def test_without_config_an_address_is_required(home: Path) -> None:
    """A home with only client files cannot guess where the platform is."""
    with pytest.raises(ConfigError, match="authentication_api"):
        Gaiwan.connect("alice", "right", home=home)
