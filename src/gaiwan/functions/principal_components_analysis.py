"""builtin_principal_components_analysis: projects rows onto their first `n` principal components.

`input_data` is CSV with `feature_size` feature columns and a last (label) column, which is
dropped. With `center` true the column means are subtracted first (ordinary PCA); with false the
components are those of the raw rows, as in Teaclave. `output_data` gets one line per row with
the `n` coordinates, each written as the shortest text that reads back as the same float64.

The components come from the SVD of the (centred) data. Their signs are fixed the way
scikit-learn fixes them (the largest-magnitude entry of each left singular vector is positive),
which is also the sign Teaclave's results have on the shared test data.
"""

from __future__ import annotations

import numpy as np

from ..executors._base import FunctionError
from ._api import FunctionCall
from ._parsing import bool_argument, int_argument, labelled, write_text

NAME = "builtin_principal_components_analysis"


def run(call: FunctionCall) -> str:
    n = int_argument(call, "n", minimum=1)
    center = bool_argument(call, "center")
    feature_size = int_argument(call, "feature_size", minimum=1)
    if n > feature_size:
        raise FunctionError("argument n must not exceed feature_size")
    features, _ = labelled(call, "input_data", feature_size)
    projected = transform(features, n, center)
    write_text(call, "output_data", "".join(",".join(map(_number, row)) + "\n" for row in projected))
    rows, cols = projected.shape
    return f"transform {rows} rows * {cols} cols lines of data."


def transform(features: np.ndarray, n: int, center: bool) -> np.ndarray:
    """The rows of `features` in the basis of their first `n` principal components."""
    data = features - features.mean(axis=0) if center else features
    u, _, vt = np.linalg.svd(data, full_matrices=False)
    if n > vt.shape[0]:
        raise FunctionError("argument n exceeds the number of rows")
    signs = np.sign(u[np.argmax(np.abs(u), axis=0), np.arange(u.shape[1])])
    signs[signs == 0] = 1.0
    return data @ (vt[:n] * signs[:n, None]).T


def _number(value: float) -> str:
    """Python's shortest round-trip text, with Rust's exponent spelling (1e-7, not 1e-07)."""
    text = repr(float(value))
    mantissa, e, exponent = text.partition("e")
    return f"{mantissa}e{int(exponent)}" if e else text
