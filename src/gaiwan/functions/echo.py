"""builtin-echo: returns the `message` argument (spec §8)."""

from __future__ import annotations

from ._api import FunctionCall

NAME = "builtin-echo"


def run(call: FunctionCall) -> str:
    return call.argument("message")
