"""What a built-in function receives: its arguments, a log, the stop signal, and its files.

Files are plaintext by the time a function sees them: the execution node has fetched each
input, checked its MAC against the registered cmac and decrypted it into the task's private
directory, and it seals and uploads whatever the function writes to an output once the function
returns. A function therefore only opens files by their declared names, in binary mode.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..executors._base import FunctionError


@dataclass
class FunctionCall:
    arguments: Mapping[str, str] = field(repr=False)
    cancel: threading.Event
    input_paths: Mapping[str, Path] = field(default_factory=dict, repr=False)
    output_paths: Mapping[str, Path] = field(default_factory=dict, repr=False)
    log_lines: list[str] = field(default_factory=list)

    def argument(self, name: str) -> str:
        """The argument's value; a missing one is the caller's mistake, named without values."""
        try:
            return self.arguments[name]
        except KeyError:
            raise FunctionError(f"missing argument: {name}") from None

    def has_input(self, name: str) -> bool:
        """False for an optional input the task left out."""
        return name in self.input_paths

    def has_output(self, name: str) -> bool:
        """False for an optional output the task left out."""
        return name in self.output_paths

    def input(self, name: str) -> BinaryIO:
        """The input's plaintext, opened for binary reading (close it, e.g. with `with`)."""
        try:
            path = self.input_paths[name]
        except KeyError:
            raise FunctionError(f"no input named {name!r}") from None
        return open(path, "rb")

    def output(self, name: str) -> BinaryIO:
        """The output's plaintext file, opened for binary writing; what it holds when the
        function returns is what gets sealed and uploaded."""
        try:
            path = self.output_paths[name]
        except KeyError:
            raise FunctionError(f"no output named {name!r}") from None
        return open(path, "wb")

    def log(self, line: str) -> None:
        """Kept in the result only when the task argument save_log is "true"."""
        self.log_lines.append(line)


BuiltinFunction = Callable[[FunctionCall], "str | bytes"]
