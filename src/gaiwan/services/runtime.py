"""What every service process shares: its attested identity, its servers, its channels to other
services, and the background threads it owns.

Background loops (heartbeats, dispatch, lease reaping) are started with `spawn` and belong to the
runtime: they get the runtime's stop event, and `run_until_stopped` drains them on shutdown, so
no thread outlives its server.

Identity renewal: given a `renew` function (the launcher passes one that attests the process
again), a loop renews the identity when two thirds of the mesh certificate's lifetime have
passed: fresh key, fresh evidence, new mesh certificate and new endorsed report. Servers present
the new certificates to new connections (gaiwan.rpc.server.ServerCredentials) and channels switch
to them (gaiwan.rpc.channels.ChannelPool.update) without dropping calls. A refusal (say the
auditors removed this build's measurement from enclave_info) is retried until the certificate
expires; then the service stops, since no peer would accept it any more.

A service process's shutdown has a deadline (`SHUTDOWN_LIMIT_S`, under the supervisor's
SIGTERM-to-SIGKILL wait): a stop hook or a handler thread stuck on a peer that is itself going
away must not keep the process, its ports and its keys alive, least of all when the supervisor
died and nobody follows up with SIGKILL.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from datetime import datetime
from collections.abc import Callable

import grpc
from cryptography import x509
from grpc_health.v1 import health

from ..config import Config
from ..errors import GaiwanError
from ..home import SERVICES
from ..logs import Logger
from ..rpc.channels import ChannelPool
from ..rpc.identity import ServiceIdentity
from ..rpc.server import (
    PRODUCTION_REFUSED_EVIDENCE,
    Register,
    ServerCredentials,
    internal_server,
    mesh_credentials,
    public_server,
    ra_tls_credentials,
    set_serving,
)

RENEW_AT = 2 / 3  # of the mesh certificate's lifetime
RETRY_S = 5.0
SHUTDOWN_LIMIT_S = 8.0
SHUTDOWN_OVERRAN = 70  # EX_SOFTWARE


def exit_after(limit_s: float, log: Logger) -> threading.Timer:
    """Ends the process after `limit_s` seconds, whatever its threads are doing; the timer runs
    on through interpreter exit, where an unfinished worker thread would otherwise be joined
    forever."""

    def overran() -> None:
        log.error("shutdown overran its limit; exiting", limit_s=limit_s)
        logging.shutdown()
        os._exit(SHUTDOWN_OVERRAN)

    timer = threading.Timer(limit_s, overran)
    timer.daemon = True
    timer.start()
    return timer


class ServiceRuntime:
    def __init__(self, config: Config, service: str, identity: ServiceIdentity, log: Logger,
                 renew: Callable[[], ServiceIdentity] | None = None,
                 shutdown_limit_s: float | None = None) -> None:
        """`shutdown_limit_s`: for the owner of the whole process (the launcher), which may end
        it when shutdown overruns; a runtime hosted inside another program leaves it None."""
        self.config = config
        self.service = service
        self.identity = identity
        self.log = log
        self._renew = renew
        self._shutdown_limit_s = shutdown_limit_s
        self._credentials: list[tuple[ServerCredentials, Callable[[ServiceIdentity], bytes]]] = []
        self.stop_event = threading.Event()
        self._signalled = False
        self._servers: list[grpc.Server] = []
        self._health: list[health.HealthServicer] = []
        self._threads: list[threading.Thread] = []
        self._on_stop: list[Callable[[], None]] = []
        targets = {name: config.target(name) for name in SERVICES}
        self.channels = ChannelPool(identity, targets, config.max_message_bytes)

    def serve_internal(self, *register: Register) -> None:
        credentials = mesh_credentials(self.identity)
        self._credentials.append((credentials, lambda i: i.mesh_cert_pem))
        self.serve(*internal_server(
            self.identity, self.config.listen_address(self.service),
            self.config.inbound(self.service), register, self.log,
            workers=self.config.rpc_workers, max_message_bytes=self.config.max_message_bytes,
            credentials=credentials,
            refused_evidence=frozenset() if self.config.development else PRODUCTION_REFUSED_EVIDENCE))

    def serve_public(self, endpoint: str, *register: Register) -> None:
        credentials = ra_tls_credentials(self.identity)
        self._credentials.append((credentials, lambda i: i.ra_tls_cert_pem))
        self.serve(*public_server(
            self.identity, self.config.listen_address(endpoint), register, self.log,
            workers=self.config.rpc_workers, max_message_bytes=self.config.max_message_bytes,
            credentials=credentials))

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

    def rotate(self, identity: ServiceIdentity) -> None:
        """Serves and calls with `identity` from now on; connections already open carry on."""
        self.identity = identity
        for credentials, certificate in self._credentials:
            credentials.replace(identity.key_pem, certificate(identity))
        self.channels.update(identity)
        self.log.info("identity renewed", measurement=identity.measurement,
                      expires=expiry(identity).isoformat(timespec="seconds"))

    def start_renewal(self) -> None:
        """Starts renewing the identity before it expires (when a `renew` function was given)."""
        if self._renew is not None:
            self.spawn(self._renewal_loop, "identity-renewal")

    def _renewal_loop(self, stop: threading.Event) -> None:
        assert self._renew is not None
        while True:
            not_after = expiry(self.identity).timestamp()
            now = time.time()
            wait = max(0.0, (not_after - now) * RENEW_AT)
            if stop.wait(wait):
                return
            while True:
                try:
                    self.rotate(self._renew())
                    break
                except GaiwanError as exc:
                    left = not_after - time.time()
                    self.log.error("cannot renew identity", reason=exc.message, expires_in_s=round(left))
                    if left <= 0:
                        raise
                    if stop.wait(min(RETRY_S, left)):
                        return

    def on_stop(self, callback: Callable[[], None]) -> None:
        self._on_stop.append(callback)

    def _on_signal(self, *_: object) -> None:
        """Sets the stop event once. A handler runs on the main thread between bytecodes, even
        inside Event.set (which holds the event's lock): a second signal arriving there must not
        call set() again, or the main thread deadlocks on its own lock."""
        if self._signalled:
            return
        self._signalled = True
        self.stop_event.set()

    def run_until_stopped(self) -> int:
        """Marks the service healthy, blocks until SIGTERM/SIGINT (or a dead loop), then drains."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        self.start_renewal()
        for servicer in self._health:
            set_serving(servicer, True)
        self.log.info("service ready", measurement=self.identity.measurement)
        while not self.stop_event.wait(3600):
            pass
        if self._shutdown_limit_s is not None:
            exit_after(self._shutdown_limit_s, self.log)
        began = time.monotonic()
        self.shutdown()
        self.log.info("service stopped", seconds=round(time.monotonic() - began, 3))
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


def expiry(identity: ServiceIdentity) -> datetime:
    """When the identity's mesh certificate stops being accepted."""
    return x509.load_pem_x509_certificate(identity.mesh_cert_pem).not_valid_after_utc
