"""Well-formedness of what callers register: functions, file crypto info, URLs, task arguments.

Pure checks that raise InvalidArgument with a message naming the field at fault. Messages name
keys, schemas and schemes, never values: argument values, keys and payloads are secrets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from ...errors import InvalidArgument
from ...records import CryptoInfo, Function, FunctionIO, OwnerList

# executor_type -> executors that can run it (spec §8 pairs, plus Gaiwan's own runners).
EXECUTOR_PAIRS: dict[str, frozenset[str]] = {
    "builtin": frozenset({"builtin"}),
    "python": frozenset({"mesapy", "python"}),
    "wamr": frozenset({"wamr", "wasmtime"}),
    "wasm": frozenset({"wamr", "wasmtime"}),
}

# schema -> (key length, iv length); raw carries neither.
_SCHEMAS: dict[str, tuple[int, int]] = {
    "aes-gcm-128": (16, 12),
    "aes-gcm-256": (32, 12),
    "teaclave-file-128": (16, 0),
    "raw": (0, 0),
}
_INPUT_ONLY_SCHEMAS = frozenset({"raw"})
_USER_SCHEMES = frozenset({"http", "https", "file", "data"})
_INPUT_ONLY_SCHEMES = frozenset({"data"})
FUSION_SCHEME = "fusion"
_INT32_MAX = 2**31 - 1
CMAC_BYTES = 16


def _unique(names: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if not name:
            raise InvalidArgument(f"{what}: empty name")
        if name in seen:
            raise InvalidArgument(f"{what}: {name!r} given twice")
        seen.add(name)


def check_function(function: Function) -> None:
    """A function definition as RegisterFunction and UpdateFunction accept it."""
    if not function.name:
        raise InvalidArgument("function name is empty")
    if function.executor_type not in EXECUTOR_PAIRS:
        raise InvalidArgument(
            f"unknown executor_type {function.executor_type!r}; one of: {', '.join(sorted(EXECUTOR_PAIRS))}")
    if function.executor_type != "builtin" and not function.payload:
        raise InvalidArgument(f"a {function.executor_type} function needs a payload")
    _unique((a.key for a in function.arguments), "arguments")
    _unique((i.name for i in function.inputs), "inputs")
    _unique((o.name for o in function.outputs), "outputs")
    if any(not uid for uid in function.user_allowlist):
        raise InvalidArgument("user_allowlist: empty user id")
    if function.usage_quota > _INT32_MAX:
        raise InvalidArgument("usage_quota out of range")


def check_crypto_info(info: CryptoInfo, kind: str) -> None:
    """kind: "input" or "output" (raw plaintext can be read, never written)."""
    sizes = _SCHEMAS.get(info.schema)
    if sizes is None:
        raise InvalidArgument(f"unknown crypto schema {info.schema!r}; one of: {', '.join(sorted(_SCHEMAS))}")
    if kind == "output" and info.schema in _INPUT_ONLY_SCHEMAS:
        raise InvalidArgument(f"schema {info.schema!r} is for input files only")
    key_len, iv_len = sizes
    if len(info.key) != key_len:
        raise InvalidArgument(f"schema {info.schema!r} needs a {key_len}-byte key")
    if len(info.iv) != iv_len:
        raise InvalidArgument(f"schema {info.schema!r} needs a {iv_len}-byte iv")


def check_cmac(cmac: bytes, info: CryptoInfo) -> None:
    """An input's registered MAC (the GCM tag or protected-file root MAC) is 16 bytes."""
    if info.schema not in _INPUT_ONLY_SCHEMAS and len(cmac) != CMAC_BYTES:
        raise InvalidArgument(f"cmac must be {CMAC_BYTES} bytes for schema {info.schema!r}")


def check_url(url: str, kind: str) -> None:
    """Schemes callers may register; `fusion://` locations are chosen by the platform only."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise InvalidArgument("malformed url") from None
    scheme = parts.scheme.lower()
    if scheme == FUSION_SCHEME:
        raise InvalidArgument("fusion:// locations are assigned by the platform")
    if scheme not in _USER_SCHEMES:
        raise InvalidArgument(
            f"unsupported url scheme {scheme!r}; one of: {', '.join(sorted(_USER_SCHEMES))}")
    if kind == "output" and scheme in _INPUT_ONLY_SCHEMES:
        raise InvalidArgument(f"url scheme {scheme!r} is for input files only")
    if scheme in ("http", "https") and not parts.netloc:
        raise InvalidArgument("http(s) url without a host")
    if scheme == "file" and not parts.path:
        raise InvalidArgument("file url without a path")
    if scheme == "data" and "," not in url:
        raise InvalidArgument("data url without data")


_TAG = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
MAX_TAGS = 32


def check_tags(tags: tuple[str, ...]) -> None:
    """Tags are short labels for policies to match, not a place to store data."""
    if len(tags) > MAX_TAGS:
        raise InvalidArgument(f"at most {MAX_TAGS} tags")
    for tag in tags:
        if not _TAG.fullmatch(tag):
            raise InvalidArgument("a tag is 1..64 characters of letters, digits and _ . : -")


def check_executor(function: Function, executor: str) -> None:
    if executor not in EXECUTOR_PAIRS.get(function.executor_type, frozenset()):
        raise InvalidArgument(
            f"executor {executor!r} cannot run a {function.executor_type!r} function")


def _stringify(value: Any) -> str:
    """Teaclave hands strings through and other JSON values as their compact JSON text."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def task_arguments(function: Function, text: str) -> dict[str, str]:
    """The task's final arguments: exactly the overwritable keys given, defaults for the rest."""
    try:
        given = json.loads(text) if text.strip() else {}
    except ValueError:
        raise InvalidArgument("function_arguments is not valid JSON") from None
    if not isinstance(given, dict):
        raise InvalidArgument("function_arguments must be a JSON object")
    overwritable = {a.key for a in function.arguments if a.allow_overwrite}
    missing = sorted(overwritable - given.keys())
    unexpected = sorted(given.keys() - overwritable)
    if missing or unexpected:
        raise InvalidArgument(
            f"function_arguments mismatch: missing {missing}, not accepted {unexpected}")
    final = {a.key: a.default_value for a in function.arguments if not a.allow_overwrite}
    final.update({k: _stringify(v) for k, v in given.items()})
    return final


def check_ownership(declared: tuple[FunctionIO, ...], ownership: tuple[OwnerList, ...],
                    what: str) -> None:
    """Ownership names plus the function's optional names must be exactly its names."""
    _unique((o.data_name for o in ownership), what)
    names = {o.data_name for o in ownership}
    expected = {d.name for d in declared}
    optional = {d.name for d in declared if d.optional}
    unknown = sorted(names - expected)
    missing = sorted(expected - optional - names)
    if unknown or missing:
        raise InvalidArgument(f"{what} mismatch: missing {missing}, unknown {unknown}")
    for owners in ownership:
        if not owners.uids or any(not uid for uid in owners.uids):
            raise InvalidArgument(f"{what}: {owners.data_name!r} needs at least one owner")
