"""The built-in functions (spec §8), selected by a function record's name.

Adding one is one module with `NAME` and `run(call: FunctionCall) -> str | bytes`, plus one line
in `_MODULES`.
"""

from __future__ import annotations

from types import ModuleType

from . import echo
from ._api import BuiltinFunction, FunctionCall

_MODULES: tuple[ModuleType, ...] = (
    echo,
)

_BY_NAME: dict[str, BuiltinFunction] = {m.NAME: m.run for m in _MODULES}


def lookup(name: str) -> BuiltinFunction | None:
    return _BY_NAME.get(name)


def names() -> tuple[str, ...]:
    return tuple(sorted(_BY_NAME))


__all__ = ["BuiltinFunction", "FunctionCall", "lookup", "names"]
