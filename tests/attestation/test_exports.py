"""Tests that gaiwan.attestation exports exactly its deliberate public surface."""

from __future__ import annotations

import pkgutil

import gaiwan.attestation as attestation

PUBLIC = {
    "EnclaveInfo", "Measurement", "Policy", "QuoteBody", "ReportClaims", "establish_identity",
    "load_enclave_info_files", "operator_identity", "parse_enclave_info", "parse_quote_body",
    "seal_key", "verify_ra_tls_certificate",
}


def test_public_names_are_exactly_the_list() -> None:
    """__all__ is the agreed list and every name in it resolves."""
    assert set(attestation.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(attestation, name) is not None


def test_no_accidental_exports() -> None:
    """Nothing public lives in the package namespace besides __all__ and the submodules."""
    modules = {m.name for m in pkgutil.iter_modules(attestation.__path__)}
    public = {n for n in vars(attestation) if not n.startswith("_") and n != "annotations"}
    assert public - modules == PUBLIC
