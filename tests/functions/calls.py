"""A FunctionCall over in-memory inputs and outputs, for testing built-ins without a platform."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path
from typing import BinaryIO

from gaiwan.executors._base import FunctionError
from gaiwan.functions._api import FunctionCall


class _Output(io.BytesIO):
    """Keeps its bytes after close, as the platform keeps what a function wrote."""

    def close(self) -> None:
        self.written = self.getvalue()
        super().close()


class FakeCall(FunctionCall):
    """Inputs are bytes or files; outputs are collected in `written(name)`."""

    def __init__(self, arguments: dict[str, object] | None = None,
                 inputs: dict[str, bytes | Path] | None = None,
                 outputs: tuple[str, ...] = ()) -> None:
        super().__init__({k: _text(v) for k, v in (arguments or {}).items()}, threading.Event())
        self._inputs = dict(inputs or {})
        self._outputs: dict[str, _Output | None] = dict.fromkeys(outputs)

    def input(self, name: str) -> BinaryIO:
        if name not in self._inputs:
            raise FunctionError(f"no input named {name}")
        source = self._inputs[name]
        return open(source, "rb") if isinstance(source, Path) else io.BytesIO(source)

    def has_input(self, name: str) -> bool:
        return name in self._inputs

    def output(self, name: str) -> BinaryIO:
        if name not in self._outputs:
            raise FunctionError(f"no output named {name}")
        self._outputs[name] = _Output()
        return self._outputs[name]  # type: ignore[return-value]

    def has_output(self, name: str) -> bool:
        return name in self._outputs

    def written(self, name: str) -> bytes:
        out = self._outputs[name]
        assert out is not None, f"output {name} was never opened"
        return out.written if out.closed else out.getvalue()


def _text(value: object) -> str:
    """An argument as the platform passes it: strings as is, other JSON values as JSON text."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
