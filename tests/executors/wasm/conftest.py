"""Builds the test modules from their sources: C with clang/wasm-ld, WAT with wasmtime."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
import wasmtime

from gaiwan.executors import CancelEvent, ExecutionOutput
from gaiwan.executors._base import TaskContext
from gaiwan.executors.wasm import WasmExecutor, WasmLimits, WasmRuntime

SOURCES = Path(__file__).parent / "c"


@pytest.fixture(scope="session")
def build_c(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], bytes]:
    """`build_c("add")` compiles tests/executors/wasm/c/add.c to a freestanding wasm32 module."""
    clang = shutil.which("clang")
    if clang is None or shutil.which("wasm-ld") is None:
        pytest.fail("clang and wasm-ld are needed to build the C test modules: apt-get install clang lld")
    out_dir = tmp_path_factory.mktemp("wasm")
    built: dict[str, bytes] = {}

    def build(name: str) -> bytes:
        if name not in built:
            out = out_dir / f"{name}.wasm"
            subprocess.run([clang, "--target=wasm32", "-O2", "-nostdlib", "-Wl,--no-entry",
                            "-o", str(out), str(SOURCES / f"{name}.c")], check=True)
            built[name] = out.read_bytes()
        return built[name]

    return build


def wat(text: str) -> bytes:
    return wasmtime.wat2wasm(text)


def make_task(payload: bytes, arguments: Mapping[str, str] | None = None,
              inputs: Mapping[str, Path] | None = None, outputs: Mapping[str, Path] | None = None) -> TaskContext:
    return TaskContext("task-1", "f", "wamr", payload, dict(arguments or {}),
                       input_paths=dict(inputs or {}), output_paths=dict(outputs or {}))


def run(payload: bytes, limits: WasmLimits | None = None, cancel: CancelEvent | None = None,
        executor: WasmExecutor | None = None, **task: object) -> ExecutionOutput:
    """Runs `payload` as a task (keyword arguments as make_task) on a fresh or given executor."""
    executor = executor or WasmExecutor(runtime=WasmRuntime(limits))
    return executor.run(make_task(payload, **task), cancel or CancelEvent())  # type: ignore[arg-type]
