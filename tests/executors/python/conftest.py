"""One sandboxed Python executor shared by the tests of a module, with small limits, once per
identity it can run as (`node`: the tests' own user, the root path when they run as root;
`nobody`: an unprivileged user, the non-root path), so every test covers both paths."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gaiwan.executors.python import PythonExecutor

from .support import Identity, identity


@pytest.fixture(scope="module", params=["node", "nobody"])
def sandbox_identity(request: pytest.FixtureRequest) -> Identity:
    return identity(request.param)


@pytest.fixture(scope="module")
def executor(sandbox_identity: Identity) -> Iterator[PythonExecutor]:
    ex = sandbox_identity.executor()
    yield ex
    ex.close()
