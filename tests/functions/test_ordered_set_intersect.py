"""builtin-ordered-set-intersect."""

from __future__ import annotations

import pytest

from gaiwan.executors._base import FunctionError
from gaiwan.functions import ordered_set_intersect as osi
from tests.fixtures import teaclave_fixture

from .calls import FakeCall

_OUTPUTS = ("output_result1", "output_result2")


def _call(order: str, first: bytes | object, second: bytes | object) -> FakeCall:
    return FakeCall({"order": order}, {"input_data1": first, "input_data2": second}, _OUTPUTS)


def test_fixture_marks_common_hashes_as_teaclave_does():
    """The fixture lists share 3 hashes; outputs are Teaclave's exact `0101010` and `01101`."""
    call = _call("ascending", teaclave_fixture("functions/ordered_set_intersect/psi0.txt"),
                 teaclave_fixture("functions/ordered_set_intersect/psi1.txt"))
    assert osi.run(call) == "3 common items"
    assert call.written("output_result1") == b"0101010"
    assert call.written("output_result2") == b"01101"


def test_descending_order_in_teaclave_spelling():
    """`desending` merges lists sorted from high to low."""
    call = _call("desending", b"ff\ncc\n0a\n", b"cc\n0b\n0a\n")
    assert osi.run(call) == "2 common items"
    assert call.written("output_result1") == b"011"
    assert call.written("output_result2") == b"101"


def test_unsorted_input_fails():
    """A line out of order is reported by input and line number."""
    with pytest.raises(FunctionError, match="input_data2 line 2 is out of order"):
        osi.run(_call("ascending", b"01\n02\n", b"03\n02\n"))


def test_non_hex_line_fails_without_quoting_it():
    """A line that is not hexadecimal is refused; the reason does not contain it."""
    with pytest.raises(FunctionError, match="input_data1 line 1") as err:
        osi.run(_call("ascending", b"zzsecret\n", b"01\n"))
    assert "secret" not in err.value.reason


def test_unknown_order_is_refused():
    """order must be ascending or desending."""
    with pytest.raises(FunctionError, match="order"):
        osi.run(_call("sideways", b"01\n", b"01\n"))
