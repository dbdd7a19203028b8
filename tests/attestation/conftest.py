"""Platforms for attestation tests: one made per session by the real init code, copied per test.

Every test runs as if in a Gramine enclave where sealing is concerned: /dev/attestation's
sealing keys are files of a temp directory, so a `gramine-sgx` platform's attestation service
seals its keys as it would in its enclave. What a test binds of the data directory
(GAIWAN_BOUND_INPUTS) ends with it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gaiwan.attestation import bound_inputs, sealing
from gaiwan.attestation.backends import GramineSgx
from gaiwan.cli.init_cmd import choose_ports, create_platform
from gaiwan.config import Config
from gaiwan.home import Home
from tests.attestation.test_backends import FakeGramine

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


@pytest.fixture(autouse=True)
def gramine_sealing(tmp_path_factory: pytest.TempPathFactory,
                    monkeypatch: pytest.MonkeyPatch) -> GramineSgx:
    """The enclave's sealing keys, for code that asks Gramine for them without being given one."""
    root = tmp_path_factory.mktemp("dev-attestation") / "root"
    gramine = GramineSgx(root, FakeGramine(root))
    monkeypatch.setattr(sealing, "GramineSgx", lambda: gramine)
    monkeypatch.setenv(bound_inputs.ENV, "")  # restored after the test, whoever sets it meanwhile
    return gramine
