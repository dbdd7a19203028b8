"""The management service: functions, files and the task state machine (spec §6).

Serves GaiwanManagement to the frontend on the mesh. Records live in the storage service under
`fn/`, `data/` and `task/`; staged task ids go on queue `tasks` for the scheduler. Who may do what
is decided by the access control service, asked from `_rules` alone; `_tasks` is the state
machine; `_grpc` only translates.
"""

from __future__ import annotations

from ...rpc.pb import gaiwan_scheduler_pb2 as scheduler_pb
from ...rpc.pb import gaiwan_scheduler_pb2_grpc as scheduler_grpc
from ...services.runtime import ServiceRuntime
from ...storage.client import StorageClient
from ..access_control import AccessControlClient
from . import _grpc
from ._core import Management
from ._rules import Caller

__all__ = ["Caller", "Management", "main"]

_CANCEL_TIMEOUT_S = 5.0


def main(runtime: ServiceRuntime) -> None:
    storage = StorageClient(runtime.channels.get("storage"))
    scheduler = scheduler_grpc.GaiwanSchedulerStub(runtime.channels.get("scheduler"))

    def cancel_running(task_id: str) -> None:
        scheduler.CancelRunning(scheduler_pb.CancelRunningRequest(task_id=task_id),
                                timeout=_CANCEL_TIMEOUT_S)

    authorizer = AccessControlClient(runtime.channels.get("access_control"))
    core = Management(storage, authorizer, cancel_running, runtime.log)
    runtime.serve_internal(_grpc.register(core))
