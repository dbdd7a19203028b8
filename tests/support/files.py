"""A real HTTP file server for tests: `gaiwan.transport`'s FileServer on 127.0.0.1 in a temp dir,
standing in for the object store where data owners keep their encrypted files."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from gaiwan.transport.server import FileServer
from tests.fixtures import teaclave_fixture


class ServedDir:
    """A served directory: `url(name)` is where a file put there (or PUT by a task) lives."""

    def __init__(self, server: FileServer) -> None:
        self.server = server
        self.root = server.root

    def url(self, name: str) -> str:
        return f"{self.server.url}/{name}"

    def add_fixture(self, relative: str, under: str = "") -> str:
        """Copies a Teaclave fixture under its original name, in folder `under` if given (a
        teaclave-file-128 file must keep the name it stores); returns its URL."""
        src = teaclave_fixture(relative)
        target = f"{under}/{src.name}" if under else src.name
        (self.root / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, self.root / target)
        return self.url(target)

    def path(self, name: str) -> Path:
        return self.root / name


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedDir]:
    """One file server per test module, stopped at the end of it."""
    server = FileServer(tmp_path_factory.mktemp("served")).start()
    yield ServedDir(server)
    server.stop()
