"""builtin-logistic-regression-train and builtin-logistic-regression-predict."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gaiwan.executors._base import FunctionError
from gaiwan.functions import logistic_regression_predict as predict
from gaiwan.functions import logistic_regression_train as train
from tests.fixtures import teaclave_fixture

from .calls import FakeCall

_TRAIN = "functions/logistic_regression_training"
_PREDICT = "functions/logistic_regression_prediction"
_ARGS = {"alg_alpha": 0.3, "alg_iters": 100, "feature_size": 30}


def _train(data: object) -> FakeCall:
    call = FakeCall(_ARGS, {"training_data": data}, ("model_file",))
    call.summary = train.run(call)  # type: ignore[attr-defined]
    return call


def test_training_reproduces_teaclave_model():
    """Training on the fixture gives Teaclave's expected model parameters."""
    call = _train(teaclave_fixture(f"{_TRAIN}/train.txt"))
    assert call.summary == "Trained 100 lines of data."  # type: ignore[attr-defined]
    model = json.loads(call.written("model_file"))
    expected = json.loads(teaclave_fixture(f"{_TRAIN}/expected_model.txt").read_text())
    assert (model["alpha"], model["iters"]) == (0.3, 100)
    np.testing.assert_allclose(model["parameters"], expected["parameters"], rtol=0, atol=1e-12)


def test_prediction_of_teaclave_model_is_byte_identical():
    """Predicting with the fixture model writes exactly Teaclave's expected result."""
    call = FakeCall({}, {"model_file": teaclave_fixture(f"{_PREDICT}/model.txt"),
                         "data_file": teaclave_fixture(f"{_PREDICT}/predict_input.txt")},
                    ("result_file",))
    assert predict.run(call) == "Predicted 5 lines of data."
    assert call.written("result_file") == teaclave_fixture(f"{_PREDICT}/expected_result.txt").read_bytes()


def test_train_then_predict_classifies_training_data():
    """A trained model read back by predict labels most training rows correctly."""
    data = teaclave_fixture(f"{_TRAIN}/train.txt")
    model = _train(data).written("model_file")
    rows = np.loadtxt(data, delimiter=",")
    features = "".join(",".join(repr(float(v)) for v in r[:-1]) + "\n" for r in rows).encode()
    call = FakeCall({}, {"model_file": model, "data_file": features}, ("result_file",))
    predict.run(call)
    probabilities = np.array([float(v) for v in call.written("result_file").split()])
    assert np.mean((probabilities > 0.5) == (rows[:, -1] == 1)) >= 0.9


def test_non_binary_label_is_refused():
    """Labels must be 0 or 1."""
    call = FakeCall({**_ARGS, "feature_size": 1}, {"training_data": b"1.0,2\n"}, ("model_file",))
    with pytest.raises(FunctionError, match="labels"):
        train.run(call)


def test_predict_rejects_non_model_and_wrong_width():
    """A model file that is not a model, or rows of the wrong width, fail the task."""
    with pytest.raises(FunctionError, match="model_file"):
        predict.run(FakeCall({}, {"model_file": b"{}", "data_file": b"1\n"}, ("result_file",)))
    model = json.dumps({"parameters": [0.1, 0.2, 0.3]}).encode()
    with pytest.raises(FunctionError, match="data_file line 1: expected 2 columns"):
        predict.run(FakeCall({}, {"model_file": model, "data_file": b"1\n"}, ("result_file",)))
