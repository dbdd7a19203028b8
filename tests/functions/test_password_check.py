"""builtin-password-check."""

from __future__ import annotations

import pytest

from gaiwan.executors._base import FunctionError
from gaiwan.functions import password_check
from tests.fixtures import teaclave_fixture

from .calls import FakeCall


def test_fixture_password_is_exposed():
    """The fixture password appears in the fixture list."""
    call = FakeCall(inputs={
        "password": teaclave_fixture("functions/password_check/password.txt"),
        "exposed_passwords": teaclave_fixture("functions/password_check/exposed_passwords.txt")})
    assert password_check.run(call) == "true"


def test_unlisted_password_and_whitespace():
    """Only whole lines match, ignoring surrounding whitespace."""
    listed = b"hunter2\r\n  letmein  \n"
    assert password_check.run(FakeCall(inputs={
        "password": b" letmein\n", "exposed_passwords": listed})) == "true"
    assert password_check.run(FakeCall(inputs={
        "password": b"letme\n", "exposed_passwords": listed})) == "false"


def test_empty_password_fails():
    """An empty password input is an error, not a check of the empty string."""
    with pytest.raises(FunctionError, match="password is empty"):
        password_check.run(FakeCall(inputs={"password": b"", "exposed_passwords": b"\n"}))
