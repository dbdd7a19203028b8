"""How a service process obtains its identity at start: measure, prove, get certified.

The service first checks locally that its own measurement is in the signed enclave_info, so a
stale enclave_info fails fast with a message saying what to run instead of a refusal from the
attestation service. It then makes a fresh P-256 key that never leaves the process, binds it into
evidence, and asks the attestation service to verify it. The attestation service itself runs the
same checks locally and certifies its own key.

The evidence comes from `[attestation] backend`: `simulated` measures the code and signs with
the simulated TEE key; `gramine-sgx` and `tsm` ask the TEE for a quote over the key (REPORTDATA =
X||Y, the same rule), and the service learns its own measurement from that quote, since only the
hardware knows it. A backend that cannot produce evidence stops the service (ConfigError).
"""

from __future__ import annotations

import time

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ..config import Config
from ..errors import AttestationError, ConfigError, Unavailable, from_rpc_error
from ..logs import Logger
from ..rpc.identity import ServiceIdentity
from ..rpc.pb import gaiwan_attestation_pb2, gaiwan_attestation_pb2_grpc
from ..rpc.server import message_options
from . import bound_inputs
from .backends import Backend, GramineSgx, Tsm
from .collateral import backend_name
from .dcap_evidence import claims_of, parse_evidence
from .keystore import cert_pem, private_key_pem, read_bytes
from .measurement import mr_enclave, mr_signer
from .pki import ATTESTATION_HOSTNAME
from .quote import QuoteBody
from .ratls import Endorsement, build_ra_tls_certificate, report_data_of
from .simulated import EVIDENCE_TYPE as SIMULATED
from .simulated import hardware_key, produce_evidence
from .verifier import Authority, Endorsed, check_evidence_type, load_enclave_info

ATTEST_TIMEOUT_S = 30.0
CALL_TIMEOUT_S = 10.0
_STALE_HINT = ("run `gaiwan enclave-info refresh` (development; `make run` does it) "
               "or have the auditors sign a new enclave_info")


def check_listed(config: Config, service: str, enclave: bytes, signer: bytes) -> None:
    """Fails fast, with what to do, when this build is not in the signed enclave_info."""
    try:
        load_enclave_info(config).check(service, enclave, signer)
    except AttestationError as exc:
        raise ConfigError(f"{service} cannot be attested: {exc.message}; {_STALE_HINT}") from None


def attestation_channel(config: Config) -> grpc.Channel:
    """Server-authenticated TLS to the attestation endpoint, pinned to the AS root CA's name."""
    root = read_bytes(config.home.as_root_ca_cert)
    bound_inputs.require(config, bound_inputs.AS_ROOT_CA, bound_inputs.digest(root))
    creds = grpc.ssl_channel_credentials(root_certificates=root)
    options = message_options(config.max_message_bytes) + [
        ("grpc.ssl_target_name_override", ATTESTATION_HOSTNAME),
        ("grpc.default_authority", ATTESTATION_HOSTNAME),
    ]
    return grpc.secure_channel(config.target("attestation"), creds, options=options)


def request_attestation(config: Config, request: gaiwan_attestation_pb2.AttestRequest,
                        log: Logger, timeout_s: float = ATTEST_TIMEOUT_S) -> Endorsed:
    """Calls Attest, waiting (with backoff) while the service is not up yet; never retries a refusal."""
    deadline = time.monotonic() + timeout_s
    delay = 0.1
    with attestation_channel(config) as channel:
        stub = gaiwan_attestation_pb2_grpc.GaiwanAttestationStub(channel)
        while True:
            try:
                response = stub.Attest(request, timeout=CALL_TIMEOUT_S)
                break
            except grpc.RpcError as exc:
                if exc.code() == grpc.StatusCode.PERMISSION_DENIED:
                    raise AttestationError(f"attestation refused: {exc.details()}") from None
                if exc.code() != grpc.StatusCode.UNAVAILABLE:
                    raise from_rpc_error(exc) from None
                if time.monotonic() + delay > deadline:
                    raise Unavailable(
                        f"attestation service at {config.target('attestation')} is unavailable "
                        f"after {timeout_s:.0f} s") from None
                log.info("attestation service not reachable yet, retrying", delay_s=delay)
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
    return Endorsed(
        Endorsement(response.report, response.report_signature, tuple(response.report_certs)),
        response.mesh_certificate, response.mesh_ca_certificate, response.not_after)


def evidence_backend(config: Config) -> Backend | None:
    """The TEE backend `[attestation] backend` names; None for the simulated TEE."""
    name = backend_name(config)
    if name == "gramine-sgx":
        return GramineSgx()
    if name == "tsm":
        return Tsm()
    return None


def _simulated_evidence(config: Config, service: str,
                        key: ec.EllipticCurvePrivateKey) -> tuple[bytes, bytes]:
    """(evidence, mr_enclave) from the software TEE, once this build is known to be listed."""
    enclave, signer = mr_enclave(config, service), mr_signer(config)
    check_listed(config, service, enclave, signer)
    quote = QuoteBody(mr_enclave=enclave, mr_signer=signer,
                      report_data=report_data_of(key.public_key()))
    return produce_evidence(quote, hardware_key(config)), enclave


def _tee_evidence(config: Config, service: str, backend: Backend,
                  key: ec.EllipticCurvePrivateKey) -> tuple[str, bytes, bytes]:
    """(evidence type, evidence, mr_enclave) from a real TEE, once its quote's measurement is
    known to be listed."""
    try:
        evidence = backend.quote(report_data_of(key.public_key()))
        check_evidence_type(config, evidence.evidence_type)
        body, _, td = claims_of(parse_evidence(evidence.evidence_type, evidence.data))
    except AttestationError as exc:
        raise ConfigError(f"{service} cannot be attested: {exc.message}") from None
    try:
        load_enclave_info(config).check_quote(service, body, td)
    except AttestationError as exc:
        raise ConfigError(f"{service} cannot be attested: {exc.message}; have the auditors "
                          "sign an enclave_info listing this build") from None
    return evidence.evidence_type, evidence.data, body.mr_enclave


def establish_identity(config: Config, service: str, log: Logger,
                       backend: Backend | None = None) -> ServiceIdentity:
    """Attests this process as `service` and returns the key and certificates it serves with.

    `backend` overrides the configured one (tests pass fakes of the TEE file interfaces).
    """
    bound_inputs.require(config, bound_inputs.CONFIG,
                         bound_inputs.digest(config.security_view(service)))
    tee = backend or evidence_backend(config)
    key = ec.generate_private_key(ec.SECP256R1())
    if tee is None:
        try:
            check_evidence_type(config, SIMULATED)
        except AttestationError as exc:
            raise ConfigError(f"{service} cannot be attested: {exc.message}") from None
        evidence_type = SIMULATED
        evidence, enclave = _simulated_evidence(config, service, key)
    else:
        evidence_type, evidence, enclave = _tee_evidence(config, service, tee, key)
    public_der = key.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    if service == "attestation":
        endorsed = Authority.load(config).attest(service, evidence_type, evidence, public_der)
    else:
        request = gaiwan_attestation_pb2.AttestRequest(
            service=service, evidence_type=evidence_type, evidence=evidence, public_key=public_der)
        endorsed = request_attestation(config, request, log)
    _check_certifies(endorsed.mesh_cert_pem, public_der)
    ra_tls = build_ra_tls_certificate(key, endorsed.endorsement, service)
    log.info("attested", role=service, measurement=enclave.hex(), evidence_type=evidence_type)
    return ServiceIdentity(
        role=service,
        key_pem=private_key_pem(key),
        mesh_cert_pem=endorsed.mesh_cert_pem,
        mesh_ca_pem=endorsed.mesh_ca_pem,
        ra_tls_cert_pem=cert_pem(ra_tls),
        measurement=enclave.hex(),
    )


def _check_certifies(mesh_cert_pem: bytes, public_der: bytes) -> None:
    try:
        cert = x509.load_pem_x509_certificate(mesh_cert_pem)
    except ValueError:
        raise AttestationError("attestation service returned a malformed mesh certificate") from None
    got = cert.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    if got != public_der:
        raise AttestationError("the mesh certificate returned does not certify this service's key")
