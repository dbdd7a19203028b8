"""Where the shared Teaclave interoperability vectors live, and a skip when they are absent."""

from __future__ import annotations

from pathlib import Path

import pytest

TEACLAVE_FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "teaclave"


def teaclave_fixture(relative: str) -> Path:
    """Path of one fixture file; skips the test (saying why) when the shared fixtures are absent."""
    path = TEACLAVE_FIXTURES / relative
    if not path.exists():
        pytest.skip(f"shared Teaclave fixtures not found at {TEACLAVE_FIXTURES}")
    return path
