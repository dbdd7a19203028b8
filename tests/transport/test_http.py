"""http(s) transfers against a real local server: GET, PUT, statuses, timeouts, limits."""

from __future__ import annotations

import io

import pytest

from gaiwan.executors import FunctionError
from gaiwan.transport import TransportError

from .conftest import LIMITS

IN = "input 'training_data'"
OUT = "output 'model'"


def test_get_fetches_file(served, transport):
    """A GET copies the served file's bytes."""
    (served.root / "train.enc").write_bytes(b"\x00ciphertext\xff" * 100)
    dst = io.BytesIO()
    assert transport.fetch(f"{served.url}/train.enc", dst, IN) == 1200
    assert dst.getvalue() == b"\x00ciphertext\xff" * 100


def test_put_uploads_new_file(served, transport, tmp_path):
    """A PUT stores the file under the served directory."""
    src = tmp_path / "sealed"
    src.write_bytes(b"sealed bytes")
    transport.upload(src, f"{served.url}/out/model.enc", OUT)
    assert (served.root / "out" / "model.enc").read_bytes() == b"sealed bytes"


def test_put_sends_binary_content_type_and_basic_auth(recorder, transport, tmp_path):
    """PUT sends application/x-binary and turns URL credentials into Basic auth."""
    server = recorder(201)
    src = tmp_path / "sealed"
    src.write_bytes(b"abc")
    host = server.url.removeprefix("http://")
    transport.upload(src, f"http://alice:s3cret@{host}/m.enc?sig=tok", OUT)
    method, path, headers, body = server.requests[0]
    assert (method, path, body) == ("PUT", "/m.enc?sig=tok", b"abc")
    assert headers["Content-Type"] == "application/x-binary"
    assert headers["Authorization"] == "Basic YWxpY2U6czNjcmV0"


def test_put_refused_when_file_exists(served, transport, tmp_path):
    """An existing file is never overwritten: 409 becomes an error naming the output."""
    (served.root / "model.enc").write_bytes(b"first")
    src = tmp_path / "sealed"
    src.write_bytes(b"second")
    with pytest.raises(TransportError) as err:
        transport.upload(src, f"{served.url}/model.enc", OUT)
    assert err.value.reason == f"{OUT}: server answered HTTP 409 Conflict"
    assert (served.root / "model.enc").read_bytes() == b"first"


def test_get_404_names_input_not_url(served, transport):
    """A missing file is an error naming the input, without the URL's query or credentials."""
    url = served.url.replace("://", "://bob:hunter2@") + "/missing.enc?token=SECRET"
    with pytest.raises(TransportError) as err:
        transport.fetch(url, io.BytesIO(), IN)
    assert err.value.reason == f"{IN}: server answered HTTP 404 Not Found"
    assert isinstance(err.value, FunctionError)
    assert "hunter2" not in str(err.value) and "SECRET" not in str(err.value)


@pytest.mark.parametrize("status,phrase", [(500, "Internal Server Error"), (302, "Found")])
def test_non_2xx_is_an_error(recorder, transport, tmp_path, status, phrase):
    """Server errors and redirects are failures with the status in the reason."""
    server = recorder(status)
    with pytest.raises(TransportError, match=f"HTTP {status} {phrase}"):
        transport.fetch(f"{server.url}/f", io.BytesIO(), IN)
    src = tmp_path / "sealed"
    src.write_bytes(b"x")
    with pytest.raises(TransportError, match=f"HTTP {status}"):
        transport.upload(src, f"{server.url}/f", OUT)


def test_unreachable_host(transport, closed_port):
    """Nothing listening: a clear error naming the file and the host."""
    with pytest.raises(TransportError) as err:
        transport.fetch(f"http://127.0.0.1:{closed_port}/x", io.BytesIO(), IN)
    assert err.value.reason == f"{IN}: cannot connect to 127.0.0.1:{closed_port}"


def test_read_timeout_on_silent_server(transport, silent_port, tmp_path):
    """A server that accepts and never answers fails the transfer after the read timeout."""
    with pytest.raises(TransportError, match="did not answer within 0.3 s"):
        transport.fetch(f"http://127.0.0.1:{silent_port}/x", io.BytesIO(), IN)
    src = tmp_path / "sealed"
    src.write_bytes(b"x")
    with pytest.raises(TransportError, match="did not answer within 0.3 s"):
        transport.upload(src, f"http://127.0.0.1:{silent_port}/x", OUT)


def test_size_limit_on_get_and_put(served, transport, tmp_path):
    """Files over the size limit are refused both ways."""
    (served.root / "big").write_bytes(b"x" * (LIMITS.max_bytes + 1))
    with pytest.raises(TransportError, match="larger than the size limit"):
        transport.fetch(f"{served.url}/big", io.BytesIO(), IN)
    src = tmp_path / "big"
    src.write_bytes(b"x" * (LIMITS.max_bytes + 1))
    with pytest.raises(TransportError, match="larger than the size limit"):
        transport.upload(src, f"{served.url}/big2", OUT)
    assert not (served.root / "big2").exists()


@pytest.mark.parametrize("declare_length", [True, False])
def test_size_limit_on_answer_length(recorder, transport, declare_length):
    """A declared length over the limit is refused up front; an undeclared one while streaming."""
    server = recorder(200, declare_length)  # answers 2 bytes
    small = type(transport)(type(LIMITS)(max_bytes=1))
    with pytest.raises(TransportError, match="larger than the size limit of 1 bytes"):
        small.fetch(f"{server.url}/f", io.BytesIO(), IN)


@pytest.mark.parametrize("url", ["ftp://host/f", "gopher://x", "no-scheme", "http:///nohost"])
def test_bad_input_urls(transport, url):
    """Unsupported schemes and host-less http URLs are refused before any I/O."""
    with pytest.raises(TransportError) as err:
        transport.fetch(url, io.BytesIO(), IN)
    assert err.value.reason.startswith(f"{IN}: ")


def test_data_url_is_not_an_output(transport, tmp_path):
    """data: URLs are for inputs only."""
    src = tmp_path / "sealed"
    src.write_bytes(b"x")
    with pytest.raises(TransportError, match="scheme 'data' is not supported"):
        transport.upload(src, "data:,abc", OUT)


def test_limits_from_config():
    """Limits come from [execution] transfer_* keys, with defaults for those not set."""
    limits = type(LIMITS).from_config({"transfer_read_timeout_s": 5, "transfer_max_bytes": 10})
    assert (limits.connect_timeout_s, limits.read_timeout_s, limits.max_bytes) == (10.0, 5.0, 10)


def test_malformed_port(transport):
    """A URL with a malformed port is refused clearly."""
    with pytest.raises(TransportError, match="malformed port"):
        transport.fetch("http://127.0.0.1:99999999/x", io.BytesIO(), IN)
