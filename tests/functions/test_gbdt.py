"""builtin-gbdt-train and builtin-gbdt-predict."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gaiwan.executors._base import FunctionError
from gaiwan.functions import gbdt_predict, gbdt_train
from tests.fixtures import teaclave_fixture

from .calls import FakeCall

_TEACLAVE_ARGS = {"feature_size": 4, "max_depth": 4, "iterations": 100, "shrinkage": 0.1,
                  "feature_sample_ratio": 1.0, "data_sample_ratio": 1.0, "min_leaf_size": 1,
                  "loss": "LAD", "training_optimization_level": 2}


def _predict(model: object, data: object) -> tuple[str, list[float], bytes]:
    call = FakeCall({}, {"model_file": model, "data_file": data}, ("result_file",))
    summary = gbdt_predict.run(call)
    raw = call.written("result_file")
    return summary, [float(v) for v in raw.split()], raw


def test_teaclave_model_predicts_byte_identically():
    """A model trained by Teaclave gives exactly Teaclave's predictions."""
    summary, _, raw = _predict(teaclave_fixture("functions/gbdt_prediction/model.txt"),
                               teaclave_fixture("functions/gbdt_prediction/test_data.txt"))
    assert summary == "Predict result has 30 lines of data."
    assert raw == teaclave_fixture("functions/gbdt_prediction/expected_result.txt").read_bytes()


def test_train_then_predict_is_close_to_teaclave():
    """Gaiwan's model of the fixture data predicts within 0.05 of Teaclave on 29 of 30 rows.

    The other row lies on a class boundary (petal width 1.8), where Teaclave's crate and
    scikit-learn place the split threshold differently (at a data value versus a midpoint).
    """
    call = FakeCall(_TEACLAVE_ARGS,
                    {"training_data": teaclave_fixture("functions/gbdt_training/train.txt")},
                    ("trained_model",))
    assert gbdt_train.run(call) == "Trained 120 lines of data."
    model = call.written("trained_model")
    assert json.loads(model)["format"] == gbdt_predict.MODEL_FORMAT
    _, got, _ = _predict(model, teaclave_fixture("functions/gbdt_prediction/test_data.txt"))
    expected = np.loadtxt(teaclave_fixture("functions/gbdt_prediction/expected_result.txt"))
    assert np.sum(np.abs(np.array(got) - expected) < 0.05) >= 29


def test_model_file_agrees_with_scikit_learn_and_classifies():
    """LogLikelyhood training yields probabilities that separate the two labels."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 2))
    y = np.where(x[:, 0] + x[:, 1] > 0, 1, -1)
    text = "".join(f"{float(a)!r},{float(b)!r},{c}\n" for (a, b), c in zip(x, y)).encode()
    args = {**_TEACLAVE_ARGS, "feature_size": 2, "loss": "LogLikelyhood", "max_depth": 3,
            "iterations": 30, "data_sample_ratio": 0.8}
    call = FakeCall(args, {"training_data": text}, ("trained_model",))
    gbdt_train.run(call)
    features = "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in x).encode()
    _, probabilities, _ = _predict(call.written("trained_model"), features)
    assert np.mean((np.array(probabilities) > 0.5) == (y == 1)) >= 0.95


def test_bad_arguments_and_rows_are_refused():
    """Unknown losses, out-of-range ratios and ragged rows fail with the name, not the data."""
    data = {"training_data": b"1,2,3,4,5\n"}
    with pytest.raises(FunctionError, match="argument loss"):
        gbdt_train.run(FakeCall({**_TEACLAVE_ARGS, "loss": "Huber"}, data, ("trained_model",)))
    with pytest.raises(FunctionError, match="argument data_sample_ratio"):
        gbdt_train.run(FakeCall({**_TEACLAVE_ARGS, "data_sample_ratio": 1.5}, data,
                                ("trained_model",)))
    with pytest.raises(FunctionError, match="training_data line 1: expected 5 columns"):
        gbdt_train.run(FakeCall(_TEACLAVE_ARGS, {"training_data": b"1,2,3\n"},
                                ("trained_model",)))


def test_predict_refuses_malformed_models():
    """A model that is not JSON, or whose tree points outside itself, fails the task."""
    with pytest.raises(FunctionError, match="not JSON"):
        _predict(b"\x00", b"1\n")
    bad = {"format": gbdt_predict.MODEL_FORMAT, "feature_size": 1, "loss": "LAD", "bias": 0.0,
           "shrinkage": 0.1, "trees": [[{"feature": 0, "threshold": 0.5, "left": 5, "right": 6}]]}
    with pytest.raises(FunctionError, match="malformed tree"):
        _predict(json.dumps(bad).encode(), b"1\n")
