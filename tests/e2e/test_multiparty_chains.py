"""Outputs that become inputs through a real platform: gbdt and logistic regression train ->
predict chained with RegisterInputFromOutput, and a fusion output of two owners."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from gaiwan.client import DataMap, Gaiwan
from gaiwan.errors import FailedPrecondition
from tests.fixtures import teaclave_fixture
from tests.support.files import ServedDir, served  # noqa: F401 - fixture
from tests.support.parties import (add_user, close_all, finished, fusion_model_task,
                                   register_builtin)
from tests.support.platform import SHARED, Platform

pytestmark = [pytest.mark.platform, pytest.mark.xdist_group(SHARED)]

_GBDT_ARGS = {"feature_size": 4, "max_depth": 4, "iterations": 100, "shrinkage": 0.1,
              "feature_sample_ratio": 1.0, "data_sample_ratio": 1.0, "min_leaf_size": 1,
              "loss": "LAD", "training_optimization_level": 2}


@pytest.fixture(scope="module")
def users(platform: Platform) -> Iterator[tuple[Gaiwan, Gaiwan, Gaiwan]]:
    """Two data owners and a function owner, shared by the module's tests."""
    made = (add_user(platform, "carol", "DataOwner", "lab_c"),
            add_user(platform, "dave", "DataOwner", "lab_d"),
            add_user(platform, "fn-owner", "FunctionOwner"))
    yield made
    close_all(made)


def test_gbdt_model_output_feeds_prediction(users: tuple[Gaiwan, Gaiwan, Gaiwan],
                                            served: ServedDir, tmp_path: Path) -> None:
    """Uploaded training data -> trained_model -> RegisterInputFromOutput -> predictions."""
    carol, _, owner = users
    train_fn = register_builtin(owner, "builtin-gbdt-train", list(_GBDT_ARGS), ["training_data"],
                                ["trained_model"])
    predict_fn = register_builtin(owner, "builtin-gbdt-predict", [], ["model_file", "data_file"],
                                  ["result_file"])
    me = [carol.user_id]
    train = carol.data.upload_input(teaclave_fixture("functions/gbdt_training/train.txt"),
                                    served.url("gbdt-train.enc"), "aes-gcm-128")
    model = carol.data.register_output(served.url("gbdt-model.enc"))
    task_id = carol.create_task(train_fn, "builtin", _GBDT_ARGS, {"training_data": me},
                                {"trained_model": me})
    carol.frontend.assign_data_to_task(task_id, [DataMap("training_data", train.data_id)],
                                       [DataMap("trained_model", model.data_id)])
    assert finished(carol, task_id) == b"Trained 120 lines of data."

    model_input = carol.frontend.register_input_from_output(model.data_id)
    data = carol.data.upload_input(teaclave_fixture("functions/gbdt_prediction/test_data.txt"),
                                   served.url("gbdt-test.enc"))
    result = carol.data.register_output(served.url("gbdt-result.enc"), "aes-gcm-256")
    task_id = carol.create_task(predict_fn, "builtin", {}, {"model_file": me, "data_file": me},
                                {"result_file": me})
    carol.frontend.assign_data_to_task(
        task_id, [DataMap("model_file", model_input), DataMap("data_file", data.data_id)],
        [DataMap("result_file", result.data_id)])
    assert finished(carol, task_id) == b"Predict result has 30 lines of data."
    carol.data.fetch_output(result, tmp_path / "predictions")
    got = np.loadtxt(tmp_path / "predictions")
    expected = np.loadtxt(teaclave_fixture("functions/gbdt_prediction/expected_result.txt"))
    assert np.sum(np.abs(got - expected) < 0.05) >= 29


def test_fusion_model_needs_both_owners_to_be_used(users: tuple[Gaiwan, Gaiwan, Gaiwan],
                                                   tmp_path: Path) -> None:
    """A logistic model written to a fusion output of two owners feeds a prediction that runs
    only once both owners approved; the data travels by file:// URLs."""
    carol, dave, owner = users
    model = fusion_model_task(carol, dave, owner, tmp_path)
    predict_fn, fusion, both = model.predict_fn, model.fusion, [carol.user_id, dave.user_id]
    assert finished(carol, model.writer).startswith(b"Trained ")
    assert carol.frontend.output_cmac(fusion)  # written once, by the task

    model_input = dave.frontend.register_input_from_output(fusion)
    data = dave.data.upload_input(
        teaclave_fixture("functions/logistic_regression_prediction/predict_input.txt"),
        (tmp_path / "lr-predict.enc").as_uri())
    result = dave.data.register_output((tmp_path / "lr-result.enc").as_uri())
    task_id = dave.create_task(predict_fn, "builtin", {}, {"model_file": both,
                                                           "data_file": [dave.user_id]},
                               {"result_file": [dave.user_id]})
    dave.frontend.assign_data_to_task(
        task_id, [DataMap("model_file", model_input), DataMap("data_file", data.data_id)],
        [DataMap("result_file", result.data_id)])
    dave.frontend.approve_task(task_id)
    with pytest.raises(FailedPrecondition):
        dave.frontend.invoke_task(task_id)  # carol, a co-owner of the model, has not approved
    carol.frontend.approve_task(task_id)
    assert finished(dave, task_id) == b"Predicted 5 lines of data."
    dave.data.fetch_output(result, tmp_path / "probabilities")
    probabilities = np.loadtxt(tmp_path / "probabilities")
    assert probabilities.shape == (5,) and np.all((probabilities >= 0) & (probabilities <= 1))
