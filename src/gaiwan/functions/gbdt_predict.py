"""builtin-gbdt-predict: predictions of a gradient-boosted tree model, one value per line.

`model_file` is either what builtin-gbdt-train writes (Gaiwan's format, docs/functions.md) or a
model trained by Teaclave (its Rust gbdt crate's JSON, recognised by its `conf` member), so models
trained on Teaclave keep working. `data_file` is CSV of feature rows; `result_file` gets one value
per row with ten decimals, as Teaclave writes them.

Features are read as float32, as both trainers compare them. A Teaclave model is evaluated the way
the gbdt crate does it (a split sends `x < threshold` left, sums are float32), so its results match
Teaclave's digit for digit; a Gaiwan model sends `x <= threshold` left, as scikit-learn does, and
sums in float64. The model is plain data: a malformed file fails the task, it never runs code.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..executors._base import FunctionError
from ._api import FunctionCall
from ._parsing import matrix, write_text

NAME = "builtin-gbdt-predict"

MODEL_FORMAT = "gaiwan-gbdt-1"

# (feature, threshold, left, right) of a split, or the value of a leaf.
_Node = tuple[int, float, int, int] | float


def run(call: FunctionCall) -> str:
    with call.input("model_file") as stream:
        raw = stream.read()
    try:
        model = json.loads(raw)
    except ValueError:
        raise FunctionError("input model_file is not JSON") from None
    if not isinstance(model, dict):
        raise FunctionError("input model_file is not a gbdt model")
    try:
        predict = _teaclave(model) if "conf" in model else _gaiwan(model)
    except (KeyError, TypeError, ValueError, IndexError):
        raise FunctionError("input model_file is not a valid gbdt model") from None
    data = matrix(call, "data_file").astype(np.float32)
    values = [predict(row) for row in data]
    write_text(call, "result_file", "".join(f"{v:.10f}\n" for v in values))
    return f"Predict result has {len(values)} lines of data."


def _gaiwan(model: dict[str, Any]) -> Callable[[np.ndarray], float]:
    if model["format"] != MODEL_FORMAT:
        raise ValueError("unknown model format")
    feature_size = _count(model["feature_size"])
    loss = model["loss"]
    if loss not in ("SquaredError", "LAD", "LogLikelyhood"):
        raise ValueError("unknown loss")
    bias, shrinkage = _finite(model["bias"]), _finite(model["shrinkage"])
    trees = [[_gaiwan_node(node, feature_size) for node in tree] for tree in model["trees"]]

    def predict(row: np.ndarray) -> float:
        _check_width(row, feature_size)
        score = bias + shrinkage * sum(_walk(tree, row, _at_most) for tree in trees)
        return 1.0 / (1.0 + math.exp(-score)) if loss == "LogLikelyhood" else score

    return predict


def _gaiwan_node(node: dict[str, Any], feature_size: int) -> _Node:
    if "value" in node:
        return _finite(node["value"])
    feature = _count(node["feature"])
    if feature >= feature_size:
        raise ValueError("feature out of range")
    return feature, _finite(node["threshold"]), _count(node["left"]), _count(node["right"])


def _teaclave(model: dict[str, Any]) -> Callable[[np.ndarray], float]:
    conf = model["conf"]
    loss = conf["loss"]
    if loss not in ("SquaredError", "LAD", "LogLikelyhood") or conf["initial_guess_enabled"]:
        raise ValueError("unsupported gbdt configuration")
    feature_size = _count(conf["feature_size"])
    bias, shrinkage = np.float32(_finite(model["bias"])), np.float32(_finite(conf["shrinkage"]))
    trees = []
    for entry in model["trees"]:
        nodes: dict[int, _Node] = {}
        for node in entry["tree"]["tree"]:
            value = node["value"]
            if value["is_leaf"]:
                nodes[_count(node["index"])] = float(np.float32(_finite(value["pred"])))
            else:
                feature = _count(value["feature_index"])
                if feature >= feature_size:
                    raise ValueError("feature out of range")
                nodes[_count(node["index"])] = (feature, float(np.float32(value["feature_value"])),
                                                _count(node["left"]), _count(node["right"]))
        trees.append([nodes[i] for i in range(len(nodes))])

    def predict(row: np.ndarray) -> float:
        _check_width(row, feature_size)
        score = bias
        for tree in trees:
            score = np.float32(score + np.float32(shrinkage * np.float32(_walk(tree, row, _below))))
        value = float(score)
        return 1.0 / (1.0 + math.exp(-2.0 * value)) if loss == "LogLikelyhood" else value

    return predict


def _walk(tree: list[_Node], row: np.ndarray, goes_left: Callable[[float, float], bool]) -> float:
    """The leaf value the row reaches; a tree that loops or points outside itself is invalid."""
    try:
        node = tree[0]
        for _ in range(len(tree)):
            if not isinstance(node, tuple):
                return node
            feature, threshold, left, right = node
            node = tree[left if goes_left(float(row[feature]), threshold) else right]
    except IndexError:
        pass
    raise FunctionError("input model_file has a malformed tree")


def _at_most(x: float, threshold: float) -> bool:
    return x <= threshold


def _below(x: float, threshold: float) -> bool:
    return x < threshold


def _check_width(row: np.ndarray, feature_size: int) -> None:
    if row.shape[0] != feature_size:
        raise FunctionError(f"input data_file: rows must have {feature_size} columns")


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError("not a non-negative integer")
    return value


def _finite(value: Any) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError("not a finite number")
    return float(value)
