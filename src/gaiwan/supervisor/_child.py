"""One service process as the supervisor sees it: spawned, waited on, stopped.

Each incarnation gets its own waiter thread blocked in `wait()`, which reports the exit the moment
it happens; the supervisor never polls process tables. The child runs in its own session so a
Ctrl-C in the terminal reaches only the supervisor, which then stops the services in order.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from ..home import Home
from ..services.launcher import SUPERVISOR_ENV

EX_CONFIG = 78
"""Exit status of a service that cannot start (launcher): not restarted."""


def output_file(home: Home, service: str) -> Path:
    """Where a service's stdout and stderr go; its structured log is `home.log_file(service)`."""
    return home.logs / f"{service}.out"


class Child:
    """One incarnation of a service process."""

    def __init__(self, home: Home, service: str, generation: int,
                 on_exit: Callable[[str, int, int], None]) -> None:
        self.service = service
        self.generation = generation
        self._out = output_file(home, service)
        home.logs.mkdir(parents=True, exist_ok=True)
        with self._out.open("ab") as out:
            self._offset = out.tell()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gaiwan", "service", service, "--home", str(home.root)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, close_fds=True,
                env={**os.environ, SUPERVISOR_ENV: str(os.getpid())},
            )
        self.exited = threading.Event()
        self.returncode: int | None = None

        def wait() -> None:
            self.returncode = self.proc.wait()
            self.exited.set()
            on_exit(service, generation, self.returncode)

        threading.Thread(target=wait, name=f"wait-{service}", daemon=True).start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def reason(self) -> str:
        """The last line this incarnation printed: a service that cannot start says why there."""
        try:
            with self._out.open("rb") as f:
                f.seek(self._offset)
                text = f.read()[-8192:].decode("utf-8", "replace")
        except OSError:
            return ""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def stop(self, timeout: float) -> bool:
        """SIGTERM, then SIGKILL after `timeout` seconds; True when it stopped on its own."""
        if self.exited.is_set():
            return True
        self._signal(signal.SIGTERM)
        if self.exited.wait(timeout):
            return True
        self._signal(signal.SIGKILL)
        self.exited.wait(5)
        return False

    def _signal(self, sig: signal.Signals) -> None:
        if not self.exited.is_set():
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass
