"""The built-in functions (spec §8), selected by a function record's name.

Adding one is one module with `NAME` and `run(call: FunctionCall) -> str | bytes`, plus one line
in `_MODULES`.
"""

from __future__ import annotations

from types import ModuleType

from . import (
    echo,
    face_detection,
    gbdt_predict,
    gbdt_train,
    logistic_regression_predict,
    logistic_regression_train,
    online_decrypt,
    ordered_set_intersect,
    ordered_set_join,
    password_check,
    principal_components_analysis,
    private_join_and_compute,
    rsa_sign,
)
from ._api import BuiltinFunction, FunctionCall

_MODULES: tuple[ModuleType, ...] = (
    echo,
    gbdt_train,
    gbdt_predict,
    logistic_regression_train,
    logistic_regression_predict,
    private_join_and_compute,
    ordered_set_intersect,
    ordered_set_join,
    rsa_sign,
    face_detection,
    principal_components_analysis,
    password_check,
    online_decrypt,
)

_BY_NAME: dict[str, BuiltinFunction] = {m.NAME: m.run for m in _MODULES}


def lookup(name: str) -> BuiltinFunction | None:
    return _BY_NAME.get(name)


def names() -> tuple[str, ...]:
    return tuple(sorted(_BY_NAME))


__all__ = ["BuiltinFunction", "FunctionCall", "lookup", "names"]
