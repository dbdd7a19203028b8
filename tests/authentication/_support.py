"""Helpers shared by the authentication tests."""

from __future__ import annotations

from gaiwan.services.authentication import AuthenticationCore, Caller

ADMIN_PASSWORD = "teaclave"


def make_user(core: AuthenticationCore, admin: Caller, user_id: str, role: str,
              attribute: str = "") -> Caller:
    """Registers a user as admin and returns it as an authenticated caller."""
    core.register(admin, user_id, f"pw-{user_id}", role, attribute)
    return core.caller(user_id, core.login(user_id, f"pw-{user_id}"))
