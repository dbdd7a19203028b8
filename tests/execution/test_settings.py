"""The node's [execution] settings: defaults, limits from config, refusals naming the key."""

from __future__ import annotations

import pytest

from gaiwan.config import default_document
from gaiwan.errors import ConfigError
from gaiwan.executors.python import Limits
from gaiwan.executors.wasm import WasmLimits
from gaiwan.services.execution import NodeSettings

MiB = 1 << 20


def test_written_defaults_are_the_executors_defaults() -> None:
    """What `gaiwan init` writes and an empty section both give the executors' own defaults."""
    for section in (default_document()["execution"], {}):
        settings = NodeSettings.from_section(section)
        assert (settings.python, settings.wasm, settings.slots) == (Limits(), WasmLimits(), 2)
        assert (settings.memory, settings.builtin_memory) == (None, 256 * MiB)  # None: the host's


def test_limits_come_from_config() -> None:
    """Each configured limit reaches the executor that enforces it."""
    settings = NodeSettings.from_section({
        "slots": 4, "python": {"time_s": 5, "memory_mb": 128, "processes": 4},
        "wasm": {"fuel": 1000, "time_s": 0, "memory_mb": 2}})
    assert settings.slots == 4
    assert (settings.python.time, settings.python.memory, settings.python.processes) == (5.0, 128 * MiB, 4)
    assert settings.python.max_time == 600.0
    assert (settings.wasm.fuel, settings.wasm.time_limit, settings.wasm.memory_bytes) == (1000, None, 2 * MiB)
    registry = settings.registry()
    assert registry.get("python").limits == settings.python  # type: ignore[attr-defined]
    assert registry.get("wamr").runtime.limits == settings.wasm  # type: ignore[attr-defined]


def test_memory_the_scheduler_reserves_comes_from_config() -> None:
    """The node's memory and each executor's per-task memory, as the scheduler will see them."""
    settings = NodeSettings.from_section({
        "memory_mb": 3000, "builtin_memory_mb": 0,
        "python": {"memory_mb": 128}, "wasm": {"memory_mb": 2, "module_mb": 3}})
    assert settings.memory == 3000 * MiB
    registry = settings.registry()
    assert {t: registry.get(t).task_memory_bytes() for t in registry.executor_types()} == {
        "builtin": 0, "python": 128 * MiB, "wamr": 5 * MiB, "wasm": 5 * MiB}


def test_executors_key_limits_what_the_node_offers() -> None:
    """Only the listed executors are offered; an unknown one stops the node with its name."""
    registry = NodeSettings.from_section({"executors": ["builtin", "wamr"]}).registry()
    assert registry.executor_types() == ("builtin", "wamr")
    with pytest.raises(ConfigError, match="unknown executor mesapy"):
        NodeSettings.from_section({"executors": ["mesapy"]}).registry()


@pytest.mark.parametrize("section, key", [
    ({"slots": 0}, "execution.slots"),
    ({"memory_mb": 0}, "execution.memory_mb"),
    ({"builtin_memory_mb": -1}, "execution.builtin_memory_mb"),
    ({"python": {"memory_mb": "lots"}}, "execution.python.memory_mb"),
    ({"python": {"time_s": 10, "max_time_s": 5}}, "execution.python.max_time_s"),
    ({"wasm": {"fuel": 0, "time_s": 0}}, "execution.wasm"),
    ({"wasm": 3}, "execution.wasm"),
    ({"executors": "python"}, "execution.executors"),
])
def test_bad_values_refused_with_the_key(section: dict, key: str) -> None:
    """A wrong value is a ConfigError that names its key."""
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        NodeSettings.from_section(section)
