"""What an endpoint's certificate proves, for any Gaiwan endpoint (sans-IO; `gaiwan attest`).

A Gaiwan platform serves three kinds of certificate, each verified against its own anchor:
- public endpoints: an RA-TLS certificate (spec §3), verified like a Teaclave client does, plus
  the policy (TCB status, report age, simulated evidence) and the signed enclave_info;
- internal endpoints: a mesh certificate, the passport the attestation service issued after it
  verified that service's evidence; checked against the mesh CA and, again, against the signed
  enclave_info, so a build whose measurement auditors removed shows as revoked here at once;
- the attestation endpoint: a server certificate from the attestation root CA (the attestation
  service checks its own evidence locally at start, it has no one to present it to).
Anything else is refused with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from cryptography import x509
from cryptography.x509.oid import NameOID

from ..errors import AttestationError
from .chain import load_certificate, verify_chain
from .enclave_info import EnclaveInfo
from .mesh import evidence_type_of, measurement_of
from .policy import Policy
from .ratls import NETSCAPE_COMMENT, verify_ra_tls_report
from .report import ReportClaims

RA_TLS = "RA-TLS (Teaclave report)"
MESH = "mesh certificate"
ATTESTATION = "attestation server certificate"


@dataclass(frozen=True)
class EndpointClaims:
    """The verified claims about one endpoint; empty strings where a kind does not carry one."""

    kind: str
    service: str
    evidence_type: str = ""
    mode: str = ""
    mr_enclave: str = ""
    mr_signer: str = ""
    status: str = ""
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    auditors: tuple[str, ...] = ()

    def rows(self, now: datetime | None = None) -> list[tuple[str, str]]:
        """(label, value) pairs to show a person, in a stable order."""
        when = now or datetime.now(timezone.utc)
        rows = [("certificate", self.kind), ("service", self.service)]
        for label, value in (("evidence type", self.evidence_type), ("mode", self.mode),
                             ("measurement (mr_enclave)", self.mr_enclave),
                             ("signer (mr_signer)", self.mr_signer), ("status", self.status)):
            if value:
                rows.append((label, value))
        if self.issued_at is not None:
            rows.append(("age", f"{(when - self.issued_at).total_seconds():.0f} s "
                                f"(issued {self.issued_at.isoformat(timespec='seconds')})"))
        if self.expires_at is not None:
            rows.append(("expires", f"{self.expires_at.isoformat(timespec='seconds')} "
                                    f"(in {(self.expires_at - when).total_seconds():.0f} s)"))
        if self.auditors:
            rows.append(("auditors", ", ".join(self.auditors)))
        return rows


def verify_endpoint(cert_der: bytes, *, as_root_ca: bytes, mesh_ca: bytes | None,
                    enclave_info: EnclaveInfo, policy: Policy, service: str | None = None,
                    at: datetime | None = None) -> EndpointClaims:
    """The claims `cert_der` proves under these anchors, or AttestationError saying why not."""
    cert = load_certificate(cert_der)
    extensions = list(cert.extensions)
    if extensions and extensions[0].oid == NETSCAPE_COMMENT:
        return _ra_tls(cert_der, as_root_ca, enclave_info, policy, service, at)
    if mesh_ca is not None and cert.issuer == load_certificate(mesh_ca).subject:
        return _mesh(cert, load_certificate(mesh_ca), enclave_info, service, at)
    if cert.issuer == load_certificate(as_root_ca).subject:
        verify_chain([cert], load_certificate(as_root_ca), at)
        return EndpointClaims(ATTESTATION, service or "attestation",
                              expires_at=cert.not_valid_after_utc, auditors=enclave_info.signed_by)
    raise AttestationError(
        f"certificate of {cert.subject.rfc4514_string()} carries no attestation report and is "
        "issued by neither the mesh CA nor the attestation root CA")


def _ra_tls(cert_der: bytes, root: bytes, info: EnclaveInfo, policy: Policy,
            service: str | None, at: datetime | None) -> EndpointClaims:
    claims = verify_ra_tls_report(cert_der, root, at, policy)
    enclave, signer = claims.quote.mr_enclave, claims.quote.mr_signer
    if service is not None:
        info.check(service, enclave, signer)
    else:
        service = info.service_of(enclave, signer)
        if service is None:
            raise AttestationError(
                f"measurements mr_enclave {enclave.hex()} / mr_signer {signer.hex()} are listed "
                "for no service in enclave_info")
    return EndpointClaims(
        RA_TLS, service, claims.evidence_type or "sgx (Teaclave report)", claims.mode,
        enclave.hex(), signer.hex(), _status(claims),
        claims.issued_at, x509.load_der_x509_certificate(cert_der).not_valid_after_utc,
        info.signed_by)


def _status(claims: ReportClaims) -> str:
    status = f"{claims.tcb_status} ({claims.quote_status})"
    return f"{status}, advisories {', '.join(claims.advisory_ids)}" if claims.advisory_ids else status


def _mesh(cert: x509.Certificate, mesh_ca: x509.Certificate, info: EnclaveInfo,
          service: str | None, at: datetime | None) -> EndpointClaims:
    verify_chain([cert], mesh_ca, at)
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    role = str(names[0].value) if names else ""
    if service is not None and role != service:
        raise AttestationError(f"mesh certificate is for role {role!r}, not {service!r}")
    measurement = measurement_of(cert)
    want = info.expect(role)
    if measurement != want.mr_enclave.hex():
        raise AttestationError(
            f"mesh certificate of {role} attests measurement {measurement or '(none)'}, which "
            f"enclave_info no longer lists (it lists {want.mr_enclave.hex()})")
    return EndpointClaims(
        MESH, role, evidence_type_of(cert), "", measurement, want.mr_signer.hex(),
        "certified by the mesh CA", cert.not_valid_before_utc, cert.not_valid_after_utc,
        info.signed_by)
