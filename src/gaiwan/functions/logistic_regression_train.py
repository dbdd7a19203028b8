"""builtin-logistic-regression-train: binary logistic regression by batch gradient descent.

`training_data` is CSV with `feature_size` feature columns and a last column, the label (0 or 1).
Training is the algorithm of Teaclave's built-in (rusty-machine): a bias column of ones is
prepended, every parameter starts at 0.5, and each of `alg_iters` steps subtracts `alg_alpha`
times the mean cross-entropy gradient. It is deterministic, so the same data and arguments give
the same model as Teaclave, and the model file has Teaclave's layout (docs/functions.md):
`{"alpha": a, "iters": n, "parameters": [bias, w1, ..., wF]}`, read by
builtin-logistic-regression-predict.
"""

from __future__ import annotations

import json

import numpy as np

from ..executors._base import FunctionError
from ._api import FunctionCall
from ._parsing import float_argument, int_argument, labelled, write_text

NAME = "builtin-logistic-regression-train"

_INITIAL_PARAMETER = 0.5


def run(call: FunctionCall) -> str:
    alpha = float_argument(call, "alg_alpha", above=0.0)
    iterations = int_argument(call, "alg_iters", minimum=1)
    feature_size = int_argument(call, "feature_size", minimum=1)
    features, labels = labelled(call, "training_data", feature_size)
    if not np.isin(labels, (0.0, 1.0)).all():
        raise FunctionError("input training_data: labels (last column) must be 0 or 1")
    parameters = train(features, labels, alpha, iterations, call)
    model = {"alpha": alpha, "iters": iterations, "parameters": parameters.tolist()}
    write_text(call, "model_file", json.dumps(model, separators=(",", ":")))
    return f"Trained {len(labels)} lines of data."


def train(features: np.ndarray, labels: np.ndarray, alpha: float, iterations: int,
          call: FunctionCall) -> np.ndarray:
    """The parameters [bias, weights...] after `iterations` gradient steps."""
    inputs = np.hstack([np.ones((features.shape[0], 1)), features])
    parameters = np.full(inputs.shape[1], _INITIAL_PARAMETER)
    for _ in range(iterations):
        if call.cancel.is_set():
            raise FunctionError("stopped")
        outputs = 1.0 / (1.0 + np.exp(-(inputs @ parameters)))
        parameters = parameters - alpha * (inputs.T @ (outputs - labels)) / inputs.shape[0]
    return parameters
