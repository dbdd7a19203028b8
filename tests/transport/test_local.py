"""file:// and data: transfers: no overwrite, RFC 2397 decoding."""

from __future__ import annotations

import io

import pytest

from gaiwan.transport import Transport, TransportError

from .conftest import LIMITS

IN = "input 'data'"
OUT = "output 'result'"


def _fetch(transport: Transport, url: str) -> bytes:
    dst = io.BytesIO()
    transport.fetch(url, dst, IN)
    return dst.getvalue()


def test_file_url_round_trip(transport, tmp_path):
    """An output written to file:// is read back by a file:// input (percent-decoded path)."""
    src = tmp_path / "sealed"
    src.write_bytes(b"sealed")
    target = tmp_path / "my out.enc"
    transport.upload(src, f"file://{tmp_path}/my%20out.enc", OUT)
    assert target.read_bytes() == b"sealed"
    assert _fetch(transport, f"file://localhost{target}") == b"sealed"


def test_file_output_never_overwrites(transport, tmp_path):
    """An existing output file is left as it is and the upload fails naming the output."""
    target = tmp_path / "out.enc"
    target.write_bytes(b"first")
    src = tmp_path / "sealed"
    src.write_bytes(b"second")
    with pytest.raises(TransportError) as err:
        transport.upload(src, f"file://{target}", OUT)
    assert err.value.reason == f"{OUT}: file already exists; outputs are never overwritten"
    assert target.read_bytes() == b"first"


@pytest.mark.parametrize("url,problem", [
    ("file://otherhost/etc/passwd", "must name a local path"),
    ("file:relative/path", "absolute path"),
    ("file:///srv/../etc/passwd", "'..'"),
])
def test_file_url_refusals(transport, url, problem):
    """Remote hosts, relative paths and '..' are refused."""
    with pytest.raises(TransportError, match=problem):
        _fetch(transport, url)


def test_file_input_missing_or_too_large(transport, tmp_path):
    """A missing file and one over the size limit are errors naming the input."""
    with pytest.raises(TransportError, match=f"^{IN}: file does not exist$"):
        _fetch(transport, f"file://{tmp_path}/nope")
    big = tmp_path / "big"
    big.write_bytes(b"x" * (LIMITS.max_bytes + 1))
    with pytest.raises(TransportError, match="size limit"):
        _fetch(transport, f"file://{big}")


@pytest.mark.parametrize("url,data", [
    ("data:text/plain;base64,aGVsbG8gd29ybGQ=", b"hello world"),
    ("data:;base64,AAEC%2Fw==", b"\x00\x01\x02\xff"),
    ("data:,hello%20world%0A%FF", b"hello world\n\xff"),
    ("data:text/csv;charset=utf-8,a%2Cb", b"a,b"),
    ("data:,", b""),
])
def test_data_urls(transport, url, data):
    """data: URLs decode per RFC 2397, base64 and percent-encoded."""
    assert _fetch(transport, url) == data


@pytest.mark.parametrize("url,problem", [
    ("data:text/plain;base64,not*base64", "malformed base64"),
    ("data:text/plain", "without a comma"),
])
def test_malformed_data_urls(transport, url, problem):
    """Malformed data: URLs are refused without quoting their data."""
    with pytest.raises(TransportError, match=problem) as err:
        _fetch(transport, url)
    assert "not*base64" not in str(err.value)


def test_data_url_size_limit(transport):
    """A data: URL's decoded bytes obey the size limit."""
    with pytest.raises(TransportError, match="size limit"):
        _fetch(transport, "data:," + "x" * (LIMITS.max_bytes + 1))
