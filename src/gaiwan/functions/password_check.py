"""builtin-password-check: whether a password is in a list of exposed passwords (spec §8).

`password` holds the password on its first line; `exposed_passwords` one password per line.
Surrounding whitespace is ignored on both, as in Teaclave. The whole list is always read, so the
run time does not reveal where in the list a match was.
"""

from __future__ import annotations

from ..executors._base import FunctionError
from ._api import FunctionCall
from ._parsing import lines

NAME = "builtin-password-check"


def run(call: FunctionCall) -> str:
    password = next((text.strip() for _, text in lines(call, "password")), None)
    if not password:
        raise FunctionError("input password is empty")
    exposed = False
    for _, text in lines(call, "exposed_passwords"):
        exposed |= text.strip() == password
    return "true" if exposed else "false"
