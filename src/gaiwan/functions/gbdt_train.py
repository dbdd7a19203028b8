"""builtin-gbdt-train: gradient-boosted decision trees (spec §8), trained with scikit-learn.

`training_data` is CSV with `feature_size` feature columns and a last column, the label. The
arguments are Teaclave's (its Rust gbdt crate's): `iterations` trees of depth at most `max_depth`,
each scaled by `shrinkage`, fitted on a `data_sample_ratio` fraction of the rows and considering a
`feature_sample_ratio` fraction of the features at each split, with at least `min_leaf_size` rows
per leaf. `loss` is `SquaredError`, `LAD` (least absolute deviation) or `LogLikelyhood` (binary
classification, labels -1/0 versus 1). `training_optimization_level` is a speed setting of the Rust
crate: accepted (0 to 2) and otherwise unused. Sampling uses a fixed seed, so training is
repeatable.

The model is written in Gaiwan's own JSON format (docs/functions.md), not as a pickle: a model is
data a participant hands to another task, and loading must never run code. Only plain trees are
stored, so builtin-gbdt-predict needs neither scikit-learn nor trust in the file.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..executors._base import FunctionError
from ._api import FunctionCall
from ._parsing import float_argument, int_argument, labelled, write_text
from .gbdt_predict import MODEL_FORMAT

NAME = "builtin-gbdt-train"

_LOSSES = {"SquaredError": "squared_error", "LAD": "absolute_error", "LogLikelyhood": "log_loss"}
_SEED = 0


def run(call: FunctionCall) -> str:
    feature_size = int_argument(call, "feature_size", minimum=1)
    loss = call.argument("loss")
    if loss not in _LOSSES:
        raise FunctionError("argument loss must be SquaredError, LAD or LogLikelyhood")
    settings: dict[str, Any] = dict(
        loss=_LOSSES[loss],
        max_depth=int_argument(call, "max_depth", minimum=1),
        n_estimators=int_argument(call, "iterations", minimum=1),
        learning_rate=float_argument(call, "shrinkage", above=0.0),
        max_features=float_argument(call, "feature_sample_ratio", above=0.0, at_most=1.0),
        subsample=float_argument(call, "data_sample_ratio", above=0.0, at_most=1.0),
        min_samples_leaf=int_argument(call, "min_leaf_size", minimum=1),
        random_state=_SEED,
    )
    if int_argument(call, "training_optimization_level", minimum=0, default=2) > 2:
        raise FunctionError("argument training_optimization_level must be 0, 1 or 2")
    features, labels = labelled(call, "training_data", feature_size)
    model = train(features, labels, loss, settings)
    write_text(call, "trained_model", json.dumps(model, separators=(",", ":")))
    return f"Trained {len(labels)} lines of data."


def train(features: np.ndarray, labels: np.ndarray, loss: str,
          settings: dict[str, Any]) -> dict[str, Any]:
    """The model, in Gaiwan's format, of a boosted ensemble fitted to the rows."""
    # Imported here: scikit-learn takes about a second to import, and every process that loads
    # the registry of built-ins would otherwise pay it.
    from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor

    if loss == "LogLikelyhood":
        labels = (labels > 0).astype(np.int64)
        if len(np.unique(labels)) != 2:
            raise FunctionError("input training_data: LogLikelyhood needs both labels present")
        estimator: Any = GradientBoostingClassifier(**settings)
    else:
        estimator = GradientBoostingRegressor(**settings)
    estimator.fit(features, labels)
    stages = list(estimator.estimators_[:, 0])
    # The constant the trees are added to: the raw score of one row minus its trees' part.
    first = features[:1]
    raw = (estimator.decision_function(first) if loss == "LogLikelyhood"
           else estimator.predict(first))[0]
    bias = raw - settings["learning_rate"] * sum(stage.predict(first)[0] for stage in stages)
    return {
        "format": MODEL_FORMAT,
        "feature_size": features.shape[1],
        "loss": loss,
        "bias": float(bias),
        "shrinkage": settings["learning_rate"],
        "trees": [_nodes(stage.tree_) for stage in stages],
    }


def _nodes(tree: Any) -> list[dict[str, Any]]:
    """A fitted scikit-learn tree as a list of split nodes and leaves, indexed as in the tree."""
    nodes: list[dict[str, Any]] = []
    for i in range(tree.node_count):
        left, right = int(tree.children_left[i]), int(tree.children_right[i])
        if left == -1:
            nodes.append({"value": float(tree.value[i, 0, 0])})
        else:
            nodes.append({"feature": int(tree.feature[i]), "threshold": float(tree.threshold[i]),
                          "left": left, "right": right})
    return nodes
