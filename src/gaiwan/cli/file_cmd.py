"""`gaiwan file encrypt|decrypt`: the file schemas of spec §7 from the command line, so data
owners can prepare inputs and read outputs without writing code."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..crypto import SCHEMAS, FileCryptoError, decrypt_file, encrypt_file


def _hex(_ctx: click.Context, _param: click.Parameter, value: str | None) -> bytes:
    try:
        return bytes.fromhex(value or "")
    except ValueError:
        raise click.BadParameter("must be hexadecimal") from None


_schema = click.option("--schema", required=True, type=click.Choice(SCHEMAS))
_key = click.option("--key", required=True, callback=_hex, help="Key, hex.")
_iv = click.option("--iv", default="", callback=_hex, help="IV, hex (aes-gcm: 12 bytes).")
_in = click.option("-i", "--input", "src", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
_out = click.option("-o", "--output", "dst", required=True, type=click.Path(dir_okay=False, path_type=Path))
_name = click.option("--name", default=None,
                     help="teaclave-file-128 stored file name (default: the encrypted file's name; "
                          "Teaclave uses the last segment of the file's URL).")
_print = click.option("--print-cmac", is_flag=True, help="Print the file's cmac (hex).")


@click.group("file")
def command() -> None:
    """Encrypt and decrypt data files in Teaclave's formats."""


@command.command("encrypt")
@_schema
@_key
@_iv
@_in
@_out
@_name
@_print
def encrypt(schema: str, key: bytes, iv: bytes, src: Path, dst: Path, name: str | None,
            print_cmac: bool) -> None:
    """Encrypt INPUT into OUTPUT."""
    if dst.exists():
        raise click.ClickException(f"{dst} exists; refusing to overwrite it")
    try:
        cmac = encrypt_file(schema, key, iv, src, dst, name=name or dst.name)
    except FileCryptoError as exc:
        raise click.ClickException(exc.message) from None
    if print_cmac:
        click.echo(cmac.hex())


@command.command("decrypt")
@_schema
@_key
@_iv
@_in
@_out
@_name
@_print
@click.option("--cmac", "expected", default=None, callback=lambda c, p, v: None if v is None else _hex(c, p, v),
              help="Refuse the file unless its MAC equals this (hex).")
def decrypt(schema: str, key: bytes, iv: bytes, src: Path, dst: Path, name: str | None,
            print_cmac: bool, expected: bytes | None) -> None:
    """Verify and decrypt INPUT into OUTPUT."""
    if dst.exists():
        raise click.ClickException(f"{dst} exists; refusing to overwrite it")
    try:
        cmac = decrypt_file(schema, key, iv, src, dst, expected_cmac=expected, name=name or src.name)
    except FileCryptoError as exc:
        raise click.ClickException(exc.message) from None
    if print_cmac:
        click.echo(cmac.hex())
    sys.stdout.flush()
