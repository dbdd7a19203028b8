"""What a built-in function receives: its arguments, a log, the stop signal, and its files."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..executors._base import FileRef, FunctionError


@dataclass
class FunctionCall:
    arguments: Mapping[str, str] = field(repr=False)
    cancel: threading.Event
    inputs: tuple[FileRef, ...] = ()
    outputs: tuple[FileRef, ...] = ()
    log_lines: list[str] = field(default_factory=list)

    def argument(self, name: str) -> str:
        """The argument's value; a missing one is the caller's mistake, named without values."""
        try:
            return self.arguments[name]
        except KeyError:
            raise FunctionError(f"missing argument: {name}") from None

    def log(self, line: str) -> None:
        """Kept in the result only when the task argument save_log is "true"."""
        self.log_lines.append(line)


BuiltinFunction = Callable[[FunctionCall], "str | bytes"]
