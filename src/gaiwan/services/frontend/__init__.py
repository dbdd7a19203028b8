"""The frontend service: Teaclave's public API (TeaclaveFrontend) and Gaiwan's GaiwanTasks on the
`frontend_api` endpoint. Every call is authenticated with the authentication service (whose
answers are remembered while it announces user changes, `token_cache`), checked by the access
control service (whose API decisions are remembered while it announces policy reloads,
`decisions`), forwarded to management and audited; QueryAuditLogs is answered here, from the
audit log this service writes.
"""

from __future__ import annotations

from ...rpc.pb import gaiwan_management_pb2_grpc
from ...storage.client import StorageClient
from ..access_control import AccessControlClient
from ..runtime import ServiceRuntime
from .audit_writer import AuditWriter
from ..announcements import Follower
from .decisions import DEFAULT_DECISION_CACHE_S, CachedApiCheck
from .gate import Authenticator, Gate
from .token_cache import DEFAULT_TOKEN_CACHE_S, TokenCache

__all__ = ["main"]


def main(runtime: ServiceRuntime) -> None:
    """Channels and stubs are made once here and shared by every call (ARCH §8)."""
    channels = runtime.channels
    storage = StorageClient(channels.get("storage"))
    writer = AuditWriter(storage, runtime.log)
    access_control = AccessControlClient(channels.get("access_control"))
    settings = runtime.config.section("frontend")
    tokens = TokenCache(Authenticator(channels.get("authentication"), runtime.log).check,
                        float(settings.get("token_cache_s", DEFAULT_TOKEN_CACHE_S)))
    decisions = CachedApiCheck(access_control.check_api,
                               float(settings.get("decision_cache_s", DEFAULT_DECISION_CACHE_S)))
    gate = Gate(
        authenticate=tokens,
        check_api=decisions,
        management=gaiwan_management_pb2_grpc.GaiwanManagementStub(channels.get("management")),
        audit_writer=writer,
        audit_reader=storage,
        log=runtime.log,
        denied_by=access_control.denied_by,
    )
    runtime.spawn(writer.run, "audit-writer")
    runtime.on_stop(writer.close)
    for name, memory in (("authentication", tokens), ("access_control", decisions)):
        follower = Follower(channels.get(name), memory, runtime.log, f"{name} changes")
        runtime.spawn(follower.run, f"{name}-changes")
        runtime.on_stop(follower.close)
    runtime.serve_public("frontend_api", gate.register)
    runtime.serve_internal()
