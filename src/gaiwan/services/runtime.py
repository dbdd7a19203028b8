"""What every service process shares: its attested identity, its servers, its channels to other
services, and the background threads it owns.

Background loops (heartbeats, dispatch, lease reaping) are started with `spawn` and belong to the
runtime: they get the runtime's stop event, and `run_until_stopped` drains them on shutdown, so
no thread outlives its server.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

import grpc
from grpc_health.v1 import health

from ..config import Config
from ..home import SERVICES
from ..logs import Logger
from ..rpc.channels import ChannelPool
from ..rpc.identity import ServiceIdentity
from ..rpc.server import Register, internal_server, public_server, set_serving


class ServiceRuntime:
    def __init__(self, config: Config, service: str, identity: ServiceIdentity, log: Logger) -> None:
        self.config = config
        self.service = service
        self.identity = identity
        self.log = log
        self.stop_event = threading.Event()
        self._servers: list[grpc.Server] = []
        self._health: list[health.HealthServicer] = []
        self._threads: list[threading.Thread] = []
        self._on_stop: list[Callable[[], None]] = []
        targets = {name: config.target(name) for name in SERVICES}
        self.channels = ChannelPool(identity, targets, config.max_message_bytes)

    def serve_internal(self, *register: Register) -> None:
        server, servicer = internal_server(
            self.identity,
            self.config.listen_address(self.service),
            self.config.inbound(self.service),
            register,
            self.log,
            workers=self.config.rpc_workers,
            max_message_bytes=self.config.max_message_bytes,
        )
        server.start()
        self._servers.append(server)
        self._health.append(servicer)

    def serve_public(self, endpoint: str, *register: Register) -> None:
        server, servicer = public_server(
            self.identity,
            self.config.listen_address(endpoint),
            register,
            self.log,
            workers=self.config.rpc_workers,
            max_message_bytes=self.config.max_message_bytes,
        )
        server.start()
        self._servers.append(server)
        self._health.append(servicer)

    def serve(self, server: grpc.Server, health_servicer: health.HealthServicer | None = None) -> None:
        """Starts a server the service built itself (its own TLS policy) and owns it from now on."""
        server.start()
        self._servers.append(server)
        if health_servicer is not None:
            self._health.append(health_servicer)

    def spawn(self, target: Callable[[threading.Event], None], name: str) -> threading.Thread:
        """Runs `target(stop_event)` in a thread owned by this runtime."""

        def body() -> None:
            try:
                target(self.stop_event)
            except Exception as exc:  # noqa: BLE001
                if not self.stop_event.is_set():
                    self.log.error("background task died", task=name, error=type(exc).__name__)
                    self.stop_event.set()  # a dead loop means a broken service: let it restart

        thread = threading.Thread(target=body, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)
        return thread

    def on_stop(self, callback: Callable[[], None]) -> None:
        self._on_stop.append(callback)

    def run_until_stopped(self) -> int:
        """Marks the service healthy, blocks until SIGTERM/SIGINT (or a dead loop), then drains."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop_event.set())
        for servicer in self._health:
            set_serving(servicer, True)
        self.log.info("service ready", measurement=self.identity.measurement)
        while not self.stop_event.wait(3600):
            pass
        self.shutdown()
        return 0

    def shutdown(self) -> None:
        """Stops loops, stop hooks, servers and channels, in that order."""
        self.stop_event.set()
        self.log.info("service stopping")
        for servicer in self._health:
            set_serving(servicer, False)
        for callback in reversed(self._on_stop):
            try:
                callback()
            except Exception as exc:  # noqa: BLE001
                self.log.warning("stop hook failed", error=type(exc).__name__)
        events = [server.stop(grace=2.0) for server in self._servers]
        for ev in events:
            ev.wait(5)
        for thread in self._threads:
            thread.join(timeout=5)
        self.channels.close()
