"""run/supervisor.json and the lock that makes one supervisor per data directory.

The lock is an advisory `flock` on run/supervisor.lock, held for the supervisor's lifetime: the
kernel drops it when the process dies, so a crashed supervisor never leaves a stale lock behind
(a pid file alone could name a recycled pid). supervisor.json is rewritten atomically on every
state change so `gaiwan status` and tests read a consistent snapshot.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path
from typing import IO, Any

from ..errors import ConfigError
from ..home import Home


def state_path(home: Home) -> Path:
    return home.run / "supervisor.json"


def read_state(home: Home) -> dict[str, Any] | None:
    """The last snapshot written by a supervisor of `home`, or None if there is none."""
    try:
        return dict(json.loads(state_path(home).read_text()))
    except (OSError, ValueError):
        return None


def write_state(home: Home, state: dict[str, Any]) -> None:
    path = state_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({**state, "updated_at": time.time()}, indent=2))
    os.replace(tmp, path)


class SupervisorLock:
    """Exclusive ownership of a data directory by one live supervisor."""

    def __init__(self, home: Home) -> None:
        self._home = home
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self._home.run.mkdir(parents=True, exist_ok=True)
        f = (self._home.run / "supervisor.lock").open("a+")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            other = (read_state(self._home) or {}).get("pid", "?")
            raise ConfigError(
                f"another supervisor (pid {other}) is running for {self._home.root}; "
                "stop it first (Ctrl-C or SIGTERM)") from None
        self._file = f

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def leftover_pids(home: Home) -> list[int]:
    """Service processes a dead supervisor of this home left running (checked by command line)."""
    state = read_state(home) or {}
    found = []
    for info in state.get("services", {}).values():
        pid = info.get("pid")
        if not isinstance(pid, int):
            continue
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"service" in argv and str(home.root).encode() in argv:
            found.append(pid)
    return found
