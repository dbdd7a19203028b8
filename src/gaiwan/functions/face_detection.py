"""builtin-face-detection: finds frontal faces in an image with OpenCV's Haar cascade.

The `image` argument is the encoded image (JPEG, PNG, ...) as a JSON array of byte values. The
result is a JSON list with one object per face, `{"bbox": {"x", "y", "width", "height"},
"score"}` in pixels, like the boxes of Teaclave's detector. The detector is the frontal-face
cascade shipped inside opencv-python-headless: nothing is downloaded at run time.

Teaclave's tuning arguments are accepted. `min_face_size` and `max_face_size` bound the face size
in pixels (default 20 and unbounded); `pyramid_scale_factor` (between 0.01 and 0.99, default 0.8)
is the shrink factor between the scales searched; `score_thresh` (default 3) is the least score a
face must have, the score being the number of overlapping raw detections that support it
(OpenCV keeps a face only with more supporting detections than `minNeighbors`, hence the minus one
below).
`window_size`, `slide_window_step_x` and `slide_window_step_y` tune Teaclave's own detector; they
are checked but have no counterpart here (the cascade's window is fixed by its model).
"""

from __future__ import annotations

import json
import math
import os

import cv2
import numpy as np

from ..executors._base import FunctionError
from ._api import FunctionCall
from ._parsing import float_argument, int_argument

NAME = "builtin-face-detection"

_CASCADE = os.path.join(cv2.data.haarcascades, "haarcascade_frontalface_default.xml")


def run(call: FunctionCall) -> str:
    min_size = int_argument(call, "min_face_size", minimum=20, default=20)
    max_size = int_argument(call, "max_face_size", minimum=1, default=0)
    shrink = float_argument(call, "pyramid_scale_factor", above=0.01, at_most=0.99, default=0.8)
    threshold = float_argument(call, "score_thresh", above=0.0, default=3.0)
    int_argument(call, "window_size", minimum=20, default=20)
    int_argument(call, "slide_window_step_x", minimum=1, default=4)
    int_argument(call, "slide_window_step_y", minimum=1, default=4)
    if max_size and max_size < min_size:
        raise FunctionError("argument max_face_size must not be below min_face_size")
    image = _image(call)
    detector = cv2.CascadeClassifier(_CASCADE)
    boxes, scores = detector.detectMultiScale2(
        image, scaleFactor=1.0 / shrink, minNeighbors=max(1, math.ceil(threshold) - 1),
        minSize=(min_size, min_size), maxSize=(max_size, max_size))
    faces = [{"bbox": {"x": int(x), "y": int(y), "width": int(w), "height": int(h)},
              "score": float(score)}
             for (x, y, w, h), score in zip(boxes, scores, strict=True) if score >= threshold]
    return json.dumps(faces)


def _image(call: FunctionCall) -> np.ndarray:
    """The grey-scale pixels of the `image` argument."""
    try:
        values = json.loads(call.argument("image"))
    except ValueError:
        raise FunctionError("argument image must be a JSON array of bytes") from None
    if (not isinstance(values, list) or not values
            or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255
                       for v in values)):
        raise FunctionError("argument image must be a JSON array of bytes")
    image = cv2.imdecode(np.frombuffer(bytes(values), dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise FunctionError("argument image is not an image format OpenCV can decode")
    return cv2.equalizeHist(image)
