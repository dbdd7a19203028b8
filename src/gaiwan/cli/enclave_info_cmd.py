"""`gaiwan enclave-info`: generate, sign, verify and (in development) refresh enclave_info, and
print what a Gramine manifest binds (`bound-inputs`).

`sign` and `verify` take Teaclave CLI's options, including lists written as
`--public-keys a.pem b.pem`. Verification failures exit non-zero with the reason.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..home import SERVICES, Home

_HOME = click.option("--home", "home_dir", envvar="GAIWAN_HOME", type=click.Path(), default=None,
                     help="Data directory (default: $GAIWAN_HOME or ./.gaiwan).")
_EXISTING = click.Path(exists=True, dir_okay=False, path_type=Path)


class _ListOptions(click.Command):
    """Accepts `--opt a b c` for list options (Teaclave's CLI style) as well as repeated `--opt`."""

    list_options = ("--public-keys", "-p", "--signatures", "-s")

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        expanded: list[str] = []
        current: str | None = None
        for arg in args:
            if arg in self.list_options:
                current = arg
                expanded.append(arg)
            elif arg.startswith("-"):
                current = None
                expanded.append(arg)
            else:
                if current is not None and expanded[-1] != current:
                    expanded.append(current)
                expanded.append(arg)
        return super().parse_args(ctx, expanded)


@click.group("enclave-info")
def command() -> None:
    """The signed list of measurements clients and services trust."""


@command.command("generate")
@_HOME
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here instead of standard output.")
def generate(home_dir: str | None, output: Path | None) -> None:
    """Print the enclave_info of the installed code and this platform's configuration."""
    from ..attestation.pki import current_enclave_info
    from ..config import Config

    content = current_enclave_info(Config.load(Home.at(home_dir)))
    if output is None:
        click.echo(content.decode(), nl=False)
    else:
        output.write_bytes(content)
        click.echo(f"Wrote {output}")


@command.command("sign")
@_HOME
@click.option("--key", "key_path", type=_EXISTING, required=True,
              help="The auditor's RSA private key (PEM).")
@click.option("--name", default=None, help="Auditor name: writes client/auditors/NAME.sign.sha256.")
@click.option("--enclave-info", "info_path", type=_EXISTING, default=None,
              help="The file to sign (default: the platform's client/enclave_info.toml).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the raw signature.")
def sign(home_dir: str | None, key_path: Path, name: str | None, info_path: Path | None,
         output: Path | None) -> None:
    """Sign enclave_info's exact bytes (RSA PKCS#1 v1.5, SHA-256)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from ..attestation import enclave_info
    from ..attestation.keystore import auditor_signature_path

    home = Home.at(home_dir)
    if output is None:
        if name is None:
            raise click.UsageError("give -o SIG or --name NAME")
        output = auditor_signature_path(home, name)
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (ValueError, TypeError):
        raise click.ClickException(f"{key_path} is not an unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise click.ClickException(f"{key_path} is not an RSA key")
    content = (info_path or home.enclave_info).read_bytes()
    output.write_bytes(enclave_info.sign(content, key))
    click.echo(f"Wrote {output}")


@command.command("verify", cls=_ListOptions)
@click.option("--enclave-info", "info_path", type=_EXISTING, required=True)
@click.option("-p", "--public-keys", type=_EXISTING, multiple=True, required=True,
              help="Auditor public keys (PEM).")
@click.option("-s", "--signatures", type=_EXISTING, multiple=True, required=True,
              help="Auditor signatures (raw).")
@click.option("--threshold", type=click.IntRange(min=1), default=1, show_default=True,
              help="How many distinct known auditors must have signed.")
def verify(info_path: Path, public_keys: tuple[Path, ...], signatures: tuple[Path, ...],
           threshold: int) -> None:
    """Check that enough distinct known auditors signed enclave_info."""
    from ..attestation import enclave_info
    from ..errors import AttestationError

    try:
        count = enclave_info.verify(info_path.read_bytes(), [p.read_bytes() for p in public_keys],
                                    [s.read_bytes() for s in signatures], threshold)
    except AttestationError as exc:
        raise click.ClickException(f"verification failed: {exc.message}") from None
    click.echo(f"OK: signed by {count} distinct known auditor(s), {threshold} required")


@command.command("bound-inputs")
@_HOME
@click.argument("service", type=click.Choice(SERVICES))
def bound_inputs(home_dir: str | None, service: str) -> None:
    """Print what SERVICE's Gramine manifest binds of the data directory (-Dbound_inputs=...)."""
    from ..attestation import bound_inputs as bound
    from ..config import Config
    from ..errors import ConfigError

    try:
        config = Config.load(Home.at(home_dir))
        policy_set = ""
        if service == "access_control":
            from ..services.access_control import PolicyEngine
            from ..services.access_control.service import policy_files

            policy_set = PolicyEngine.load(*policy_files(config)).policy_set
        click.echo(bound.render(bound.values(config, service, policy_set)))
    except ConfigError as exc:
        raise click.ClickException(exc.message) from None


@command.command("refresh")
@_HOME
def refresh(home_dir: str | None) -> None:
    """Development only: re-measure and, if anything changed, re-sign with the local auditor."""
    from ..attestation import enclave_info
    from ..attestation.pki import current_enclave_info, publish_enclave_info
    from ..attestation.verifier import auditor_threshold
    from ..config import Config
    from ..errors import AttestationError

    config = Config.load(Home.at(home_dir))
    if not config.development:
        raise click.ClickException(
            f"refusing to refresh enclave_info in {config.mode} mode: the auditors must measure "
            "and sign a new enclave_info (`gaiwan enclave-info generate`, then `sign`)")
    home = config.home
    new = current_enclave_info(config)
    old = home.enclave_info.read_bytes() if home.enclave_info.is_file() else b""
    if old == new:
        try:
            enclave_info.verify_auditor_dir(old, home.auditors, auditor_threshold(config))
            return
        except AttestationError:
            pass
    publish_enclave_info(config, new)
    click.echo(f"Refreshed {home.enclave_info} and re-signed it with the local auditor key: "
               f"{_changes(old, new)}")


def _changes(old: bytes, new: bytes) -> str:
    from ..attestation import enclave_info
    from ..errors import AttestationError

    if not old:
        return "there was no enclave_info before"
    try:
        before = enclave_info.parse(old).tables
    except AttestationError:
        return "the previous file was missing or unreadable"
    after = enclave_info.parse(new).tables
    changed = sorted(t for t in after.keys() | before.keys() if before.get(t) != after.get(t))
    if not changed:
        return "measurements unchanged, signature renewed"
    return "measurements changed for " + ", ".join(changed)
