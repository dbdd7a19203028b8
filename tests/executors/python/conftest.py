"""One sandboxed Python executor shared by the tests of a module, with small limits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gaiwan.executors.python import PythonExecutor

from .support import LIMITS


@pytest.fixture(scope="module")
def executor() -> Iterator[PythonExecutor]:
    ex = PythonExecutor(LIMITS)
    ex.start()
    yield ex
    ex.close()
