"""The execution service: one node that runs tasks the scheduler pushes to it.

It has no inbound callers; its server carries only the health service, for `gaiwan status`.
It calls the scheduler (assignments, heartbeats, results) and storage, for fusion files only:
they live there, not on the node, so any node reads what another wrote.
"""

from __future__ import annotations

from ...storage import StorageClient
from ...transport import FusionStore, Limits, Transport
from ..runtime import ServiceRuntime
from ._node import ExecutionNode
from ._settings import NodeSettings


def main(runtime: ServiceRuntime) -> None:
    execution = runtime.config.section("execution")
    settings = NodeSettings.from_section(execution)
    fusion = FusionStore(StorageClient(runtime.channels.get("storage")),
                         runtime.config.max_message_bytes)
    node = ExecutionNode(
        runtime.channels.get("scheduler"),
        settings.registry(),
        slots=settings.slots,
        lease_ms=settings.lease_ms,
        log=runtime.log,
        stop=runtime.stop_event,
        transport=Transport(Limits.from_config(execution), fusion=fusion),
        memory_bytes=settings.memory,
    )
    runtime.on_stop(node.shutdown)
    node.start_executors()
    runtime.serve_internal()
    runtime.spawn(node.subscribe_loop, "subscribe")
    runtime.spawn(node.heartbeat_loop, "heartbeat")
    caps = node.capabilities()
    runtime.log.info("execution node", node_id=node.node_id, slots=caps.slots,
                     memory_mb=caps.memory_bytes >> 20,
                     executors=",".join(caps.executors),
                     python_memory_mb=settings.python.memory >> 20,
                     python_time_s=settings.python.time)


__all__ = ["ExecutionNode", "NodeSettings", "main"]
