"""builtin-ordered-set-intersect: which items of two sorted lists the other party also has.

`input_data1` and `input_data2` hold one hex-encoded hash per line, both sorted in the `order`
argument's direction (`ascending`, or `desending` as Teaclave spells it; `descending` is accepted
too). Each party's output (`output_result1`, `output_result2`) holds one character per input line,
`1` when the item is in the other list and `0` otherwise, with no separators, exactly as Teaclave
writes it. The two lists are merged in one pass, each read line by line; a line out of order fails
the task, since the merge would silently miss matches.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..executors._base import FunctionError
from ._api import FunctionCall
from ._parsing import lines

NAME = "builtin-ordered-set-intersect"

_ORDERS = {"ascending": True, "desending": False, "descending": False}


def run(call: FunctionCall) -> str:
    ascending = _ORDERS.get(call.argument("order"))
    if ascending is None:
        raise FunctionError("argument order must be ascending or desending")
    left = _items(call, "input_data1", ascending)
    right = _items(call, "input_data2", ascending)
    common = 0
    with call.output("output_result1") as out1, call.output("output_result2") as out2:
        a, b = next(left, None), next(right, None)
        while a is not None and b is not None:
            if a == b:
                common += 1
                out1.write(b"1")
                out2.write(b"1")
                a, b = next(left, None), next(right, None)
            elif (a < b) == ascending:
                out1.write(b"0")
                a = next(left, None)
            else:
                out2.write(b"0")
                b = next(right, None)
        # Whatever remains in either list has no partner.
        while a is not None:
            out1.write(b"0")
            a = next(left, None)
        while b is not None:
            out2.write(b"0")
            b = next(right, None)
    return f"{common} common items"


def _items(call: FunctionCall, name: str, ascending: bool) -> Iterator[bytes]:
    """The decoded hashes of one input, checked to be in order as they are read."""
    previous: bytes | None = None
    for number, text in lines(call, name):
        try:
            item = bytes.fromhex(text.strip())
        except ValueError:
            raise FunctionError(f"input {name} line {number} is not hexadecimal") from None
        if previous is not None and (item < previous if ascending else item > previous):
            raise FunctionError(f"input {name} line {number} is out of order")
        previous = item
        yield item
