"""Intel's signed JSON collateral (TCB info, enclave identity): the signed object and its signer.

Intel's PCS serves `{"<body>": {...}, "signature": "<hex r||s>"}`, the signature covering the
exact bytes of the body value as served, made by the TCB Signing certificate whose PEM chain
comes with it (`TCB-Info-Issuer-Chain`, `SGX-Enclave-Identity-Issuer-Chain`: the same chain).
The body is decoded from the very bytes whose signature is checked, never from a second parse of
the document: with a repeated key, the two could differ.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from cryptography import x509

from ..errors import AttestationError
from .chain import split_pem_chain, verify_named_chain
from .p256 import require_p256, verify_raw_signature


def signed_body(text: bytes, key: str, what: str) -> tuple[dict[str, Any], bytes, bytes]:
    """The `key` object, its exact bytes (what was signed) and the signature."""
    try:
        decoded = text.decode()
        doc = json.loads(decoded)
        quoted = f'"{key}"'
        start = decoded.index(":", decoded.index(quoted) + len(quoted)) + 1
        while decoded[start] in " \t\r\n":
            start += 1
        body, end = json.JSONDecoder().raw_decode(decoded, start)
        signature = bytes.fromhex(doc["signature"])
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, IndexError):
        raise AttestationError(f"{what} is not a signed {key} JSON document") from None
    if not isinstance(body, dict):
        raise AttestationError(f"{what} has no {key} object")
    return body, decoded[start:end].encode(), signature


def verified_body(text: bytes, key: str, what: str, issuer_chain_pem: bytes,
                  root: x509.Certificate, at: datetime) -> tuple[dict[str, Any], list[x509.Certificate]]:
    """The `key` object once its issuer chain reaches `root` and its signature verifies."""
    chain = split_pem_chain(issuer_chain_pem, f"{what} issuer chain")
    verify_named_chain(chain, root, at, f"{what} issuer chain")
    body, signed, signature = signed_body(text, key, what)
    signer = require_p256(chain[0].public_key(), "TCB signing certificate")
    verify_raw_signature(signer, signature, signed, f"{what} signature")
    return body, chain


def collateral_time(text: object, what: str) -> datetime:
    """An ISO 8601 time of Intel collateral (`...Z`), as an aware UTC datetime."""
    try:
        when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise AttestationError(f"{what} {text!r} is not a time") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def check_current(body: dict[str, Any], what: str, at: datetime, min_evaluation: int = 0) -> None:
    """Refuses collateral issued after `at`, whose nextUpdate has passed, or (with
    `min_evaluation`) of a TCB evaluation older than that number."""
    if collateral_time(body.get("issueDate"), f"{what} issueDate") > at:
        raise AttestationError(f"{what} is issued {body.get('issueDate')}, after {at.isoformat()}")
    if collateral_time(body.get("nextUpdate"), f"{what} nextUpdate") < at:
        raise AttestationError(f"{what} expired at {body.get('nextUpdate')}")
    if min_evaluation:
        number = body.get("tcbEvaluationDataNumber")
        if isinstance(number, bool) or not isinstance(number, int):
            raise AttestationError(f"{what} has no tcbEvaluationDataNumber, and the policy asks "
                                   f"for at least {min_evaluation}")
        if number < min_evaluation:
            raise AttestationError(
                f"{what} is of TCB evaluation {number}, older than the policy's minimum "
                f"{min_evaluation} ([attestation] min_tcb_evaluation_data_number)")


def level_advisories(level: dict[str, Any]) -> tuple[str, ...]:
    """A TCB level's `advisoryIDs` (Intel's security advisories it is exposed to; absent when
    none); ValueError when not a list of strings, which callers report as a malformed level."""
    ids = level.get("advisoryIDs", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        raise ValueError("advisoryIDs is not a list of advisory IDs")
    return tuple(ids)
