"""`gaiwan up`: run every service as its own process on this host and keep them running.

One thread owns all state: the main loop takes events (a child exited, a health stream changed,
a stop was asked) from a queue and acts on them; restart back-off and liveness deadlines are
timers of that same loop. Waiter threads and health streams only post events. This was chosen
over a polling loop (slow to notice, busy when idle) and over per-service managers (shared
start order and shutdown order would need locks).

Start order follows `gaiwan.home.SERVICES`: attestation alone until it is ready, then storage
until it is ready, then the rest together. Stop order is the reverse, one service at a time.
"""

from __future__ import annotations

import os
import queue
import signal
import time
from typing import Any

from ..config import Config
from ..home import SERVICES, Home
from ..rpc.identity import ServiceIdentity
from ._child import EX_CONFIG, Child
from ._health import HealthWatch
from ._statefile import SupervisorLock, leftover_pids, write_state
from ._view import Reporter, ServiceRow

PHASES: tuple[tuple[str, ...], ...] = (SERVICES[:1], SERVICES[1:2], SERVICES[2:])
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
STABLE_AFTER_S = 30.0      # an incarnation up this long resets the back-off
UNREADY_LIMIT_S = 90.0     # alive but not serving for this long: killed and restarted
STOP_TIMEOUT_S = 10.0


def _exit_reason(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with status {returncode}"


class Supervisor:
    def __init__(self, home: Home, config: Config, operator: ServiceIdentity) -> None:
        self.home = home
        self._config = config
        self._operator = operator
        self._events: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self.rows = {s: ServiceRow(s, config.target(s)) for s in SERVICES}
        self._children: dict[str, Child] = {}
        self._watches: dict[str, HealthWatch] = {}
        self._generation = {s: 0 for s in SERVICES}
        self._streak = {s: 0 for s in SERVICES}
        self._ready_at: dict[str, float] = {}
        self._timers: dict[tuple[str, str], float] = {}   # (service, "restart"|"unready") -> due
        self._phase = -1
        self._all_ready = False
        self._reporter: Reporter | None = None

    def snapshot(self) -> list[ServiceRow]:
        return [self.rows[s] for s in SERVICES]

    def run(self, reporter: Reporter) -> int:
        """Runs until SIGINT/SIGTERM, then stops every service; returns the exit status."""
        lock = SupervisorLock(self.home)
        lock.acquire()
        try:
            for pid in leftover_pids(self.home):
                os.kill(pid, signal.SIGKILL)
            self._reporter = reporter
            previous = {sig: signal.signal(sig, lambda *_: self._events.put(("stop",)))
                        for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                with reporter:
                    self._save()
                    self._advance()
                    self._loop()
                    self._shutdown()
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
        finally:
            lock.release()
        return 0

    # -- the loop -----------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            timeout = None
            if self._timers:
                timeout = max(0.0, min(self._timers.values()) - time.monotonic())
            try:
                event = self._events.get(timeout=timeout)
            except queue.Empty:
                event = None
            if event is not None:
                if event[0] == "stop":
                    return
                if event[0] == "exited":
                    self._on_exit(*event[1:])
                elif event[0] == "health":
                    self._on_health(*event[1:])
            self._fire_timers()

    def _fire_timers(self) -> None:
        now = time.monotonic()
        for key, due in list(self._timers.items()):
            if due > now:
                continue
            del self._timers[key]
            service, kind = key
            if kind == "restart":
                self._spawn(service)
            elif kind == "unready" and service in self._children:
                self._set(service, reason=f"not serving for {int(UNREADY_LIMIT_S)} s: killed")
                self._children[service].kill()

    def _advance(self) -> None:
        """Starts the next phase once every service of the current one is ready (or failed)."""
        while self._phase < len(PHASES) - 1:
            if self._phase >= 0 and any(
                    self.rows[s].state not in ("ready", "failed") for s in PHASES[self._phase]):
                return
            self._phase += 1
            for service in PHASES[self._phase]:
                self._spawn(service)

    # -- events -------------------------------------------------------------------------------

    def _spawn(self, service: str) -> None:
        self._generation[service] += 1
        gen = self._generation[service]
        child = Child(self.home, service, gen,
                      lambda s, g, rc: self._events.put(("exited", s, g, rc)))
        self._children[service] = child
        self._watches[service] = HealthWatch(
            self._config, self._operator, service,
            lambda serving: self._events.put(("health", service, gen, serving)))
        self._timers[(service, "unready")] = time.monotonic() + UNREADY_LIMIT_S
        self._set(service, state="starting", pid=child.pid, started=time.time(), reason="")

    def _on_exit(self, service: str, gen: int, returncode: int) -> None:
        if gen != self._generation[service]:
            return
        child = self._children.pop(service)
        self._close_watch(service)
        self._timers.pop((service, "unready"), None)
        self._all_ready = False
        if returncode == EX_CONFIG:
            self._set(service, state="failed", pid=None,
                      reason=child.reason() or "cannot start (exit status 78)")
            self._advance()
            return
        ready_at = self._ready_at.pop(service, None)
        if ready_at is not None and time.monotonic() - ready_at >= STABLE_AFTER_S:
            self._streak[service] = 0
        delay = min(BACKOFF_FIRST_S * 2 ** self._streak[service], BACKOFF_MAX_S)
        self._streak[service] += 1
        self._timers[(service, "restart")] = time.monotonic() + delay
        row = self.rows[service]
        reason = row.reason if row.reason.endswith("killed") else _exit_reason(returncode)
        self._set(service, state="restarting", pid=None, restarts=row.restarts + 1,
                  reason=f"{reason}; restart in {delay:.1f} s")

    def _on_health(self, service: str, gen: int, serving: bool) -> None:
        if gen != self._generation[service] or service not in self._children:
            return
        state = self.rows[service].state
        if serving and state == "starting":
            self._timers.pop((service, "unready"), None)
            self._ready_at[service] = time.monotonic()
            self._set(service, state="ready", reason="")
            self._advance()
            if not self._all_ready and all(r.state == "ready" for r in self.rows.values()):
                self._all_ready = True
                self._note("ready")
        elif not serving and state == "ready":
            self._all_ready = False
            self._ready_at.pop(service, None)
            self._timers[(service, "unready")] = time.monotonic() + UNREADY_LIMIT_S
            self._set(service, state="starting", reason="not serving")

    # -- shutdown -----------------------------------------------------------------------------

    def _shutdown(self) -> None:
        self._timers.clear()
        self._note("stopping")
        for service in reversed(SERVICES):
            child = self._children.pop(service, None)
            self._close_watch(service)
            if child is not None:
                clean = child.stop(STOP_TIMEOUT_S)
                self._set(service, state="stopped", pid=None,
                          reason="" if clean else f"killed after {int(STOP_TIMEOUT_S)} s")
            elif self.rows[service].state != "failed":
                self._set(service, state="stopped", pid=None, reason="")
        self._note("stopped")

    # -- helpers ------------------------------------------------------------------------------

    def _close_watch(self, service: str) -> None:
        watch = self._watches.pop(service, None)
        if watch is not None:
            watch.close()

    def _set(self, service: str, **changes: Any) -> None:
        row = self.rows[service]
        for key, value in changes.items():
            setattr(row, key, value)
        self._save()
        if self._reporter is not None:
            self._reporter.changed(row)

    def _note(self, text: str) -> None:
        if self._reporter is not None:
            self._reporter.note(text)

    def _save(self) -> None:
        write_state(self.home, {
            "pid": os.getpid(),
            "home": str(self.home.root),
            "mode": self._config.mode,
            "services": {
                r.name: {"pid": r.pid, "state": r.state, "restarts": r.restarts,
                         "endpoint": r.endpoint, "reason": r.reason}
                for r in self.snapshot()
            },
        })
