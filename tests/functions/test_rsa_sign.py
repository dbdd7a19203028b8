"""builtin-rsa-sign."""

from __future__ import annotations

import pytest

from gaiwan.executors._base import FunctionError
from gaiwan.functions import rsa_sign
from tests.fixtures import teaclave_fixture

from .calls import FakeCall


def test_fixture_signature_of_test_data():
    """Signing "test data" (Teaclave's test argument) with the fixture key gives its signature."""
    call = FakeCall({"data": "test data"},
                    {"rsa_key": teaclave_fixture("functions/rsa_sign/key.der")})
    expected = teaclave_fixture("functions/rsa_sign/expected_rsasign.txt").read_text().strip()
    assert rsa_sign.run(call) == expected


def test_non_key_input_fails():
    """An input that is not a DER private key is refused."""
    with pytest.raises(FunctionError, match="rsa_key is not"):
        rsa_sign.run(FakeCall({"data": "x"}, {"rsa_key": b"not a key"}))


def test_missing_data_argument_fails():
    """data is required."""
    with pytest.raises(FunctionError, match="missing argument: data"):
        rsa_sign.run(FakeCall({}, {"rsa_key": b""}))
