"""GaiwanScheduler over gRPC: protobuf in, scheduler events, protobuf out."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
from google.protobuf import empty_pb2

from ...errors import InvalidArgument
from ...rpc.pb import gaiwan_scheduler_pb2 as spb
from ...rpc.pb import gaiwan_scheduler_pb2_grpc as spb_grpc
from . import wire
from ._core import Scheduler
from ._nodes import Capabilities


def _require(value: str, what: str) -> str:
    if not value:
        raise InvalidArgument(f"{what} is required")
    return value


class SchedulerServicer(spb_grpc.GaiwanSchedulerServicer):
    def __init__(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler

    def Subscribe(self, request: spb.SubscribeRequest,
                  context: grpc.ServicerContext) -> Iterator[spb.SchedulerCommand]:
        node_id = _require(request.node_id, "node_id")
        caps = Capabilities.from_pb(request.capabilities)
        if caps.slots == 0:
            raise InvalidArgument("a node must offer at least one slot")
        if oversized := caps.oversized():
            raise InvalidArgument(f"one task of executor {', '.join(oversized)} may take more "
                                  "memory than the node offers")
        session = self._scheduler.connect(node_id, caps)
        context.add_callback(session.close)
        context.send_initial_metadata(())
        try:
            yield from session.commands()
        finally:
            self._scheduler.disconnect(session)

    def Heartbeat(self, request: spb.HeartbeatRequest,
                  context: grpc.ServicerContext) -> spb.HeartbeatResponse:
        node_id = _require(request.node_id, "node_id")
        stop = self._scheduler.heartbeat(node_id, list(request.running_task_ids))
        return spb.HeartbeatResponse(stop_task_ids=stop)

    def FinishTask(self, request: spb.FinishTaskRequest,
                   context: grpc.ServicerContext) -> empty_pb2.Empty:
        self._scheduler.finish(_require(request.node_id, "node_id"),
                               _require(request.task_id, "task_id"),
                               wire.result_from_pb(request.result), dict(request.output_cmacs))
        return empty_pb2.Empty()

    def CancelRunning(self, request: spb.CancelRunningRequest,
                      context: grpc.ServicerContext) -> empty_pb2.Empty:
        self._scheduler.cancel_running(_require(request.task_id, "task_id"))
        return empty_pb2.Empty()
