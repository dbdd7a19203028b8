"""Tests that the authentication package exports exactly its deliberate surface."""

from __future__ import annotations

import inspect

import gaiwan.services.authentication as authentication


def test_public_names() -> None:
    """The package exports the core, its value types, the settings and main."""
    assert sorted(authentication.__all__) == [
        "AuthenticationCore", "Caller", "Claims", "Settings", "main"]
    for name in authentication.__all__:
        assert getattr(authentication, name) is not None


def test_main_takes_the_runtime() -> None:
    """main(runtime) is the launcher's entry point."""
    assert list(inspect.signature(authentication.main).parameters) == ["runtime"]
