"""Users and credentials for end-to-end tests on a platform that other tests share.

Every user gets a fresh id (and a fresh attribute where a role needs one), so tests never see
each other's accounts; all calls go through the attested public endpoints, as a client's would.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from gaiwan.client import AuthenticationService, FrontendService
from tests.support.platform import Platform


def unique(prefix: str) -> str:
    """An id no other test on the same platform will use."""
    return f"{prefix}-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class User:
    id: str
    password: str = field(repr=False)
    role: str
    attribute: str = ""

    @property
    def role_string(self) -> str:
        """The role as tokens and ListUsers scopes spell it (`DataOwner-<attr>`)."""
        return f"{self.role}-{self.attribute}" if self.attribute else self.role


def authentication(platform: Platform) -> AuthenticationService:
    """An attested, not yet logged-in client of the authentication API."""
    home = platform.home
    return AuthenticationService(platform.endpoints["authentication_api"], home.as_root_ca_cert,
                                 home.enclave_info)


def as_user(platform: Platform, user_id: str, password: str) -> AuthenticationService:
    """An authentication API client logged in as `user_id`."""
    client = authentication(platform)
    client.user_login(user_id, password)
    return client


def as_admin(platform: Platform) -> AuthenticationService:
    return as_user(platform, "admin", platform.admin_password)


def register(by: AuthenticationService, role: str, attribute: str = "",
             prefix: str = "user") -> User:
    """A new user of `role`, registered by the logged-in client `by`."""
    user = User(unique(prefix), "pw-" + secrets.token_urlsafe(12), role, attribute)
    by.user_register(user.id, user.password, role, attribute)
    return user


def frontend_with(platform: Platform, metadata: dict[str, str]) -> FrontendService:
    """An attested frontend client sending exactly `metadata` (any credentials, even broken)."""
    home = platform.home
    client = FrontendService(platform.endpoints["frontend_api"], home.as_root_ca_cert,
                             home.enclave_info)
    client.metadata = dict(metadata)
    return client
