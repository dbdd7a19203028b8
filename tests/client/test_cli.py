"""The user, function and task commands through click's CliRunner against a real TLS server."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from gaiwan.cli import main
from gaiwan.rpc.pb import teaclave_common_pb2 as common
from gaiwan.rpc.pb import teaclave_frontend_service_pb2 as fe

from ._pki import Authority, write_client_dir
from .conftest import Endpoint


@pytest.fixture
def home(tmp_path: Path, authority: Authority) -> Path:
    write_client_dir(tmp_path / "home" / "client", authority)
    return tmp_path / "home"


def _run(endpoint: Endpoint, home: Path, *args: str):
    return CliRunner().invoke(main, [*args, "--home", str(home), "--address", endpoint.address])


def _login(endpoint: Endpoint, home: Path) -> None:
    assert _run(endpoint, home, "user", "login", "alice", "--password", "right").exit_code == 0


def test_login_stores_private_session(endpoint: Endpoint, home: Path) -> None:
    """login writes the token to a 0600 session file and does not print it."""
    result = _run(endpoint, home, "user", "login", "alice", "--password", "right")
    assert result.exit_code == 0 and "tok-alice" not in result.output
    session = home / "client" / "session.json"
    assert stat.S_IMODE(session.stat().st_mode) == 0o600
    assert "tok-alice" in session.read_text()


def test_login_prompts_for_password(endpoint: Endpoint, home: Path) -> None:
    """Without --password the password is read from a hidden prompt."""
    result = CliRunner().invoke(main, ["user", "login", "alice", "--home", str(home),
                                       "--address", endpoint.address], input="right\n")
    assert result.exit_code == 0, result.output


def test_failed_login_is_one_line(endpoint: Endpoint, home: Path) -> None:
    """A refused login prints one error line, exits non-zero, and stores nothing."""
    result = _run(endpoint, home, "user", "login", "alice", "--password", "wrong")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: invalid credentials"
    assert not (home / "client" / "session.json").exists()


def test_commands_need_login(endpoint: Endpoint, home: Path) -> None:
    """Without a session the command says how to log in."""
    result = _run(endpoint, home, "task", "get", "task-1")
    assert result.exit_code == 1 and "gaiwan user login" in result.output


def test_task_run_prints_result(endpoint: Endpoint, home: Path) -> None:
    """task run creates, invokes and waits, then prints the return value."""
    _login(endpoint, home)
    ok = common.TaskResult(Ok=common.TaskOutputs(return_value=b"Hello"))
    endpoint.rec.waits.append(fe.GetTaskResponse(task_id="task-1", status=10, result=ok))
    result = _run(endpoint, home, "task", "run", "function-1", "--executor", "builtin",
                  "--arg", "message=Hello")
    assert result.exit_code == 0 and result.output == "Hello\n"
    create = next(c for c in endpoint.rec.calls if c[0] == "CreateTask")
    assert create[1].function_arguments == '{"message": "Hello"}'
    assert create[2]["token"] == "tok-alice"


def test_task_wait_failed_exits_nonzero(endpoint: Endpoint, home: Path) -> None:
    """A failed task prints its reason as the one error line."""
    _login(endpoint, home)
    err = common.TaskResult(Err=common.TaskFailure(reason="function error"))
    endpoint.rec.waits.append(fe.GetTaskResponse(task_id="task-1", status=99, result=err))
    result = _run(endpoint, home, "task", "wait", "task-1")
    assert result.exit_code == 1 and "function error" in result.output


def test_task_create_ownership(endpoint: Endpoint, home: Path) -> None:
    """--input-owner NAME=UID,UID becomes the OwnerList the platform expects."""
    _login(endpoint, home)
    result = _run(endpoint, home, "task", "create", "function-1", "--executor", "builtin",
                  "--input-owner", "data=a,b", "--output-owner", "out=a")
    assert result.exit_code == 0 and result.output.strip() == "task-1"
    request = endpoint.rec.calls[-1][1]
    assert [(o.data_name, list(o.uids)) for o in request.inputs_ownership] == [("data", ["a", "b"])]


def test_bad_pair_is_usage_error(endpoint: Endpoint, home: Path) -> None:
    """--arg without '=' is a usage error (exit 2), not a crash."""
    _login(endpoint, home)
    result = _run(endpoint, home, "task", "create", "f", "--executor", "builtin", "--arg", "oops")
    assert result.exit_code == 2 and "KEY=VALUE" in result.output


def test_function_register_options(endpoint: Endpoint, home: Path, tmp_path: Path) -> None:
    """register maps payload, arguments, inputs, allowlist and quota onto the request."""
    _login(endpoint, home)
    payload = tmp_path / "f.py"
    payload.write_bytes(b"def entrypoint(argv): return 'x'")
    result = _run(endpoint, home, "function", "register", "echo", "--executor-type", "python",
                  "--private", "--payload", str(payload), "--argument", "message",
                  "--fixed-argument", "mode=fast", "--input", "in", "--allow", "bob",
                  "--quota", "5")
    assert result.exit_code == 0 and result.output.strip() == "function-1"
    request = endpoint.rec.calls[-1][1]
    assert request.payload == payload.read_bytes() and not request.public
    assert [(a.key, a.allow_overwrite) for a in request.arguments] == [("message", True), ("mode", False)]
    assert request.usage_quota == 5 and list(request.user_allowlist) == ["bob"]


def test_reset_password_prints_only_the_password(endpoint: Endpoint, home: Path) -> None:
    """reset-password prints the new password the user asked for, and nothing secret else."""
    _login(endpoint, home)
    result = _run(endpoint, home, "user", "reset-password", "bob")
    assert result.output == "new-pw\n"


def test_attestation_refusal_is_one_line(endpoint: Endpoint, home: Path, authority: Authority) -> None:
    """A refused server is reported with the precise reason on one line."""
    (home / "client" / "auditors" / "alice.sign.sha256").unlink()
    result = _run(endpoint, home, "user", "login", "alice", "--password", "right")
    assert result.exit_code == 1 and "has no signature" in result.output
    assert len(result.output.strip().splitlines()) == 1
