"""Attestation: evidence, measurements, endorsed reports, RA-TLS and mesh certificates.

The names below are the package's public surface; the modules behind them are implementation.
Services call `establish_identity` (at start) and `seal_key` (storage); clients call
`verify_ra_tls_certificate` with an enclave_info loaded by `load_enclave_info_files` and a
`Policy` (accepted TCB statuses, maximum report age, whether simulated evidence counts).
"""

from __future__ import annotations

from .enclave_info import EnclaveInfo, Measurement
from .enclave_info import load_verified as load_enclave_info_files
from .enclave_info import parse as parse_enclave_info
from .establish import establish_identity
from .mesh import operator_identity
from .policy import Policy
from .quote import QuoteBody, parse_quote_body
from .ratls import verify_ra_tls_certificate
from .report import ReportClaims
from .sealing import seal_key

__all__ = [
    "EnclaveInfo",
    "Measurement",
    "Policy",
    "QuoteBody",
    "ReportClaims",
    "establish_identity",
    "load_enclave_info_files",
    "operator_identity",
    "parse_enclave_info",
    "parse_quote_body",
    "seal_key",
    "verify_ra_tls_certificate",
]
