"""The resource limits of one sandboxed Python task."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

MiB = 1 << 20
TIME_LIMIT_ARGUMENT = "time_limit"


@dataclass(frozen=True)
class Limits:
    """Per-task limits. `time` is wall-clock seconds and also the CPU-time rlimit unless
    `cpu_time` is set; a task may ask for a shorter or longer `time` (argument `time_limit`)
    up to `max_time`, so one function cannot hold a node's slot for ever.

    `memory` is the address space the payload may add on top of the pre-loaded runtime
    (RLIMIT_AS is set to the template's size plus this), `processes` counts threads too
    (RLIMIT_NPROC, per task: every task runs under a uid or in a user namespace of its own)."""

    time: float = 60.0
    max_time: float = 600.0
    cpu_time: float | None = None
    memory: int = 1024 * MiB
    processes: int = 16
    open_files: int = 64
    file_size: int = 8192 * MiB
    result_size: int = 1 * MiB
    log_size: int = 64 * 1024

    def for_task(self, arguments: Mapping[str, str]) -> Limits:
        """These limits with the task's `time_limit` argument applied, if it is a valid number."""
        try:
            asked = float(arguments[TIME_LIMIT_ARGUMENT])
        except (KeyError, ValueError):
            return self
        if not math.isfinite(asked) or asked <= 0:
            return self
        return replace(self, time=min(asked, self.max_time))

    @property
    def cpu_seconds(self) -> int:
        """The RLIMIT_CPU soft limit: whole seconds, at least one."""
        return max(1, math.ceil(self.cpu_time if self.cpu_time is not None else self.time))
