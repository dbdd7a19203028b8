"""The node's `[execution]` settings: slots, lease, which executors it offers and their limits.

Every key is optional: a configuration written before a key existed keeps working with the
executor's own default (`gaiwan init` writes the same defaults, so an operator sees them).
Wrong values stop the node at start with a message naming the key, rather than a node that
runs tasks under limits nobody asked for. TOML has no null, so `wasm.fuel = 0` means no fuel
metering.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from ...errors import ConfigError
from ...executors import ExecutorRegistry, default_registry
from ...executors.python import Limits as PythonLimits
from ...executors.wasm import WasmLimits

MiB = 1 << 20
T = TypeVar("T")


@dataclass(frozen=True)
class NodeSettings:
    slots: int
    lease_ms: int
    memory: int | None  # what tasks may take together; None: the host's physical memory
    builtin_memory: int  # reserved for each built-in task (they run unbounded, in the node)
    offered: tuple[str, ...] | None  # None: every executor the installation has
    python: PythonLimits
    wasm: WasmLimits

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> NodeSettings:
        offered = section.get("executors")
        if offered is not None and not (isinstance(offered, list)
                                        and all(isinstance(x, str) for x in offered)):
            raise ConfigError("execution.executors must be a list of executor types")
        return cls(
            slots=_get(section, "slots", 2, int, "execution.", minimum=1),
            lease_ms=_get(section, "lease_ms", 10000, int, "execution.", minimum=100),
            memory=(_get(section, "memory_mb", 0, int, "execution.", minimum=1) * MiB
                    if "memory_mb" in section else None),
            builtin_memory=_get(section, "builtin_memory_mb", 256, int, "execution.",
                                minimum=0) * MiB,
            offered=None if offered is None else tuple(offered),
            python=_python_limits(_table(section, "python")),
            wasm=_wasm_limits(_table(section, "wasm")),
        )

    def registry(self) -> ExecutorRegistry:
        """The executors to offer, with these limits; an unknown name in `executors` is an error."""
        registry = default_registry(self.python, self.wasm, self.builtin_memory)
        if self.offered is None:
            return registry
        unknown = sorted(set(self.offered) - set(registry.executor_types()))
        if unknown:
            raise ConfigError(f"execution.executors: unknown executor {', '.join(unknown)}; "
                              f"one of: {', '.join(registry.executor_types())}")
        for executor_type in registry.executor_types():
            if executor_type not in self.offered:
                registry.remove(executor_type)
        return registry


def _python_limits(table: Mapping[str, Any]) -> PythonLimits:
    d, key = PythonLimits(), "execution.python."
    time_s = _get(table, "time_s", d.time, float, key, minimum=0.001)
    return PythonLimits(
        time=time_s,
        max_time=_get(table, "max_time_s", max(d.max_time, time_s), float, key, minimum=time_s),
        memory=_get(table, "memory_mb", d.memory // MiB, int, key, minimum=16) * MiB,
        processes=_get(table, "processes", d.processes, int, key, minimum=1),
        open_files=_get(table, "open_files", d.open_files, int, key, minimum=8),
        file_size=_get(table, "file_size_mb", d.file_size // MiB, int, key, minimum=1) * MiB,
        result_size=_get(table, "result_bytes", d.result_size, int, key, minimum=1),
    )


def _wasm_limits(table: Mapping[str, Any]) -> WasmLimits:
    d, key = WasmLimits(), "execution.wasm."
    fuel = _get(table, "fuel", d.fuel or 0, int, key, minimum=0)
    time_s = _get(table, "time_s", d.time_limit or 0.0, float, key, minimum=0.0)
    try:
        return WasmLimits(
            fuel=fuel or None,
            time_limit=time_s or None,
            memory_bytes=_get(table, "memory_mb", d.memory_bytes // MiB, int, key, minimum=1) * MiB,
            module_bytes=_get(table, "module_mb", d.module_bytes // MiB, int, key, minimum=1) * MiB,
            output_bytes=_get(table, "output_mb", d.output_bytes // MiB, int, key, minimum=1) * MiB,
            cached_modules=_get(table, "cached_modules", d.cached_modules, int, key, minimum=1),
        )
    except ValueError as exc:  # no CPU bound at all: both fuel and time_s are 0
        raise ConfigError(f"execution.wasm: {exc}") from None


def _table(section: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    table = section.get(name, {})
    if not isinstance(table, Mapping):
        raise ConfigError(f"execution.{name} must be a table")
    return table


def _get(table: Mapping[str, Any], name: str, default: T, kind: Callable[[Any], T], prefix: str,
         minimum: float) -> T:
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{prefix}{name} must be a number")
    converted = kind(value)
    if converted < minimum:  # type: ignore[operator]
        raise ConfigError(f"{prefix}{name} must be at least {minimum:g}")
    return converted
