"""builtin-private-join-and-compute: the sums of the ids every party holds (spec §8).

Each of the `num_user` parties gives `input_data<i>` with lines `id : amount`; every party gets
the same `output_data<i>`: one line `id, sum` per id present in all inputs, sorted by id so the
result does not depend on hash order. Only the running intersection is held in memory, and it can
only shrink after the first input; each input is read line by line.
"""

from __future__ import annotations

from ..executors._base import FunctionError
from ._api import FunctionCall
from ._parsing import int_argument, lines, write_text

NAME = "builtin-private-join-and-compute"


def run(call: FunctionCall) -> str:
    num_user = int_argument(call, "num_user", minimum=2)
    totals = _amounts(call, "input_data0", None)
    for index in range(1, num_user):
        totals = _amounts(call, f"input_data{index}", totals)
    text = "".join(f"{identity}, {amount}\n" for identity, amount in sorted(totals.items()))
    for index in range(num_user):
        write_text(call, f"output_data{index}", text)
    return f"{num_user} users join the task in total."


def _amounts(call: FunctionCall, name: str, keep: dict[str, int] | None) -> dict[str, int]:
    """Per-id totals of one input (an id listed twice is summed), restricted to the ids of
    `keep` and added to its totals; with `keep` None, every id of the input."""
    own: dict[str, int] = {}
    for number, text in lines(call, name):
        line = text.strip()
        if not line:
            continue
        identity, sep, amount = line.partition(":")
        identity, amount = identity.strip(), amount.strip()
        if not sep or not identity or ":" in amount or not amount.isascii() or not amount.isdigit():
            raise FunctionError(
                f"input {name} line {number}: expected `id : amount` with a whole amount")
        if keep is None or identity in keep:
            own[identity] = own.get(identity, 0) + int(amount)
    if keep is None:
        return own
    return {identity: keep[identity] + amount for identity, amount in own.items()}
