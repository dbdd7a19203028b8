"""Tests of the gRPC adapter over a real in-process server with Gaiwan's interceptor."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest

from gaiwan.logs import get_logger
from gaiwan.rpc.interceptors import ServerInterceptor
from gaiwan.rpc.pb import teaclave_authentication_service_pb2 as pb
from gaiwan.rpc.pb import teaclave_authentication_service_pb2_grpc as pb_grpc
from gaiwan.rpc.pb import teaclave_common_pb2 as common_pb
from gaiwan.services.authentication import AuthenticationCore, _grpc
from gaiwan.services.announcements import Announcements

from ._support import ADMIN_PASSWORD


@pytest.fixture
def channel(core: AuthenticationCore) -> Iterator[grpc.Channel]:
    log = get_logger("authentication")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                         interceptors=[ServerInterceptor(log, None)])
    _grpc.api(core, log)(server)
    _grpc.internal(core, Announcements())(server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        yield ch
    server.stop(None)


@pytest.fixture
def api(channel: grpc.Channel) -> pb_grpc.TeaclaveAuthenticationApiStub:
    return pb_grpc.TeaclaveAuthenticationApiStub(channel)


@pytest.fixture
def admin_md(api: pb_grpc.TeaclaveAuthenticationApiStub) -> list[tuple[str, str]]:
    token = api.UserLogin(pb.UserLoginRequest(id="admin", password=ADMIN_PASSWORD)).token
    return [("id", "admin"), ("token", token)]


def _code(call, *args, **kwargs) -> grpc.StatusCode:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as info:
        call(*args, **kwargs)
    return info.value.code()


def test_login_then_register_and_list(api: pb_grpc.TeaclaveAuthenticationApiStub,
                                      admin_md: list[tuple[str, str]]) -> None:
    """A Teaclave-style session: login, register a user with metadata, list users."""
    api.UserRegister(pb.UserRegisterRequest(id="bob", password="pw", role="FunctionOwner"),
                     metadata=admin_md)
    ids = api.ListUsers(pb.ListUsersRequest(id="admin"), metadata=admin_md).ids
    assert list(ids) == ["admin", "bob"]


@pytest.mark.parametrize("metadata", [
    [], [("id", "admin")], [("token", "x")], [("id", ""), ("token", "")],
    [("id", "admin"), ("id", "bob"), ("token", "x")],
])
def test_missing_credentials_unauthenticated(api: pb_grpc.TeaclaveAuthenticationApiStub,
                                             metadata: list[tuple[str, str]]) -> None:
    """Calls other than UserLogin without exactly one id and token are UNAUTHENTICATED."""
    request = pb.ListUsersRequest(id="admin")
    assert _code(api.ListUsers, request, metadata=metadata) == grpc.StatusCode.UNAUTHENTICATED


def test_wrong_token_or_id_unauthenticated(api: pb_grpc.TeaclaveAuthenticationApiStub,
                                           admin_md: list[tuple[str, str]]) -> None:
    """A forged token, or a valid token under another id, is UNAUTHENTICATED, not echoed."""
    token = admin_md[1][1]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for md in ([("id", "admin"), ("token", forged)], [("id", "bob"), ("token", token)]):
        with pytest.raises(grpc.RpcError) as info:
            api.DeleteUser(pb.DeleteUserRequest(id="admin"), metadata=md)
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert token[:16] not in (info.value.details() or "")


def test_login_failure_status(api: pb_grpc.TeaclaveAuthenticationApiStub) -> None:
    """A wrong password is UNAUTHENTICATED without any metadata involved."""
    request = pb.UserLoginRequest(id="admin", password="nope")
    assert _code(api.UserLogin, request) == grpc.StatusCode.UNAUTHENTICATED


def test_error_statuses(api: pb_grpc.TeaclaveAuthenticationApiStub,
                        admin_md: list[tuple[str, str]]) -> None:
    """Duplicate id, unknown role, empty id and denial map to their gRPC statuses."""
    reg = pb.UserRegisterRequest(id="bob", password="pw", role="DataOwner", attribute="a")
    api.UserRegister(reg, metadata=admin_md)
    with pytest.raises(grpc.RpcError) as info:
        api.UserRegister(reg, metadata=admin_md)
    assert (info.value.code(), info.value.details()) == (
        grpc.StatusCode.ALREADY_EXISTS, "user id exist")
    bad_role = pb.UserRegisterRequest(id="c", password="pw", role="God")
    assert _code(api.UserRegister, bad_role, metadata=admin_md) == grpc.StatusCode.INVALID_ARGUMENT
    empty = pb.UserRegisterRequest(id="", password="pw", role="FunctionOwner")
    assert _code(api.UserRegister, empty, metadata=admin_md) == grpc.StatusCode.INVALID_ARGUMENT
    bob_token = api.UserLogin(pb.UserLoginRequest(id="bob", password="pw")).token
    bob_md = [("id", "bob"), ("token", bob_token)]
    denied = pb.ListUsersRequest(id="a")
    assert _code(api.ListUsers, denied, metadata=bob_md) == grpc.StatusCode.PERMISSION_DENIED


def test_reset_and_change_password(api: pb_grpc.TeaclaveAuthenticationApiStub,
                                   admin_md: list[tuple[str, str]]) -> None:
    """ResetUserPassword returns a working password; UserChangePassword changes the caller's."""
    api.UserRegister(pb.UserRegisterRequest(id="bob", password="pw", role="FunctionOwner"),
                     metadata=admin_md)
    new = api.ResetUserPassword(pb.ResetUserPasswordRequest(id="bob"), metadata=admin_md).password
    token = api.UserLogin(pb.UserLoginRequest(id="bob", password=new)).token
    api.UserChangePassword(pb.UserChangePasswordRequest(password="mine"),
                           metadata=[("id", "bob"), ("token", token)])
    assert api.UserLogin(pb.UserLoginRequest(id="bob", password="mine")).token


def test_update_and_delete(api: pb_grpc.TeaclaveAuthenticationApiStub,
                           admin_md: list[tuple[str, str]]) -> None:
    """UserUpdate changes the role and DeleteUser removes the user."""
    api.UserRegister(pb.UserRegisterRequest(id="bob", password="pw", role="FunctionOwner"),
                     metadata=admin_md)
    api.UserUpdate(pb.UserUpdateRequest(id="bob", password="pw2", role="DataOwner",
                                        attribute="a"), metadata=admin_md)
    api.DeleteUser(pb.DeleteUserRequest(id="bob"), metadata=admin_md)
    login = pb.UserLoginRequest(id="bob", password="pw2")
    assert _code(api.UserLogin, login) == grpc.StatusCode.UNAUTHENTICATED


def test_internal_user_authenticate(channel: grpc.Channel,
                                    admin_md: list[tuple[str, str]]) -> None:
    """UserAuthenticate returns the claims of a valid credential and rejects a bad one."""
    internal = pb_grpc.TeaclaveAuthenticationInternalStub(channel)
    cred = common_pb.UserCredential(id="admin", token=admin_md[1][1])
    claims = internal.UserAuthenticate(pb.UserAuthenticateRequest(credential=cred)).claims
    assert (claims.sub, claims.role, claims.iss) == ("admin", "PlatformAdmin", "Teaclave")
    assert claims.exp > 0
    other = common_pb.UserCredential(id="bob", token=cred.token)
    bad = pb.UserAuthenticateRequest(credential=other)
    assert _code(internal.UserAuthenticate, bad) == grpc.StatusCode.UNAUTHENTICATED


def test_no_secrets_in_logs(api: pb_grpc.TeaclaveAuthenticationApiStub,
                            caplog: pytest.LogCaptureFixture,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Passwords and tokens never reach the log, on success or failure."""
    monkeypatch.setattr(logging.getLogger("gaiwan"), "propagate", True)
    caplog.set_level(logging.DEBUG, logger="gaiwan")
    token = api.UserLogin(pb.UserLoginRequest(id="admin", password=ADMIN_PASSWORD)).token
    md = [("id", "admin"), ("token", token)]
    new = api.ResetUserPassword(pb.ResetUserPasswordRequest(id="admin"), metadata=md).password
    _code(api.UserLogin, pb.UserLoginRequest(id="admin", password="wrong-guess"))
    text = "\n".join(f"{r.getMessage()} {getattr(r, 'fields', {})}" for r in caplog.records)
    assert "login" in text
    for secret in (ADMIN_PASSWORD, token, new, "wrong-guess"):
        assert secret not in text
