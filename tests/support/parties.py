"""Users of a real platform for multi-party tests: each a logged-in `Gaiwan` session.

Ids carry a random suffix so modules sharing one platform never collide or reuse each other's
users.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence

from gaiwan.client import (AuthenticationService, FunctionArgument, FunctionInput, FunctionOutput,
                           Gaiwan)
from tests.support.platform import Platform

ZERO_KEY = bytes(16)


def add_user(platform: Platform, name: str, role: str, attribute: str = "") -> Gaiwan:
    """Registers `name-<random>` with the role (as admin) and returns its logged-in session."""
    user_id = f"{name}-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(16)
    home = platform.home
    with AuthenticationService(platform.endpoints["authentication_api"], home.as_root_ca_cert,
                               home.enclave_info) as auth:
        auth.user_login("admin", platform.admin_password)
        auth.user_register(user_id, password, role, attribute)
    return Gaiwan.connect(user_id, password, home=home.root)


def register_builtin(owner: Gaiwan, name: str, arguments: Iterable[str] = (),
                     inputs: Iterable[str] = (), outputs: Iterable[str] = (), public: bool = True,
                     allowlist: Iterable[str] = ()) -> str:
    """Registers a built-in function with the named arguments and files; returns its id."""
    return owner.frontend.register_function(
        name=name, description=name, executor_type="builtin", public=public,
        arguments=[FunctionArgument(a) for a in arguments],
        inputs=[FunctionInput(i, i) for i in inputs], outputs=[FunctionOutput(o, o) for o in outputs],
        user_allowlist=list(allowlist))


def approve_all(task_id: str, parties: Sequence[Gaiwan]) -> None:
    for party in parties:
        party.frontend.approve_task(task_id)


def close_all(parties: Iterable[Gaiwan]) -> None:
    for party in parties:
        party.close()
