"""Argument and text parsing shared by the built-in functions.

Every error names the argument, or the input and line number, and never quotes the value: a
function's failure reason is shown to every participant of the task, while each input belongs to
only some of them. Arguments arrive as strings (JSON numbers and booleans as their JSON text, e.g.
"4", "0.1", "true"), so the parsers accept exactly those spellings.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from ..executors._base import FunctionError
from ._api import FunctionCall


def optional_argument(call: FunctionCall, name: str) -> str | None:
    """The argument's value, or None when the task did not give it."""
    return call.arguments.get(name)


def int_argument(call: FunctionCall, name: str, *, minimum: int | None = None,
                 default: int | None = None) -> int:
    """An integer argument; "4.0" is accepted because JSON clients may send integral floats."""
    text = call.argument(name) if default is None else call.arguments.get(name)
    if text is None:
        return default  # type: ignore[return-value]
    try:
        value = int(text)
    except ValueError:
        number = _to_float(text)
        if number is None or not number.is_integer():
            raise FunctionError(f"argument {name} must be an integer") from None
        value = int(number)
    if minimum is not None and value < minimum:
        raise FunctionError(f"argument {name} must be at least {minimum}")
    return value


def float_argument(call: FunctionCall, name: str, *, above: float | None = None,
                   at_most: float | None = None, default: float | None = None) -> float:
    """A finite number argument, optionally bounded as `above < value <= at_most`."""
    text = call.argument(name) if default is None else call.arguments.get(name)
    if text is None:
        return default  # type: ignore[return-value]
    value = _to_float(text)
    if value is None:
        raise FunctionError(f"argument {name} must be a number")
    if above is not None and value <= above:
        raise FunctionError(f"argument {name} must be greater than {above}")
    if at_most is not None and value > at_most:
        raise FunctionError(f"argument {name} must be at most {at_most}")
    return value


def bool_argument(call: FunctionCall, name: str) -> bool:
    """A JSON boolean argument: "true" or "false"."""
    text = call.argument(name).strip().lower()
    if text not in ("true", "false"):
        raise FunctionError(f"argument {name} must be true or false")
    return text == "true"


def _to_float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def lines(call: FunctionCall, name: str) -> Iterator[tuple[int, str]]:
    """(line number, text without the line ending) of an input, read one line at a time.

    Stops with "stopped" when the task is cancelled, so long inputs honour a stop promptly.
    """
    with call.input(name) as stream:
        for number, raw in enumerate(stream, start=1):
            if call.cancel.is_set():
                raise FunctionError("stopped")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise FunctionError(f"input {name} line {number} is not UTF-8 text") from None
            yield number, text.rstrip("\r\n")


def numbers(text: str, name: str, number: int, columns: int | None = None) -> list[float]:
    """One comma-separated line of finite numbers, checked against the expected column count."""
    fields = text.split(",")
    if columns is not None and len(fields) != columns:
        raise FunctionError(
            f"input {name} line {number}: expected {columns} columns, found {len(fields)}")
    values = [_to_float(field.strip()) for field in fields]
    if any(v is None for v in values):
        raise FunctionError(f"input {name} line {number}: a column is not a number")
    return values  # type: ignore[return-value]


def matrix(call: FunctionCall, name: str, columns: int | None = None) -> np.ndarray:
    """All rows of a numeric CSV input as a float64 matrix; blank lines and ragged rows are
    errors (a silently skipped row would shift every later prediction by one line)."""
    rows: list[list[float]] = []
    for number, text in lines(call, name):
        if not text.strip():
            raise FunctionError(f"input {name} line {number} is empty")
        row = numbers(text, name, number, columns)
        if columns is None:
            columns = len(row)
        rows.append(row)
    if not rows:
        raise FunctionError(f"input {name} has no data")
    return np.asarray(rows, dtype=np.float64)


def labelled(call: FunctionCall, name: str, feature_size: int) -> tuple[np.ndarray, np.ndarray]:
    """(features, labels) of a CSV training input whose last column is the label."""
    data = matrix(call, name, feature_size + 1)
    return data[:, :feature_size], data[:, feature_size]


def write_text(call: FunctionCall, name: str, text: str) -> None:
    """Writes one whole text output, UTF-8 encoded."""
    with call.output(name) as out:
        out.write(text.encode("utf-8"))
