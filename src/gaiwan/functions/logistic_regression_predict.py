"""builtin-logistic-regression-predict: probabilities from a logistic regression model.

`model_file` is what builtin-logistic-regression-train writes (Teaclave's layout, so Teaclave's
models work too); `data_file` is CSV with as many columns as the model has weights.
`result_file` gets, per row, the probability of label 1 with four decimals, as Teaclave writes it.
"""

from __future__ import annotations

import json
import math

import numpy as np

from ..executors._base import FunctionError
from ._api import FunctionCall
from ._parsing import matrix, write_text

NAME = "builtin-logistic-regression-predict"


def run(call: FunctionCall) -> str:
    parameters = _parameters(call)
    data = matrix(call, "data_file", len(parameters) - 1)
    probabilities = 1.0 / (1.0 + np.exp(-(data @ parameters[1:] + parameters[0])))
    write_text(call, "result_file", "".join(f"{p:.4f}\n" for p in probabilities))
    return f"Predicted {len(probabilities)} lines of data."


def _parameters(call: FunctionCall) -> np.ndarray:
    with call.input("model_file") as stream:
        raw = stream.read()
    try:
        parameters = json.loads(raw)["parameters"]
    except (ValueError, TypeError, KeyError):
        raise FunctionError("input model_file is not a logistic regression model") from None
    if (not isinstance(parameters, list) or len(parameters) < 2
            or not all(isinstance(p, (int, float)) and not isinstance(p, bool)
                       and math.isfinite(p) for p in parameters)):
        raise FunctionError("input model_file has invalid parameters")
    return np.asarray(parameters, dtype=np.float64)
