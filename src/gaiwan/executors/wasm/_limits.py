"""The bounds every WebAssembly task runs under, set once per node.

Two CPU bounds are offered because they fail differently: fuel counts executed instructions, so
a module runs out at the same point on every node (deterministic, about 10-30% slower code);
the time limit is wall-clock, enforced with epoch interruption (no cost on the hot path). At
least one must be set so that no module can run forever.
"""

from __future__ import annotations

from dataclasses import dataclass

WASM_PAGE = 65536


@dataclass(frozen=True)
class WasmLimits:
    """fuel: instructions per task (None: no fuel metering); time_limit: seconds of wall clock per
    task (None: unbounded); memory_bytes: linear memory of one task, arguments included;
    module_bytes: largest payload accepted; output_bytes: bytes one task may write through the
    file API; cached_modules: compiled modules kept in memory."""

    fuel: int | None = None
    time_limit: float | None = 300.0
    memory_bytes: int = 256 * 1024 * 1024
    module_bytes: int = 32 * 1024 * 1024
    output_bytes: int = 4 * 1024 * 1024 * 1024
    cached_modules: int = 64

    def __post_init__(self) -> None:
        if self.fuel is None and self.time_limit is None:
            raise ValueError("WasmLimits needs a CPU bound: set fuel, time_limit or both")
        if self.fuel is not None and self.fuel <= 0:
            raise ValueError("fuel must be positive")
        if self.time_limit is not None and self.time_limit <= 0:
            raise ValueError("time_limit must be positive")
        if self.memory_bytes < WASM_PAGE:
            raise ValueError(f"memory_bytes must be at least one page ({WASM_PAGE})")
        if min(self.module_bytes, self.output_bytes, self.cached_modules) <= 0:
            raise ValueError("module_bytes, output_bytes and cached_modules must be positive")
