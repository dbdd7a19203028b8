"""`gaiwan attest HOST:PORT`: what any endpoint proves, verified, or exactly why it does not.

Trust comes from the home's client/ folder (root CA, enclave_info and its auditors), its
configured auditor threshold and policy, and, when the home holds it, the mesh CA (internal
endpoints). Exit status 1 with `verification failed: <reason>` when any check fails.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..home import Home


@click.command("attest")
@click.argument("address", metavar="HOST:PORT")
@click.option("--home", "home_dir", envvar="GAIWAN_HOME", type=click.Path(), default=None,
              help="Data directory (default: $GAIWAN_HOME or ./.gaiwan).")
@click.option("--service", default=None,
              help="Require the endpoint to be this service (default: whichever enclave_info lists).")
@click.option("--timeout", default=10.0, show_default=True, help="Seconds to connect.")
def command(home_dir: str | None, address: str, service: str | None, timeout: float) -> None:
    """Verify an endpoint's attestation and print its claims."""
    from ..attestation.endpoint import verify_endpoint
    from ..attestation.keystore import KeyFiles
    from ..client import TrustAnchors
    from ..client._channel import fetch_certificate, parse_address
    from ..errors import AttestationError, GaiwanError

    home = Home.at(home_dir)
    try:
        host, port = parse_address(address)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="HOST:PORT") from None
    try:
        trust = TrustAnchors.from_home(home)
        cert = fetch_certificate(host, port, timeout)
        claims = verify_endpoint(cert, as_root_ca=trust.as_root_ca_pem,
                                 mesh_ca=_optional(KeyFiles(home).mesh_ca_cert),
                                 enclave_info=trust.enclave_info, policy=trust.policy,
                                 service=service)
    except AttestationError as exc:
        raise click.ClickException(f"verification failed: {exc.message}") from None
    except GaiwanError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"{host}:{port}: verified")
    rows = claims.rows()
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        click.echo(f"  {label.ljust(width)}  {value}")


def _optional(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
