"""builtin_principal_components_analysis."""

from __future__ import annotations

import numpy as np
import pytest

from gaiwan.executors._base import FunctionError
from gaiwan.functions import principal_components_analysis as pca
from tests.fixtures import teaclave_fixture

from .calls import FakeCall

_DIR = "functions/princopal_components_analysis"


def test_fixture_projection_matches_teaclave():
    """The fixture's 2-component projection equals Teaclave's, signs included."""
    call = FakeCall({"n": 2, "center": True, "feature_size": 4},
                    {"input_data": teaclave_fixture(f"{_DIR}/input.txt")}, ("output_data",))
    assert pca.run(call) == "transform 90 rows * 2 cols lines of data."
    got = np.loadtxt(call.written("output_data").decode().splitlines(), delimiter=",")
    expected = np.loadtxt(teaclave_fixture(f"{_DIR}/expected_result.txt"), delimiter=",")
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_wrong_column_count_fails():
    """Rows must have feature_size + 1 columns."""
    call = FakeCall({"n": 1, "center": True, "feature_size": 2},
                    {"input_data": b"1,2,0\n3,4\n"}, ("output_data",))
    with pytest.raises(FunctionError, match="input_data line 2: expected 3 columns"):
        pca.run(call)


def test_n_above_feature_size_is_refused():
    """n cannot exceed feature_size."""
    call = FakeCall({"n": 3, "center": False, "feature_size": 2},
                    {"input_data": b"1,2,0\n"}, ("output_data",))
    with pytest.raises(FunctionError, match="argument n"):
        pca.run(call)
