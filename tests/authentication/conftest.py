"""Fixtures for the authentication tests: a store, a fast argon2id, and ready-made users."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from gaiwan import passwords
from gaiwan.roles import Role
from gaiwan.services.authentication import AuthenticationCore, Caller, Settings
from gaiwan.storage.local import LocalStorage

from ._support import ADMIN_PASSWORD, make_user


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id with tiny cost parameters, so the role matrix runs in seconds."""
    monkeypatch.setattr(passwords, "_hasher",
                        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[LocalStorage]:
    """A real LMDB-backed, sealed store that enforces the authentication namespace."""
    with LocalStorage.open(tmp_path / "store", role="authentication") as store:
        yield store


@pytest.fixture
def settings() -> Settings:
    return Settings(bootstrap_admin="admin",
                    bootstrap_admin_hash=passwords.hash_password(ADMIN_PASSWORD),
                    token_ttl_s=3600)


@pytest.fixture
def core(storage: LocalStorage, settings: Settings) -> AuthenticationCore:
    return AuthenticationCore.open(storage, settings)


@pytest.fixture
def admin(core: AuthenticationCore) -> Caller:
    token = core.login("admin", ADMIN_PASSWORD)
    return core.caller("admin", token)


@pytest.fixture
def population(core: AuthenticationCore, admin: Caller) -> dict[str, Caller]:
    """One user of each role, with attributes `a` and `b` for the data roles."""
    users = {
        "fo": make_user(core, admin, "fo", "FunctionOwner"),
        "dom_a": make_user(core, admin, "dom_a", "DataOwnerManager", "a"),
        "dom_b": make_user(core, admin, "dom_b", "DataOwnerManager", "b"),
        "do_a": make_user(core, admin, "do_a", "DataOwner", "a"),
        "do_b": make_user(core, admin, "do_b", "DataOwner", "b"),
        "admin2": make_user(core, admin, "admin2", "PlatformAdmin"),
    }
    assert users["do_a"].role == Role.parse("DataOwner-a")
    return users

