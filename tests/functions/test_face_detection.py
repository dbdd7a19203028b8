"""builtin-face-detection."""

from __future__ import annotations

import json

import pytest

from gaiwan.executors._base import FunctionError
from gaiwan.functions import face_detection
from tests.fixtures import teaclave_fixture

from .calls import FakeCall


def test_fixture_photo_has_faces():
    """The fixture group photo yields face boxes inside the image, with scores."""
    image = teaclave_fixture("functions/face_detection/input.jpg").read_bytes()
    call = FakeCall({"image": list(image), "min_face_size": 20, "score_thresh": 2.0,
                     "pyramid_scale_factor": 0.8, "slide_window_step_x": 4,
                     "slide_window_step_y": 4})
    faces = json.loads(face_detection.run(call))
    assert len(faces) >= 1
    for face in faces:
        box = face["bbox"]
        assert box["width"] >= 20 and box["height"] >= 20
        assert 0 <= box["x"] < 1666 and 0 <= box["y"] < 1136
        assert face["score"] >= 2.0


def test_non_image_bytes_and_non_byte_values_are_refused():
    """Bytes OpenCV cannot decode, or values outside 0..255, fail the task."""
    with pytest.raises(FunctionError, match="not an image"):
        face_detection.run(FakeCall({"image": [1, 2, 3]}))
    with pytest.raises(FunctionError, match="JSON array of bytes"):
        face_detection.run(FakeCall({"image": [1, 256]}))


def test_out_of_range_tuning_is_refused():
    """pyramid_scale_factor must lie below 0.99 and min_face_size be at least 20."""
    with pytest.raises(FunctionError, match="pyramid_scale_factor"):
        face_detection.run(FakeCall({"image": [1], "pyramid_scale_factor": 1.5}))
    with pytest.raises(FunctionError, match="min_face_size"):
        face_detection.run(FakeCall({"image": [1], "min_face_size": 5}))
