"""The execution service: one node that runs tasks the scheduler pushes to it.

It has no inbound callers; its server carries only the health service, for `gaiwan status`.
"""

from __future__ import annotations

from ...executors import default_registry
from ...transport import Limits, Transport
from ..runtime import ServiceRuntime
from ._node import ExecutionNode

FUSION_DIR = "fusion"  # under the node's data dir: sealed outputs shared by several owners


def main(runtime: ServiceRuntime) -> None:
    execution = runtime.config.section("execution")
    node = ExecutionNode(
        runtime.channels.get("scheduler"),
        default_registry(),
        slots=int(execution.get("slots", 2)),
        lease_ms=int(execution.get("lease_ms", 10000)),
        log=runtime.log,
        stop=runtime.stop_event,
        transport=Transport(Limits.from_config(execution),
                            fusion_dir=runtime.config.home.root / FUSION_DIR),
    )
    runtime.serve_internal()
    runtime.spawn(node.subscribe_loop, "subscribe")
    runtime.spawn(node.heartbeat_loop, "heartbeat")
    runtime.on_stop(node.shutdown)
    runtime.log.info("execution node", node_id=node.node_id)


__all__ = ["ExecutionNode", "main"]
