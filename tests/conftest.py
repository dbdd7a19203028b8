"""Fixtures for tests that need a running platform: one shared per worker, or a fresh one each."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.platform import Platform


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A platform shared by read-mostly tests; tests make their own users, never reuse others'."""
    shared = Platform(tmp_path_factory.mktemp("shared") / "home").init().start()
    yield shared
    shared.stop()


@pytest.fixture
def fresh_platform(tmp_path: Path) -> Iterator[Callable[..., Platform]]:
    """A factory of platforms owned by one test: `fresh_platform(start=False)` only inits."""
    made: list[Platform] = []

    def make(start: bool = True) -> Platform:
        p = Platform(tmp_path / f"home{len(made)}").init()
        made.append(p)
        return p.start() if start else p

    yield make
    for p in made:
        p.close()
