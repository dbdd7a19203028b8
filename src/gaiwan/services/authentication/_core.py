"""The authentication service's behaviour, independent of gRPC: login, token checks and user
management under the matrix of `_policy`.

The core talks to storage through the narrow `Storage` protocol only, so its tests run over an
in-process store and the gRPC adapter (`_grpc`) stays a thin translation layer.

Login answers a wrong id and a wrong password with the same error after the same work (a wrong
id is checked against a dummy hash), so neither the message nor the time tells which was wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ... import passwords
from ...errors import ConfigError, InvalidArgument, PermissionDenied, Unauthenticated
from ...roles import Role, RoleKind
from . import _policy
from ._tokens import Claims, TokenCodec
from ._users import Storage, StoredUser, UserRecord, UserStore

DEFAULT_ADMIN = "admin"
DEFAULT_TOKEN_TTL_S = 86400
MAX_ID_CHARS = 256
MAX_PASSWORD_CHARS = 1024
_LOGIN_FAILED = "invalid user id or password"


@dataclass(frozen=True)
class Settings:
    """The [authentication] section of the platform configuration."""

    bootstrap_admin: str = DEFAULT_ADMIN
    bootstrap_admin_hash: str = ""
    token_ttl_s: int = DEFAULT_TOKEN_TTL_S

    def __repr__(self) -> str:
        return f"Settings(bootstrap_admin={self.bootstrap_admin!r}, token_ttl_s={self.token_ttl_s})"

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> "Settings":
        ttl = section.get("token_ttl_s", DEFAULT_TOKEN_TTL_S)
        if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl <= 0:
            raise ConfigError("[authentication] token_ttl_s must be a positive integer")
        return cls(
            bootstrap_admin=str(section.get("bootstrap_admin", DEFAULT_ADMIN)),
            bootstrap_admin_hash=str(section.get("bootstrap_admin_hash", "")),
            token_ttl_s=ttl,
        )


@dataclass(frozen=True)
class Caller:
    """An authenticated caller, as the token and the user table agree it is."""

    id: str
    role: Role


def _check_id(user_id: str, what: str = "user id") -> None:
    if not user_id:
        raise InvalidArgument(f"{what} is required")
    if len(user_id) > MAX_ID_CHARS or not user_id.isprintable():
        raise InvalidArgument(f"{what} must be at most {MAX_ID_CHARS} printable characters")


def _check_password(password: str) -> None:
    if not password:
        raise InvalidArgument("password is required")
    if len(password) > MAX_PASSWORD_CHARS:
        raise InvalidArgument(f"password must be at most {MAX_PASSWORD_CHARS} characters")


def _role(role: str, attribute: str) -> Role:
    parsed = Role.make(role, attribute)  # unknown role -> InvalidArgument
    if parsed.is_data_owner:
        _check_id(attribute, "attribute")
    return parsed


def _unannounced(user_id: str) -> None:
    """The default for `changed`: nobody remembers tokens (tests, tools)."""


class AuthenticationCore:
    def __init__(self, users: UserStore, tokens: TokenCodec,
                 changed: Callable[[str], object] = _unannounced) -> None:
        """changed(user_id) runs after every change to a user, before the change is confirmed
        to its caller (the frontends forget what they remember of the user's tokens)."""
        self._users = users
        self._tokens = tokens
        self._changed = changed
        self._dummy_hash: str | None = None

    @classmethod
    def open(cls, storage: Storage, settings: Settings,
             changed: Callable[[str], object] = _unannounced) -> "AuthenticationCore":
        """Bootstraps the first admin if the platform never had one, and loads the secret."""
        users = UserStore(storage)
        _bootstrap(users, settings)
        return cls(users, TokenCodec(users.token_secret(), settings.token_ttl_s), changed)

    # ---- credentials -------------------------------------------------------------------

    def login(self, user_id: str, password: str) -> str:
        _check_id(user_id)
        _check_password(password)
        user = self._users.get(user_id)
        if user is None:
            passwords.verify_password(self._dummy(), password)  # same cost as a real check
            raise Unauthenticated(_LOGIN_FAILED)
        if not passwords.verify_password(user.record.password_hash, password):
            raise Unauthenticated(_LOGIN_FAILED)
        return self._tokens.issue(user.record.id, user.record.role)

    def authenticate(self, user_id: str, token: str) -> Claims:
        """Valid only while the user exists with the role the token names."""
        if not user_id or not token:
            raise Unauthenticated("missing credentials")
        claims = self._tokens.verify(token)
        if claims.sub != user_id:
            raise Unauthenticated("invalid token")
        user = self._users.get_cached(user_id)
        if user is None or user.record.role != claims.role:
            raise Unauthenticated("invalid token")
        return claims

    def caller(self, user_id: str, token: str) -> Caller:
        claims = self.authenticate(user_id, token)
        return Caller(claims.sub, Role.parse(claims.role))

    # ---- user management ---------------------------------------------------------------

    def register(self, caller: Caller, user_id: str, password: str, role: str,
                 attribute: str) -> None:
        _check_id(user_id)
        _check_password(password)
        new_role = _role(role, attribute)
        if not _policy.may_register(caller.role, new_role):
            raise PermissionDenied("not allowed to register this role")
        self._users.create(UserRecord(user_id, str(new_role), passwords.hash_password(password)))

    def update(self, caller: Caller, user_id: str, password: str, role: str,
               attribute: str) -> None:
        """Sets password and role together (Teaclave's UserUpdate carries both).

        The matrix must allow the user as it is and as it will be, so a manager can neither take
        over another group's user nor promote its own users out of its reach.
        """
        _check_id(user_id)
        _check_password(password)
        new_role = _role(role, attribute)
        user = self._managed(caller, user_id)
        if not _policy.may_manage(caller.role, new_role):
            raise PermissionDenied("not allowed to manage this user")
        record = UserRecord(user_id, str(new_role), passwords.hash_password(password))
        self._users.replace(user, record)
        self._changed(user_id)

    def change_password(self, caller: Caller, password: str) -> None:
        _check_password(password)
        user = self._users.get(caller.id)
        if user is None:  # deleted between authentication and now
            raise Unauthenticated("invalid token")
        record = UserRecord(caller.id, user.record.role, passwords.hash_password(password))
        self._users.replace(user, record)
        self._changed(caller.id)

    def reset_password(self, caller: Caller, user_id: str) -> str:
        """Returns the new random password: the only place it ever appears."""
        _check_id(user_id)
        user = self._managed(caller, user_id)
        password = passwords.random_password()
        record = UserRecord(user_id, user.record.role, passwords.hash_password(password))
        self._users.replace(user, record)
        self._changed(user_id)
        return password

    def delete(self, caller: Caller, user_id: str) -> None:
        _check_id(user_id)
        self._users.delete(self._managed(caller, user_id))
        self._changed(user_id)

    def list_users(self, caller: Caller, requested_id: str) -> list[str]:
        scope = _policy.list_scope(caller.role, requested_id)
        users = self._users.all()
        return sorted(u.id for u in users if scope is None or u.role == str(scope))

    # ---- helpers -----------------------------------------------------------------------

    def _managed(self, caller: Caller, user_id: str) -> StoredUser:
        """The user `caller` wants to change, if the matrix lets it; callers who may manage
        nobody are refused before the lookup, so they cannot probe which ids exist."""
        if not _policy.may_manage_anyone(caller.role):
            raise PermissionDenied("not allowed to manage this user")
        user = self._users.require(user_id)
        if not _policy.may_manage(caller.role, Role.parse(user.record.role)):
            raise PermissionDenied("not allowed to manage this user")
        return user

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = passwords.hash_password(passwords.random_password())
        return self._dummy_hash


def _bootstrap(users: UserStore, settings: Settings) -> bool:
    if users.bootstrapped():
        return False
    _check_id(settings.bootstrap_admin, "[authentication] bootstrap_admin")
    if not settings.bootstrap_admin_hash.startswith("$argon2id$"):
        raise ConfigError(
            "[authentication] bootstrap_admin_hash is missing or not an argon2id hash: "
            "run `gaiwan init` to set the first admin's password")
    admin = UserRecord(settings.bootstrap_admin, str(Role(RoleKind.PLATFORM_ADMIN)),
                       settings.bootstrap_admin_hash)
    return users.bootstrap(admin)
