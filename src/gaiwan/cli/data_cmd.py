"""`gaiwan data upload|output|fetch|tag`: a data owner's files in one command each.

The key of every file stays on the owner's machine in a key file (JSON: data id, URL, schema,
key and iv in hex), created 0600 and never overwritten; the command prints only the data id.
The key file is checked free before anything is uploaded or registered, so a refused key file
never leaves a registered file whose key is lost.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..client import DATA_SCHEMAS, DataFile
from ..client._data import DEFAULT_SCHEMA, stored_name
from ..home import Home
from ._client import endpoint_options, one_line_errors, open_gaiwan

_ENDPOINT = "frontend_api"

_url = click.option("--url", required=True,
                    help="Where the encrypted file lives: http(s):// (PUT/GET) or file:// (absolute path).")
_schema = click.option("--schema", type=click.Choice(DATA_SCHEMAS), default=DEFAULT_SCHEMA,
                       show_default=True, help="How the file is encrypted.")
_key_out = click.option("--key-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="Key file to create (default: <last URL segment>.key.json).")


@click.group("data")
def command() -> None:
    """Upload inputs, register outputs, fetch results (keeping the keys locally) and tag data."""


def _key_path(key_out: Path | None, url: str) -> Path:
    """The key file to create; refused up front when it already exists."""
    path = key_out or Path(f"{stored_name(url) or 'data'}.key.json")
    if path.exists():
        raise click.ClickException(f"{path} exists; refusing to overwrite a key file")
    return path


@command.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_url
@_schema
@_key_out
@endpoint_options(_ENDPOINT)
@one_line_errors
def upload(file: Path, url: str, schema: str, key_out: Path | None, home: Path | None,
           address: str | None) -> None:
    """Encrypt FILE under a fresh key, upload it to URL, register it as an input; print its id."""
    keys = _key_path(key_out, url)
    with open_gaiwan(Home.at(home), address) as gw:
        data = gw.data.upload_input(file, url, schema)
    data.save(keys)
    click.echo(data.data_id)


@command.command()
@_url
@_schema
@_key_out
@endpoint_options(_ENDPOINT)
@one_line_errors
def output(url: str, schema: str, key_out: Path | None, home: Path | None,
           address: str | None) -> None:
    """Register an output a task will write to URL under a fresh key; print its id."""
    keys = _key_path(key_out, url)
    with open_gaiwan(Home.at(home), address) as gw:
        data = gw.data.register_output(url, schema)
    data.save(keys)
    click.echo(data.data_id)


@command.command()
@click.argument("data_id")
@click.option("--key-file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The key file `gaiwan data output` wrote.")
@click.option("-o", "--output", "dst", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the plaintext (must not exist).")
@endpoint_options(_ENDPOINT)
@one_line_errors
def fetch(data_id: str, key_file: Path, dst: Path, home: Path | None, address: str | None) -> None:
    """Download output DATA_ID, check it against the platform's cmac, decrypt it to OUTPUT."""
    data = DataFile.load(key_file)
    if data.data_id != data_id:
        raise click.ClickException(f"{key_file} holds the key of {data.data_id}, not {data_id}")
    with open_gaiwan(Home.at(home), address) as gw:
        gw.data.fetch_output(data, dst)
    click.echo(f"wrote {dst}")


@command.command()
@click.argument("data_id")
@click.argument("tags", nargs=-1)
@click.option("--clear", is_flag=True, help="Remove every tag instead.")
@endpoint_options(_ENDPOINT)
@one_line_errors
def tag(data_id: str, tags: tuple[str, ...], clear: bool, home: Path | None,
        address: str | None) -> None:
    """Replace the tags of DATA_ID, which you own alone, with TAGS (policies may read them).

    Clearing takes --clear rather than no tags, so a forgotten argument never drops a tag a
    policy protects the data with."""
    if bool(tags) == clear:
        raise click.UsageError("give the tags, or --clear to remove them all")
    with open_gaiwan(Home.at(home), address) as gw:
        gw.set_data_tags(data_id, tags)
    click.echo(f"{data_id}: {', '.join(tags)}" if tags else f"{data_id}: no tags")
