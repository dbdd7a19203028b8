"""The authentication service: users, passwords and tokens (spec §4).

Serves Teaclave's TeaclaveAuthenticationApi to clients on the `authentication_api` endpoint and
TeaclaveAuthenticationInternal/UserAuthenticate to the frontend on the mesh, with the stream of
user changes a frontend that remembers accepted tokens must hear of (`services.announcements`). State
lives in the storage service under `auth/`; see `_users` for the keys and `_policy` for who may
manage whom.
"""

from __future__ import annotations

from collections.abc import Callable

from ...errors import DeadlineExceeded, Unavailable
from ...services.runtime import ServiceRuntime
from ..announcements import Announcements
from ...storage.client import StorageClient
from . import _grpc
from ._core import AuthenticationCore, Caller, Settings
from ._tokens import Claims

__all__ = ["AuthenticationCore", "Caller", "Claims", "Settings", "main"]

_STARTUP_ATTEMPTS = 30


def main(runtime: ServiceRuntime) -> None:
    settings = Settings.from_section(runtime.config.section("authentication"))
    storage = StorageClient(runtime.channels.get("storage"))
    user_changes = Announcements()
    core = _open(storage, settings, runtime, user_changes.announce)
    runtime.on_stop(user_changes.close)
    runtime.serve_internal(_grpc.internal(core, user_changes))
    runtime.serve_public("authentication_api", _grpc.api(core, runtime.log))


def _open(storage: StorageClient, settings: Settings, runtime: ServiceRuntime,
          changed: Callable[[str], object]) -> AuthenticationCore:
    """Storage starts just before this service and may not answer yet: wait for it, briefly."""
    for attempt in range(1, _STARTUP_ATTEMPTS + 1):
        try:
            return AuthenticationCore.open(storage, settings, changed)
        except (Unavailable, DeadlineExceeded):
            runtime.log.info("waiting for storage", attempt=attempt)
            if runtime.stop_event.wait(1.0):
                break
    raise Unavailable("storage service unreachable")
