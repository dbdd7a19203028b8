"""What a service holds after attestation: its TLS key and the certificates vouching for it.

The key never leaves the process (it is made fresh at start and bound into the evidence), so
these objects live in memory only and are never written anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MESH_DOMAIN = "mesh.gaiwan"
# URI names in mesh certificates: the attested measurement and the kind of evidence behind it.
MEASUREMENT_URI_PREFIX = "gaiwan:measurement:"
EVIDENCE_URI_PREFIX = "gaiwan:evidence:"


def mesh_hostname(role: str) -> str:
    """The DNS name in a service's mesh certificate; clients pin it per target role."""
    return f"{role}.{MESH_DOMAIN}"


@dataclass(frozen=True)
class ServiceIdentity:
    role: str
    key_pem: bytes = field(repr=False)
    mesh_cert_pem: bytes
    mesh_ca_pem: bytes
    # Self-signed leaf with the endorsed report in its first extension (spec §3); empty for
    # identities that never serve a public endpoint (e.g. the operator's health-check identity).
    ra_tls_cert_pem: bytes = b""
    measurement: str = ""
