"""builtin-private-join-and-compute."""

from __future__ import annotations

import pytest

from gaiwan.executors._base import FunctionError
from gaiwan.functions import private_join_and_compute as pjc
from tests.fixtures import teaclave_fixture

from .calls import FakeCall

_BANKS = "functions/private_join_and_compute/three_party_data/bank_{}.txt"
_OUTPUTS = ("output_data0", "output_data1", "output_data2")


def test_three_banks_fixture_gives_every_party_the_sorted_common_sums():
    """Ids c and e are in all three fixture inputs; every party gets the same sorted sums."""
    inputs = {f"input_data{i}": teaclave_fixture(_BANKS.format(b)) for i, b in enumerate("abc")}
    call = FakeCall({"num_user": 3}, inputs, _OUTPUTS)
    assert pjc.run(call) == "3 users join the task in total."
    for name in _OUTPUTS:
        assert call.written(name) == b"c, 470000\ne, 5033000\n"


def test_repeated_id_within_one_input_is_summed():
    """An id listed twice by one party counts both amounts."""
    call = FakeCall({"num_user": 2}, {"input_data0": b"a : 1\na : 2\nb : 5\n",
                                      "input_data1": b"a : 10\n"}, _OUTPUTS[:2])
    pjc.run(call)
    assert call.written("output_data1") == b"a, 13\n"


def test_malformed_line_fails_without_quoting_it():
    """A line that is not `id : amount` names the input and line, not the data."""
    call = FakeCall({"num_user": 2}, {"input_data0": b"a : 1\nsecret-x 7\n",
                                      "input_data1": b"a : 1\n"}, _OUTPUTS[:2])
    with pytest.raises(FunctionError, match="input_data0 line 2") as err:
        pjc.run(call)
    assert "secret" not in err.value.reason


def test_fewer_than_two_users_is_refused():
    """num_user must be at least 2."""
    with pytest.raises(FunctionError, match="num_user"):
        pjc.run(FakeCall({"num_user": 1}, {"input_data0": b"a : 1\n"}, _OUTPUTS[:1]))
