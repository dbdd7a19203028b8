"""The scheduler service: places staged tasks on execution nodes and records their results."""

from __future__ import annotations

from ...rpc.pb import gaiwan_scheduler_pb2_grpc as spb_grpc
from ...storage.client import StorageClient
from ..access_control import AccessControlClient
from ..access_control.client import PolicySetWatch
from ..announcements import Follower
from ..runtime import ServiceRuntime
from ._core import Scheduler
from ._servicer import SchedulerServicer


def main(runtime: ServiceRuntime) -> None:
    execution = runtime.config.section("execution")
    lease_ms = int(execution.get("lease_ms", 10000))
    storage = StorageClient(runtime.channels.get("storage"))
    access_control = AccessControlClient(runtime.channels.get("access_control"))
    policies = PolicySetWatch()
    scheduler = Scheduler(storage, lease_ms, access_control.authorize_all, runtime.log,
                          policy_set=lambda: policies.current)
    servicer = SchedulerServicer(scheduler)
    runtime.serve_internal(lambda server: spb_grpc.add_GaiwanSchedulerServicer_to_server(servicer, server))
    follower = Follower(runtime.channels.get("access_control"), policies, runtime.log,
                        "access_control changes")
    runtime.spawn(follower.run, "access_control-changes")
    runtime.on_stop(follower.close)
    runtime.spawn(scheduler.dispatch_loop, "dispatch")
    runtime.spawn(scheduler.keeper_loop, "lease-keeper")
    runtime.on_stop(scheduler.stop)


__all__ = ["Scheduler", "SchedulerServicer", "main"]
