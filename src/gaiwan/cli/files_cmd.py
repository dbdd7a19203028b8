"""`gaiwan files serve DIR`: a local GET/PUT file server for task inputs and outputs, so data
owners can try tasks with http:// URLs without an object store."""

from __future__ import annotations

from pathlib import Path

import click

from ..transport.server import DEFAULT_MAX_BYTES, FileServer


@click.group("files")
def command() -> None:
    """Serve data files over HTTP for local use."""


@command.command("serve")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--port", required=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--max-bytes", default=DEFAULT_MAX_BYTES, show_default=True, type=click.IntRange(1),
              help="Largest file a PUT may store.")
def serve(directory: Path, port: int, host: str, max_bytes: int) -> None:
    """Serve DIRECTORY: GET reads a file, PUT stores a new one (never overwrites: 409)."""
    try:
        server = FileServer(directory, host, port, max_bytes=max_bytes, verbose=True)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    click.echo(f"serving {server.root} at {server.url} (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
