"""The access control service: every authorization decision, from one Cedar policy set.

Callers use `AccessControlClient` (with the entity helpers of `entities`); the service itself is
`main(runtime)`. `PolicyEngine` is the sans-IO core, usable directly by tools such as the policy
checker and by tests, since it answers `authorize_all` exactly as the client does.
"""

from __future__ import annotations

import signal
import threading

from ...errors import ConfigError
from .. import announcements
from ..announcements import Announcements
from ..runtime import ServiceRuntime
from .client import AccessControlClient
from .engine import Decision, EntityUid, Origin, PolicyEngine, Query
from .entities import FRONTEND_API, Entities, user_entity, user_uid
from .service import AccessControlServicer, load_engine, operator_policy_dir, policy_files, write_status

__all__ = [
    "AccessControlClient",
    "Decision",
    "Entities",
    "EntityUid",
    "FRONTEND_API",
    "Origin",
    "PolicyEngine",
    "Query",
    "main",
    "operator_policy_dir",
    "policy_files",
    "user_entity",
    "user_uid",
]

EX_CONFIG = 78


def main(runtime: ServiceRuntime) -> None:
    """Loads and validates the policies, then serves Authorize, and the announcements of policy
    reloads, on the internal endpoint; SIGHUP reloads them (in a thread of the runtime: a signal
    handler only wakes it)."""
    from ...rpc.pb import gaiwan_access_control_pb2_grpc as pb_grpc

    try:
        engine = load_engine(runtime.config, runtime.log)
    except ConfigError as exc:
        runtime.log.error("cannot start", reason=exc.message)
        print(f"gaiwan access_control: {exc.message}", flush=True)
        raise SystemExit(EX_CONFIG) from None
    policy_changes = Announcements()
    servicer = AccessControlServicer(engine, runtime.log, policy_changes.announce)
    write_status(runtime.config, 0, engine)
    runtime.on_stop(policy_changes.close)
    runtime.serve_internal(lambda server: pb_grpc.add_GaiwanAccessControlServicer_to_server(servicer, server),
                           announcements.register(policy_changes, lambda: servicer.engine.policy_set))

    wake = threading.Event()

    def reload_loop(stop: threading.Event) -> None:
        generation = 0
        while True:
            wake.wait()
            if stop.is_set():
                return
            wake.clear()
            generation += 1
            servicer.reload(runtime.config, generation)

    signal.signal(signal.SIGHUP, lambda *_: wake.set())
    runtime.spawn(reload_loop, "policy-reload")
    runtime.on_stop(wake.set)
