"""`gaiwan init`: create a platform's data directory: configuration, keys, client material.

The configuration is written last, so an interrupted init never leaves something that looks like a
platform. The bootstrap admin password is stored only as an argon2id hash.
"""

from __future__ import annotations

import os
import shutil
import socket
from contextlib import ExitStack

import click

from ..config import DEFAULT_PORTS, Config, default_document
from ..home import Home
from ..passwords import hash_password

DEFAULT_ADMIN = "admin"
DEFAULT_ADMIN_PASSWORD = "teaclave"
_REPLACED_ON_FORCE = ("keys", "client", "storage", "run")


def free_ports(count: int) -> list[int]:
    """`count` distinct ports free right now on 127.0.0.1 (all held open until all are chosen)."""
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
        return ports


def choose_ports(spec: str) -> dict[str, int]:
    names = list(DEFAULT_PORTS)
    if spec == "auto":
        return dict(zip(names, free_ports(len(names))))
    try:
        base = int(spec)
    except ValueError:
        raise click.BadParameter("use `auto` or a base port number", param_hint="--ports") from None
    if not 1 <= base <= 65535 - len(names):
        raise click.BadParameter(f"base port must be 1..{65535 - len(names)}", param_hint="--ports")
    return {name: base + i for i, name in enumerate(names)}


def create_platform(home: Home, admin_password: str, ports: dict[str, int] | None,
                    mode: str) -> Config:
    """Writes a complete new platform at `home` (which must not hold one) and returns its config."""
    from ..attestation.keystore import make_private_dir
    from ..attestation.pki import create_platform_keys, publish_enclave_info

    create_platform_keys(home)
    for directory in (home.storage, home.logs, home.run):
        make_private_dir(directory)
    doc = default_document(ports, mode)
    doc.setdefault("authentication", {}).update(
        bootstrap_admin=DEFAULT_ADMIN, bootstrap_admin_hash=hash_password(admin_password))
    config = Config(home, doc)
    publish_enclave_info(config)
    config.save()
    os.chmod(home.config, 0o600)
    return config


@click.command("init")
@click.option("--home", "home_dir", envvar="GAIWAN_HOME", type=click.Path(), default=None,
              help="Data directory (default: $GAIWAN_HOME or ./.gaiwan).")
@click.option("--admin-password", default=DEFAULT_ADMIN_PASSWORD, show_default=True,
              help="Password of the bootstrap user `admin` (stored only as a hash).")
@click.option("--if-missing", is_flag=True, help="Do nothing if a platform already exists.")
@click.option("--ports", default=None, metavar="auto|BASE",
              help="`auto`: free ports; BASE: consecutive ports from BASE. Default: standard ports.")
@click.option("--mode", type=click.Choice(["development", "production"]), default="development",
              show_default=True)
@click.option("--force", is_flag=True, help="Replace an existing platform (its keys and data are lost).")
def command(home_dir: str | None, admin_password: str, if_missing: bool, ports: str | None,
            mode: str, force: bool) -> None:
    """Create a platform: configuration, keys, certificates and a signed enclave_info."""
    home = Home.at(home_dir)
    if home.exists():
        if if_missing:
            click.echo(f"A platform exists at {home.root}; left as it is.")
            return
        if not force:
            raise click.ClickException(
                f"a platform already exists at {home.root}; use --force to replace it "
                "(its keys and stored data are lost)")
        for name in _REPLACED_ON_FORCE:
            shutil.rmtree(home.root / name, ignore_errors=True)
        home.config.unlink()
    if not admin_password:
        raise click.BadParameter("must not be empty", param_hint="--admin-password")
    chosen = choose_ports(ports) if ports else None
    config = create_platform(home, admin_password, chosen, mode)
    click.echo(f"Created a {mode} platform at {home.root}")
    click.echo(f"  configuration:  {home.config}")
    click.echo(f"  client files:   {home.client} (AS root CA, signed enclave_info)")
    click.echo(f"  frontend:       {config.target('frontend_api')}, "
               f"authentication: {config.target('authentication_api')}")
    if admin_password == DEFAULT_ADMIN_PASSWORD:
        click.echo("  admin user:     admin (default password; change it for shared platforms)")
