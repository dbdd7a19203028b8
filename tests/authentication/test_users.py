"""Tests of the user table in storage: records, bootstrap marker, paging and secrecy."""

from __future__ import annotations

import pytest

from gaiwan.errors import AlreadyExists, NotFound
from gaiwan.services.authentication._users import (
    BOOTSTRAPPED_KEY, UserRecord, UserStore, user_key)
from gaiwan.storage.local import LocalStorage


def test_record_roundtrip_and_key(storage: LocalStorage) -> None:
    """A user is stored as JSON under auth/user/<id> and read back equal."""
    users = UserStore(storage)
    record = UserRecord("bob", "DataOwner-a", "$argon2id$fake")
    users.create(record)
    assert storage.get(user_key("bob")) is not None and user_key("bob") == b"auth/user/bob"
    assert users.require("bob").record == record


def test_duplicate_create_keeps_first(storage: LocalStorage) -> None:
    """A second create of one id raises "user id exist" and leaves the first record."""
    users = UserStore(storage)
    users.create(UserRecord("bob", "FunctionOwner", "h1"))
    with pytest.raises(AlreadyExists, match="user id exist"):
        users.create(UserRecord("bob", "PlatformAdmin", "h2"))
    assert users.require("bob").record.role == "FunctionOwner"


def test_require_unknown_user(storage: LocalStorage) -> None:
    """An unknown id is NotFound (INVALID_ARGUMENT)."""
    with pytest.raises(NotFound):
        UserStore(storage).require("ghost")


def test_bootstrap_happens_once(storage: LocalStorage) -> None:
    """The first bootstrap writes the admin and the marker; later ones change nothing."""
    users = UserStore(storage)
    assert users.bootstrap(UserRecord("admin", "PlatformAdmin", "h")) is True
    assert users.bootstrapped() and storage.get(BOOTSTRAPPED_KEY) is not None
    users.delete(users.require("admin"))
    assert users.bootstrap(UserRecord("admin", "PlatformAdmin", "h")) is False
    assert users.get("admin") is None


def test_all_pages_through_many_users(storage: LocalStorage) -> None:
    """Listing returns every user even when storage answers in pages."""
    users = UserStore(storage)
    ids = [f"user{i:04d}" for i in range(1203)]
    for user_id in ids:
        users.create(UserRecord(user_id, "FunctionOwner", "h"))
    assert [u.id for u in users.all()] == ids


def test_record_repr_hides_hash() -> None:
    """A record's repr (as in tracebacks or logs) omits the password hash."""
    assert "argon2" not in repr(UserRecord("bob", "FunctionOwner", "$argon2id$secret"))
