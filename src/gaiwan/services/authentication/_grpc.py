"""gRPC adapter: Teaclave's authentication protos in, core calls, protos out.

Nothing here decides anything. Credentials come from the call metadata (`id`, `token`, spec §1);
a missing or repeated credential is UNAUTHENTICATED, never a guess. Errors are the core's
GaiwanErrors, which the server interceptor turns into statuses.
"""

from __future__ import annotations

import grpc
from google.protobuf import empty_pb2

from ...errors import Unauthenticated
from ...logs import Logger
from ...rpc.pb import teaclave_authentication_service_pb2 as pb
from ...rpc.pb import teaclave_authentication_service_pb2_grpc as pb_grpc
from ...rpc.server import Register
from .. import announcements
from ..announcements import Announcements
from ._core import AuthenticationCore, Caller
from ._tokens import Claims

_EMPTY = empty_pb2.Empty()


def credentials(context: grpc.ServicerContext) -> tuple[str, str]:
    """The (id, token) pair of the call's metadata; raises Unauthenticated if either is absent."""
    found: dict[str, list[str]] = {"id": [], "token": []}
    for key, value in context.invocation_metadata() or ():
        if key in found:
            found[key].append(value if isinstance(value, str) else value.decode("utf-8", "replace"))
    if len(found["id"]) != 1 or len(found["token"]) != 1:
        raise Unauthenticated("missing or ambiguous credentials: send metadata `id` and `token`")
    return found["id"][0], found["token"][0]


def claims_message(claims: Claims) -> pb.UserAuthClaims:
    return pb.UserAuthClaims(sub=claims.sub, role=claims.role, iss=claims.iss, exp=claims.exp)


class ApiServicer(pb_grpc.TeaclaveAuthenticationApiServicer):
    def __init__(self, core: AuthenticationCore, log: Logger) -> None:
        self._core = core
        self._log = log

    def _caller(self, context: grpc.ServicerContext) -> Caller:
        return self._core.caller(*credentials(context))

    def UserLogin(self, request: pb.UserLoginRequest, context: grpc.ServicerContext
                  ) -> pb.UserLoginResponse:
        try:
            token = self._core.login(request.id, request.password)
        except Unauthenticated:
            self._log.info("login failed", user=request.id)
            raise
        self._log.info("login", user=request.id)
        return pb.UserLoginResponse(token=token)

    def UserRegister(self, request: pb.UserRegisterRequest, context: grpc.ServicerContext
                     ) -> empty_pb2.Empty:
        caller = self._caller(context)
        self._core.register(caller, request.id, request.password, request.role, request.attribute)
        self._log.info("user registered", user=request.id, by=caller.id)
        return _EMPTY

    def UserUpdate(self, request: pb.UserUpdateRequest, context: grpc.ServicerContext
                   ) -> empty_pb2.Empty:
        caller = self._caller(context)
        self._core.update(caller, request.id, request.password, request.role, request.attribute)
        self._log.info("user updated", user=request.id, by=caller.id)
        return _EMPTY

    def UserChangePassword(self, request: pb.UserChangePasswordRequest,
                           context: grpc.ServicerContext) -> empty_pb2.Empty:
        caller = self._caller(context)
        self._core.change_password(caller, request.password)
        self._log.info("password changed", user=caller.id)
        return _EMPTY

    def ResetUserPassword(self, request: pb.ResetUserPasswordRequest,
                          context: grpc.ServicerContext) -> pb.ResetUserPasswordResponse:
        caller = self._caller(context)
        password = self._core.reset_password(caller, request.id)
        self._log.info("password reset", user=request.id, by=caller.id)
        return pb.ResetUserPasswordResponse(password=password)

    def DeleteUser(self, request: pb.DeleteUserRequest, context: grpc.ServicerContext
                   ) -> empty_pb2.Empty:
        caller = self._caller(context)
        self._core.delete(caller, request.id)
        self._log.info("user deleted", user=request.id, by=caller.id)
        return _EMPTY

    def ListUsers(self, request: pb.ListUsersRequest, context: grpc.ServicerContext
                  ) -> pb.ListUsersResponse:
        caller = self._caller(context)
        return pb.ListUsersResponse(ids=self._core.list_users(caller, request.id))


class InternalServicer(pb_grpc.TeaclaveAuthenticationInternalServicer):
    """What the frontend asks on every public call: is this credential valid, and whose is it."""

    def __init__(self, core: AuthenticationCore) -> None:
        self._core = core

    def UserAuthenticate(self, request: pb.UserAuthenticateRequest,
                         context: grpc.ServicerContext) -> pb.UserAuthenticateResponse:
        cred = request.credential
        claims = self._core.authenticate(cred.id, cred.token)
        return pb.UserAuthenticateResponse(claims=claims_message(claims))


def api(core: AuthenticationCore, log: Logger) -> Register:
    servicer = ApiServicer(core, log)
    return lambda server: pb_grpc.add_TeaclaveAuthenticationApiServicer_to_server(servicer, server)


def internal(core: AuthenticationCore, changes: Announcements) -> Register:
    servicer, announce = InternalServicer(core), announcements.register(changes)

    def register(server: grpc.Server) -> None:
        pb_grpc.add_TeaclaveAuthenticationInternalServicer_to_server(servicer, server)
        announce(server)

    return register
