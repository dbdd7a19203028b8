"""Platforms for attestation tests: one made per session by the real init code, copied per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gaiwan.cli.init_cmd import choose_ports, create_platform
from gaiwan.config import Config
from gaiwan.home import Home

ADMIN_PASSWORD = "s3cret-admin-pw-for-tests"


@pytest.fixture(scope="session")
def base_home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    home = Home.at(tmp_path_factory.mktemp("attestation") / "home")
    create_platform(home, ADMIN_PASSWORD, choose_ports("auto"), "development")
    return home


@pytest.fixture
def config(base_home: Home, tmp_path: Path) -> Config:
    """A private copy of the session platform (same keys), free to change."""
    root = tmp_path / "home"
    shutil.copytree(base_home.root, root)
    return Config.load(Home.at(root))
