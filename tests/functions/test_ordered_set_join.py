"""builtin-ordered-set-join."""

from __future__ import annotations

import pytest

from gaiwan.executors._base import FunctionError
from gaiwan.functions import ordered_set_join as osj
from tests.fixtures import teaclave_fixture

from .calls import FakeCall


def _call(first: bytes | object, second: bytes | object, *, drop: bool = True,
          ascending: bool = True) -> FakeCall:
    arguments = {"left_column": 0, "right_column": 0, "ascending": ascending, "drop": drop}
    return FakeCall(arguments, {"input_data1": first, "input_data2": second}, ("output_result",))


def test_fixture_join_is_the_gbdt_training_data():
    """Joining the fixture halves on their id gives Teaclave's result, the gbdt training set."""
    call = _call(teaclave_fixture("functions/ordered_set_join/join0.csv"),
                 teaclave_fixture("functions/ordered_set_join/join1.csv"))
    assert osj.run(call) == "120 records"
    expected = teaclave_fixture("functions/gbdt_training/train.txt").read_bytes()
    assert call.written("output_result").strip() == expected.strip()


def test_keep_key_and_descending():
    """With drop false the left key is kept; descending inputs merge from high to low."""
    call = _call(b"3,a\n2,b\n1,c\n", b"3,x\n1,z\n", drop=False, ascending=False)
    assert osj.run(call) == "2 records"
    assert call.written("output_result") == b"3,a,x\n1,c,z\n"


def test_missing_key_column_fails():
    """A row without the key column is refused by input and line."""
    call = FakeCall({"left_column": 2, "right_column": 0, "ascending": True, "drop": True},
                    {"input_data1": b"1,a\n", "input_data2": b"1,b\n"}, ("output_result",))
    with pytest.raises(FunctionError, match="input_data1 line 1 has no column 2"):
        osj.run(call)


def test_unsorted_input_fails():
    """A key out of order is reported rather than silently missing matches."""
    with pytest.raises(FunctionError, match="input_data1 line 2 is out of order"):
        osj.run(_call(b"2,a\n1,b\n", b"1,c\n"))


def test_bad_boolean_argument_is_refused():
    """ascending must be true or false."""
    call = FakeCall({"left_column": 0, "right_column": 0, "ascending": "yes", "drop": True},
                    {"input_data1": b"1\n", "input_data2": b"1\n"}, ("output_result",))
    with pytest.raises(FunctionError, match="argument ascending"):
        osj.run(call)
