"""The attestation authority: verifies a service's evidence, then endorses it (no gRPC here).

The order of checks is the order of trust: the evidence type is one we can verify at all, the
quote is signed by the TEE hardware, it binds the key being certified (REPORTDATA = X||Y), the
auditors signed the enclave_info we compare against, and the quote's measurements are the ones
listed there for the role asked for. Only then is a report signed and a mesh certificate issued;
any failure raises AttestationError (PERMISSION_DENIED) naming the check that failed.

Evidence types: `simulated` (the software TEE, development only, verified with the simulated
hardware key), `sgx-dcap` and `tdx-dcap` (real quotes, verified against Intel's collateral by
gaiwan.attestation.dcap_evidence; the TCB status that passed the policy goes into the report, in
the IAS word Teaclave clients know, with the advisory IDs it was accepted with). A debug enclave
or TD is refused outside development mode: its memory is open to the host. For a TD, the
measurements compared and reported are the digests of gaiwan.attestation.td_measurement.

enclave_info and the DCAP collateral are re-read for every request, so `gaiwan enclave-info
refresh` and new collateral files take effect without restarting the attestation service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ..config import Config
from ..errors import AttestationError, ConfigError
from ..home import SERVICES
from . import bound_inputs
from . import enclave_info as enclave_info_file
from .authority_keys import load_authority_keys
from .collateral import DcapCollateral, load_collateral
from .dcap_evidence import DCAP_TYPES, DcapClaims, verify_dcap_evidence
from .enclave_info import EnclaveInfo
from .keystore import KeyFiles, cert_pem
from .mesh import issue_mesh_certificate, mesh_ttl
from .pki import AuthorityKeys
from .policy import UP_TO_DATE, Policy, ias_status
from .ratls import Endorsement, report_data_of
from .report import build_report, sign_report
from .simulated import EVIDENCE_TYPE as SIMULATED
from .simulated import hardware_key, verify_evidence

EVIDENCE_TYPES = (SIMULATED, *DCAP_TYPES)


@dataclass(frozen=True)
class Endorsed:
    """What a successful attestation returns to the service."""

    endorsement: Endorsement
    mesh_cert_pem: bytes
    mesh_ca_pem: bytes
    not_after: int


def auditor_threshold(config: Config) -> int:
    return int(config.section("attestation").get("auditor_threshold", 1))


def load_enclave_info(config: Config, bound: bool = False) -> EnclaveInfo:
    """The platform's enclave_info, only if enough of its auditors signed it; `bound`: only with
    the auditor keys the attestation service's manifest binds (gaiwan.attestation.bound_inputs).
    """
    home = config.home

    def bound_auditors(keys: Mapping[str, bytes]) -> None:
        try:
            bound_inputs.require(config, bound_inputs.AUDITORS, bound_inputs.digest_files(keys))
        except ConfigError as exc:
            raise AttestationError(exc.message) from None

    return enclave_info_file.load_verified(home.enclave_info, home.auditors,
                                           auditor_threshold(config),
                                           bound_auditors if bound else None)


def _bound_collateral(config: Config, required: bool | None = None) -> DcapCollateral | None:
    """`load_collateral`, under Gramine only with the Intel root the manifest binds."""
    collateral = load_collateral(config, required)
    if collateral is not None:
        bound_inputs.require(config, bound_inputs.INTEL_ROOT, bound_inputs.digest(collateral.intel_root))
    return collateral


def check_evidence_type(config: Config, evidence_type: str) -> None:
    if evidence_type not in EVIDENCE_TYPES:
        raise AttestationError(f"unknown evidence type {evidence_type!r}")
    if evidence_type == SIMULATED and not config.development:
        raise AttestationError(
            f"simulated evidence is refused in {config.mode} mode (it is for development only)")


class Authority:
    def __init__(self, config: Config, tee_public_key: ec.EllipticCurvePublicKey | None,
                 signing_key: rsa.RSAPrivateKey, signing_chain: tuple[bytes, ...],
                 mesh_ca_key: ec.EllipticCurvePrivateKey, mesh_ca_cert: x509.Certificate) -> None:
        self._config = config
        self._tee_public_key = tee_public_key
        self._signing_key = signing_key
        self._signing_chain = signing_chain
        self._mesh_ca_key = mesh_ca_key
        self._mesh_ca_cert = mesh_ca_cert

    @classmethod
    def load(cls, config: Config, keys: AuthorityKeys | None = None) -> "Authority":
        """The authority of this platform (with `keys` when the caller loaded them already);
        ConfigError when its backend's collateral is missing.

        The simulated TEE key is optional: a platform on real TEEs does not have it, and then
        refuses simulated evidence.
        """
        _bound_collateral(config)
        keys = keys or load_authority_keys(config)
        chain = (keys.signing_cert.public_bytes(serialization.Encoding.DER),)
        files = KeyFiles(config.home)
        tee_key = hardware_key(config).public_key() if files.tee_sim_key.exists() else None
        return cls(config, tee_key, keys.signing_key, chain, keys.mesh_key, keys.mesh_cert)

    def _collateral(self) -> DcapCollateral:
        try:
            collateral = _bound_collateral(self._config, required=True)
            assert collateral is not None
        except ConfigError as exc:
            raise AttestationError(f"DCAP evidence cannot be verified: {exc.message}") from None
        return collateral

    def _verify(self, evidence_type: str, evidence: bytes, when: datetime) -> DcapClaims:
        """The quote body standing for the evidence and its status, once its signatures hold."""
        if evidence_type == SIMULATED:
            if self._tee_public_key is None:
                raise AttestationError("simulated evidence is refused: this platform has no "
                                       "simulated TEE key")
            return DcapClaims(verify_evidence(evidence, self._tee_public_key), UP_TO_DATE,
                              debug=False)
        claims = verify_dcap_evidence(evidence_type, evidence, self._collateral(),
                                      Policy.from_config(self._config), when)
        if claims.debug and not self._config.development:
            raise AttestationError(
                f"{evidence_type} evidence comes from a debug "
                f"{'TD' if claims.td else 'enclave'}, refused in {self._config.mode} mode")
        return claims

    def attest(self, service: str, evidence_type: str, evidence: bytes, public_key_der: bytes,
               now: datetime | None = None) -> Endorsed:
        if service not in SERVICES:
            raise AttestationError(f"unknown service {service!r}")
        check_evidence_type(self._config, evidence_type)
        public_key = _p256_key(public_key_der)
        when = now or datetime.now(timezone.utc)
        verified = self._verify(evidence_type, evidence, when)
        quote = verified.body
        if quote.report_data != report_data_of(public_key):
            raise AttestationError("REPORTDATA of the quote is not the public key to certify")
        load_enclave_info(self._config, bound=True).check_quote(service, quote, verified.td)

        report = build_report(quote, evidence_type, self._config.mode, now=when,
                              quote_status=ias_status(verified.tcb_status),
                              advisory_ids=verified.advisory_ids)
        endorsement = Endorsement(report, sign_report(report, self._signing_key),
                                  self._signing_chain)
        mesh = issue_mesh_certificate(self._mesh_ca_key, self._mesh_ca_cert, public_key, service,
                                      quote.mr_enclave, mesh_ttl(self._config), now=when,
                                      evidence_type=evidence_type)
        return Endorsed(endorsement, cert_pem(mesh), cert_pem(self._mesh_ca_cert),
                        int(mesh.not_valid_after_utc.timestamp()))


def _p256_key(der: bytes) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, TypeError):
        raise AttestationError("public_key is not a DER SubjectPublicKeyInfo") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise AttestationError("public_key is not a P-256 key")
    return key
