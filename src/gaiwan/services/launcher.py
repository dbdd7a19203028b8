"""`gaiwan service <name>`: the single entry point of every service process.

Loads the configuration, sets up logging, proves the service's identity to the attestation
service (which refuses a measurement not in the signed enclave_info), then hands over to the
service's own `main(runtime)`.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import os
import signal
import sys

from ..config import Config
from ..errors import GaiwanError
from ..home import SERVICES, Home
from ..logs import configure, get_logger

_PR_SET_PDEATHSIG = 1


SUPERVISOR_ENV = "GAIWAN_SUPERVISOR_PID"
SWITCH_INTERVAL_S = 0.0005
GC_THRESHOLDS = (20_000, 20, 20)


def _die_with_supervisor() -> None:
    """A service started by `gaiwan up` ends when the supervisor does, even if the supervisor
    itself was killed outright: no orphaned services holding ports and keys."""
    supervisor = os.environ.get(SUPERVISOR_ENV)
    if not supervisor or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != int(supervisor):  # it died before the line above took effect
        raise SystemExit(0)


def tune_interpreter() -> None:
    """The interpreter settings of a service process, once its code is loaded.

    Every call crosses threads (gRPC's poller hands requests to worker threads and results
    back); with CPython's default 5 ms switch interval a woken thread can wait that long for the
    GIL while another thread runs on: services are latency-bound, not throughput-bound. And a
    call allocates thousands of short-lived objects: with the collector's defaults (a young
    collection every 700 allocations, older ones walking every object alive) it costs a service
    about a twentieth of its latency. What is loaded by now lives as long as the process, so it
    is frozen out of the collector's walks, and the young generation is collected less often."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def launch(service: str, home: Home, log_to_file: bool = True) -> int:
    _die_with_supervisor()
    if service not in SERVICES:
        raise SystemExit(f"unknown service {service!r}; one of: {', '.join(SERVICES)}")
    config = Config.load(home)
    configure(service, home.log_file(service) if log_to_file else None)
    log = get_logger(service)
    from ..attestation import establish_identity  # late: keeps `gaiwan --help` fast

    try:
        identity = establish_identity(config, service, log)
    except GaiwanError as exc:
        log.error("cannot start", reason=exc.message)
        print(f"gaiwan {service}: {exc.message}", flush=True)
        return 78  # EX_CONFIG: the supervisor does not restart a service that cannot start
    from .runtime import SHUTDOWN_LIMIT_S, ServiceRuntime

    runtime = ServiceRuntime(config, service, identity, log,
                             renew=lambda: establish_identity(config, service, log),
                             shutdown_limit_s=SHUTDOWN_LIMIT_S)
    module = importlib.import_module(f"gaiwan.services.{service}")
    tune_interpreter()
    try:
        module.main(runtime)
    except GaiwanError as exc:
        log.error("cannot start", reason=exc.message)
        print(f"gaiwan {service}: {exc.message}", flush=True)
        runtime.shutdown()
        return 78
    return runtime.run_until_stopped()
