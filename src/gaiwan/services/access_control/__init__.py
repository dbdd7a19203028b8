"""The access control service: every authorization decision, from one Cedar policy set.

Callers use `AccessControlClient` (with the entity helpers of `entities`); the service itself is
`main(runtime)`. `PolicyEngine` is the sans-IO core, usable directly by tools such as a policy
checker.
"""

from __future__ import annotations

from ...errors import ConfigError
from ..runtime import ServiceRuntime
from .client import AccessControlClient
from .engine import Decision, EntityUid, PolicyEngine
from .entities import FRONTEND_API, user_entity, user_uid
from .service import AccessControlServicer, load_engine, policy_files

__all__ = [
    "AccessControlClient",
    "Decision",
    "EntityUid",
    "FRONTEND_API",
    "PolicyEngine",
    "main",
    "policy_files",
    "user_entity",
    "user_uid",
]

EX_CONFIG = 78


def main(runtime: ServiceRuntime) -> None:
    """Loads and validates the policies, then serves Authorize on the internal endpoint."""
    from ...rpc.pb import gaiwan_access_control_pb2_grpc as pb_grpc

    try:
        engine = load_engine(runtime.config, runtime.log)
    except ConfigError as exc:
        runtime.log.error("cannot start", reason=exc.message)
        print(f"gaiwan access_control: {exc.message}", flush=True)
        raise SystemExit(EX_CONFIG) from None
    servicer = AccessControlServicer(engine, runtime.log)
    runtime.serve_internal(lambda server: pb_grpc.add_GaiwanAccessControlServicer_to_server(servicer, server))
