"""WASI for modules that import it: the task's files under their function names, nothing else.

The task's plaintext files sit in its private directory under node-chosen names (`in-0`,
`out-1`), while a WASI program opens files by the names its function declares. So each run gets
a fresh view directory inside the task directory, holding a hard link per input under its
name; it is preopened as "/" and is all the module can see. Outputs the module wrote there are
moved to the task's output paths afterwards (regular files only, never a link the module
planted). No environment variables, no arguments, no inherited stdio, no sockets.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import wasmtime

WASI_MODULES = frozenset({"wasi_snapshot_preview1", "wasi_unstable"})


def _exposable(name: str) -> bool:
    return bool(name) and name not in {".", ".."} and "/" not in name and "\0" not in name


def _task_dir(paths: list[Path]) -> str | None:
    parents = {path.parent for path in paths}
    return str(parents.pop()) if len(parents) == 1 else None


@contextmanager
def wasi_view(inputs: Mapping[str, Path], outputs: Mapping[str, Path]) -> Iterator[wasmtime.WasiConfig]:
    """A WASI configuration seeing only the task's files; outputs collected on exit."""
    view = Path(tempfile.mkdtemp(prefix="wasi-", dir=_task_dir([*inputs.values(), *outputs.values()])))
    try:
        for name, path in inputs.items():
            if _exposable(name):
                _link_or_copy(path, view / name)
        config = wasmtime.WasiConfig()
        config.preopen_dir(str(view), "/")
        yield config
        for name, path in outputs.items():
            written = view / name
            if _exposable(name) and name not in inputs and _is_regular(written):
                os.replace(written, path)
    finally:
        shutil.rmtree(view, ignore_errors=True)


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system: a copy costs more but shows the same bytes
        shutil.copyfile(src, dst)


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False
