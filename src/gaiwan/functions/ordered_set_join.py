"""builtin-ordered-set-join: joins two CSV inputs sorted on their key columns (spec §8).

`input_data1` is keyed on column `left_column`, `input_data2` on `right_column` (both from 0),
both sorted on that key as strings, ascending when `ascending` is true. For each key present in
both, `output_result` gets the row of input 1 (without its key column when `drop` is true) followed
by the row of input 2 without its key column. As in Teaclave, a match consumes one row from each
side (no cross product for repeated keys). Both inputs are streamed; a row out of order fails the
task, since the merge would silently miss matches.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from ..executors._base import FunctionError
from ._api import FunctionCall
from ._parsing import bool_argument, int_argument, lines

NAME = "builtin-ordered-set-join"


def run(call: FunctionCall) -> str:
    left_column = int_argument(call, "left_column", minimum=0)
    right_column = int_argument(call, "right_column", minimum=0)
    ascending = bool_argument(call, "ascending")
    drop = bool_argument(call, "drop")
    left = _rows(call, "input_data1", left_column, ascending)
    right = _rows(call, "input_data2", right_column, ascending)
    count = 0
    with call.output("output_result") as raw:
        out = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = csv.writer(out, lineterminator="\n")
        a, b = next(left, None), next(right, None)
        if a is None or b is None:
            raise FunctionError(f"input {'input_data1' if a is None else 'input_data2'} is empty")
        while a is not None and b is not None:
            key_a, key_b = a[left_column], b[right_column]
            if key_a == key_b:
                first = _without(a, left_column) if drop else a
                writer.writerow(first + _without(b, right_column))
                count += 1
                a, b = next(left, None), next(right, None)
            elif (key_a < key_b) == ascending:
                a = next(left, None)
            else:
                b = next(right, None)
        # Drain both so an unsorted tail is reported rather than ignored.
        for _ in left:
            pass
        for _ in right:
            pass
        out.flush()
        out.detach()
    return f"{count} records"


def _without(row: list[str], column: int) -> list[str]:
    return row[:column] + row[column + 1:]


def _rows(call: FunctionCall, name: str, key: int, ascending: bool) -> Iterator[list[str]]:
    """The CSV rows of one input (blank lines skipped), checked for the key column and order."""
    previous: str | None = None
    for number, text in lines(call, name):
        if not text.strip():
            continue
        try:
            row = next(csv.reader([text]))
        except csv.Error:
            raise FunctionError(f"input {name} line {number} is not valid CSV") from None
        if key >= len(row):
            raise FunctionError(f"input {name} line {number} has no column {key}")
        if previous is not None and (row[key] < previous if ascending else row[key] > previous):
            raise FunctionError(f"input {name} line {number} is out of order")
        previous = row[key]
        yield row
