"""Well-formedness checks: functions, crypto info, URLs, executors, task arguments and ownership."""

from __future__ import annotations

import json

import pytest

from gaiwan.errors import InvalidArgument
from gaiwan.records import CryptoInfo, FunctionArgument, FunctionIO, OwnerList
from gaiwan.services.management import _validation as v

from .conftest import io_spec, spec


@pytest.mark.parametrize("changes, message", [
    ({"name": ""}, "name is empty"),
    ({"executor_type": "jvm"}, "unknown executor_type"),
    ({"executor_type": "python", "payload": b""}, "needs a payload"),
    ({"arguments": (FunctionArgument("a"), FunctionArgument("a"))}, "given twice"),
    ({"inputs": (FunctionIO(""),)}, "empty name"),
    ({"outputs": (FunctionIO("o"), FunctionIO("o"))}, "given twice"),
    ({"user_allowlist": ("",)}, "empty user id"),
])
def test_function_rejections(changes: dict, message: str) -> None:
    """Each malformed function definition is refused with a message naming the fault."""
    with pytest.raises(InvalidArgument, match=message):
        v.check_function(spec(**changes))


@pytest.mark.parametrize("executor_type", ["builtin", "python", "wamr", "wasm"])
def test_function_executor_types_accepted(executor_type: str) -> None:
    """builtin, python, wamr and the wasm alias are accepted."""
    v.check_function(spec(executor_type=executor_type, payload=b"code"))


@pytest.mark.parametrize("info, kind", [
    (CryptoInfo("aes-gcm-128", bytes(16), bytes(12)), "output"),
    (CryptoInfo("aes-gcm-256", bytes(32), bytes(12)), "input"),
    (CryptoInfo("teaclave-file-128", bytes(16), b""), "output"),
    (CryptoInfo("raw", b"", b""), "input"),
])
def test_crypto_info_accepted(info: CryptoInfo, kind: str) -> None:
    """Every schema of spec §7 with its key and iv sizes passes."""
    v.check_crypto_info(info, kind)


@pytest.mark.parametrize("info, kind, message", [
    (CryptoInfo("aes-gcm-128", bytes(32), bytes(12)), "input", "16-byte key"),
    (CryptoInfo("aes-gcm-128", bytes(16), bytes(16)), "input", "12-byte iv"),
    (CryptoInfo("aes-gcm-256", bytes(16), bytes(12)), "input", "32-byte key"),
    (CryptoInfo("teaclave-file-128", bytes(16), bytes(12)), "input", "0-byte iv"),
    (CryptoInfo("raw", b"", b""), "output", "input files only"),
    (CryptoInfo("raw", bytes(16), b""), "input", "0-byte key"),
    (CryptoInfo("rot13", b"", b""), "input", "unknown crypto schema"),
])
def test_crypto_info_rejections(info: CryptoInfo, kind: str, message: str) -> None:
    """Wrong key or iv sizes, unknown schemas and raw outputs are refused."""
    with pytest.raises(InvalidArgument, match=message):
        v.check_crypto_info(info, kind)


def test_cmac_length() -> None:
    """Encrypted inputs carry a 16-byte cmac; raw inputs need none."""
    v.check_cmac(bytes(16), CryptoInfo("aes-gcm-128", bytes(16), bytes(12)))
    v.check_cmac(b"", CryptoInfo("raw", b"", b""))
    with pytest.raises(InvalidArgument, match="16 bytes"):
        v.check_cmac(b"short", CryptoInfo("aes-gcm-128", bytes(16), bytes(12)))


@pytest.mark.parametrize("url, kind", [
    ("https://store.example/a.enc", "input"),
    ("http://10.0.0.1:8080/a", "output"),
    ("file:///tmp/a.enc", "output"),
    ("data:text/plain;base64,aGk=", "input"),
])
def test_urls_accepted(url: str, kind: str) -> None:
    """http, https, file and (for inputs) data URLs pass."""
    v.check_url(url, kind)


@pytest.mark.parametrize("url, kind, message", [
    ("fusion:///x.fusion", "input", "assigned by the platform"),
    ("ftp://host/a", "input", "unsupported url scheme"),
    ("no scheme", "input", "unsupported url scheme"),
    ("data:text/plain;base64,aGk=", "output", "input files only"),
    ("https:///path", "input", "without a host"),
    ("file://", "output", "without a path"),
    ("data:nothing", "input", "without data"),
])
def test_url_rejections(url: str, kind: str, message: str) -> None:
    """Other schemes, platform-only fusion URLs and malformed URLs are refused."""
    with pytest.raises(InvalidArgument, match=message):
        v.check_url(url, kind)


def test_executor_pairs() -> None:
    """Spec §8 pairs and Gaiwan's own runners pair; anything else is refused."""
    v.check_executor(spec(executor_type="python"), "mesapy")
    v.check_executor(spec(executor_type="wasm"), "wamr")
    v.check_executor(spec(executor_type="wamr"), "wasmtime")
    with pytest.raises(InvalidArgument, match="cannot run"):
        v.check_executor(spec(executor_type="builtin"), "mesapy")


def test_task_arguments_apply_defaults_and_stringify() -> None:
    """Given keys are stringified as Teaclave does; fixed arguments take their defaults."""
    final = v.task_arguments(io_spec(), json.dumps({"order": 3}))
    assert final == {"mode": "fast", "order": "3"}
    function = spec(arguments=(FunctionArgument("a"), FunctionArgument("b"), FunctionArgument("c"),
                               FunctionArgument("d")))
    text = '{"a": true, "b": 1.5, "c": [1, 2], "d": "x"}'
    assert v.task_arguments(function, text) == {"a": "true", "b": "1.5", "c": "[1,2]", "d": "x"}
    assert v.task_arguments(spec(arguments=()), "") == {}


@pytest.mark.parametrize("text, message", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ("{}", "missing \\['order'\\]"),
    ('{"order": "a", "mode": "slow"}', "not accepted \\['mode'\\]"),
    ('{"order": "a", "other": "x"}', "not accepted \\['other'\\]"),
])
def test_task_argument_rejections(text: str, message: str) -> None:
    """The given keys must be exactly the overwritable arguments; values never appear in errors."""
    with pytest.raises(InvalidArgument, match=message) as err:
        v.task_arguments(io_spec(), text)
    assert "slow" not in err.value.message


def test_ownership_accepts_optional_names_listed_or_not() -> None:
    """Listed names plus optional names must make up the function's names."""
    declared = io_spec().inputs
    v.check_ownership(declared, (OwnerList("left", ("a",)), OwnerList("right", ("b",))), "inputs")
    v.check_ownership(declared, (OwnerList("left", ("a",)), OwnerList("right", ("b",)),
                                 OwnerList("extra", ("a",))), "inputs")


@pytest.mark.parametrize("ownership, message", [
    ((OwnerList("left", ("a",)),), "missing \\['right'\\]"),
    ((OwnerList("left", ("a",)), OwnerList("right", ("b",)), OwnerList("z", ("a",))), "unknown \\['z'\\]"),
    ((OwnerList("left", ("a",)), OwnerList("left", ("b",)), OwnerList("right", ("b",))), "given twice"),
    ((OwnerList("left", ()), OwnerList("right", ("b",))), "at least one owner"),
])
def test_ownership_rejections(ownership: tuple[OwnerList, ...], message: str) -> None:
    """Missing, unknown, repeated and ownerless names are refused."""
    with pytest.raises(InvalidArgument, match=message):
        v.check_ownership(io_spec().inputs, ownership, "inputs")
