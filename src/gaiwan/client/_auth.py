"""Teaclave's AuthenticationService: user accounts and login over the attested channel."""

from __future__ import annotations

from gaiwan.rpc.pb import teaclave_authentication_service_pb2 as auth
from gaiwan.rpc.pb import teaclave_authentication_service_pb2_grpc as auth_grpc

from ._service import _Service

_Stub = auth_grpc.TeaclaveAuthenticationApiStub


class AuthenticationService(_Service):
    """The authentication API; `user_login` keeps the credentials for the calls that need them."""

    _service = "authentication"

    def user_register(self, user_id: str, user_password: str, role: str = "",
                      attribute: str = "") -> None:
        self._call(_Stub, "UserRegister", auth.UserRegisterRequest(
            id=user_id, password=user_password, role=role, attribute=attribute))

    def user_update(self, user_id: str, user_password: str, role: str = "",
                    attribute: str = "") -> None:
        self._call(_Stub, "UserUpdate", auth.UserUpdateRequest(
            id=user_id, password=user_password, role=role, attribute=attribute))

    def user_login(self, user_id: str, user_password: str) -> str:
        token: str = self._call(_Stub, "UserLogin", auth.UserLoginRequest(
            id=user_id, password=user_password)).token
        self.metadata = {"id": user_id, "token": token}
        return token

    def user_change_password(self, user_password: str) -> None:
        self._call(_Stub, "UserChangePassword", auth.UserChangePasswordRequest(password=user_password))

    def reset_user_password(self, user_id: str) -> str:
        """Returns the new random password the platform chose."""
        return str(self._call(_Stub, "ResetUserPassword",
                              auth.ResetUserPasswordRequest(id=user_id)).password)

    def delete_user(self, user_id: str) -> None:
        self._call(_Stub, "DeleteUser", auth.DeleteUserRequest(id=user_id))

    def list_users(self, user_id: str) -> list[str]:
        return list(self._call(_Stub, "ListUsers", auth.ListUsersRequest(id=user_id)).ids)
