"""The `gaiwan files serve` server: confinement, no overwrite, size limit, the CLI."""

from __future__ import annotations

import http.client

import pytest
from click.testing import CliRunner

from gaiwan.cli import main

from .conftest import LIMITS


def _request(server, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(*server.server_address[:2], timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize("path", ["/../secret", "/a/%2e%2e/%2e%2e/secret", "/.hidden", "/a//b", "/"])
def test_paths_confined_to_root(served, path):
    """'..', hidden and empty segments are refused for GET and PUT alike."""
    (served.root.parent / "secret").write_bytes(b"outside")
    assert _request(served, "GET", path)[0] == 403
    assert _request(served, "PUT", path, b"x")[0] == 403
    assert (served.root.parent / "secret").read_bytes() == b"outside"


def test_symlink_out_of_root_refused(served):
    """A symbolic link may not lead a request outside the root."""
    (served.root.parent / "secret").write_bytes(b"outside")
    (served.root / "link").symlink_to(served.root.parent / "secret")
    assert _request(served, "GET", "/link")[0] == 403


def test_put_then_get_then_conflict(served):
    """PUT creates (201), GET reads it back, a second PUT is 409 and changes nothing."""
    assert _request(served, "PUT", "/d/f.enc", b"one")[0] == 201
    assert _request(served, "GET", "/d/f.enc") == (200, b"one")
    assert _request(served, "PUT", "/d/f.enc", b"two")[0] == 409
    assert _request(served, "GET", "/d/f.enc") == (200, b"one")
    assert [p.name for p in (served.root / "d").iterdir()] == ["f.enc"]


def test_put_limits(served):
    """A body over the size limit is 413, one without a length 411; neither is stored."""
    big = b"x" * (LIMITS.max_bytes + 1)
    assert _request(served, "PUT", "/big", big)[0] == 413
    assert _request(served, "PUT", "/nolen", None, {"Transfer-Encoding": "chunked"})[0] == 411
    assert not (served.root / "big").exists() and not (served.root / "nolen").exists()


def test_get_missing_is_404(served):
    """A missing file is 404."""
    assert _request(served, "GET", "/nope")[0] == 404


def test_cli_registers_files_serve():
    """`gaiwan files serve` is a registered command with its options."""
    result = CliRunner().invoke(main, ["files", "serve", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output and "--host" in result.output and "409" in result.output
