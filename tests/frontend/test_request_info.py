"""Tests of credential extraction from metadata and client-address parsing."""

from __future__ import annotations

import pytest

from gaiwan.errors import Unauthenticated
from gaiwan.services.frontend.request_info import credentials, peer_ip


def test_credentials_read_id_and_token() -> None:
    """id and token are taken from the call's metadata, other keys ignored."""
    md = (("user-agent", "x"), ("id", "alice"), ("token", "t0k"))
    assert credentials(md) == ("alice", "t0k")


@pytest.mark.parametrize("md", [
    (),
    (("id", "alice"),),
    (("token", "t0k"),),
    (("id", ""), ("token", "t0k")),
    (("id", "alice"), ("token", "")),
    (("id", b"alice"), ("token", "t0k")),
])
def test_missing_credentials_are_unauthenticated(md: tuple) -> None:  # type: ignore[type-arg]
    """Missing, empty or binary credentials are refused as UNAUTHENTICATED."""
    with pytest.raises(Unauthenticated):
        credentials(md)


def test_error_never_repeats_the_token() -> None:
    """The refusal message does not echo what was sent."""
    with pytest.raises(Unauthenticated) as info:
        credentials((("token", "s3cret-token"),))
    assert "s3cret" not in info.value.message


@pytest.mark.parametrize("peer,packed", [
    ("ipv4:127.0.0.1:41234", bytes([127, 0, 0, 1])),
    ("ipv4:10.20.30.40:1", bytes([10, 20, 30, 40])),
    ("ipv6:[::1]:5000", bytes(15) + b"\x01"),
    ("ipv6:%5B::1%5D:5000", bytes(15) + b"\x01"),
    ("ipv6:[fe80::1%25eth0]:5000", bytes([0xfe, 0x80]) + bytes(13) + b"\x01"),
])
def test_peer_ip_is_packed(peer: str, packed: bytes) -> None:
    """IPv4 peers give 4 bytes, IPv6 peers 16."""
    assert peer_ip(peer) == packed


@pytest.mark.parametrize("peer", ["unix:/tmp/sock", "", "ipv4:not-an-ip:1", "weird"])
def test_unknown_peer_gives_empty_ip(peer: str) -> None:
    """Peers without an IP address are recorded with an empty ip, not an error."""
    assert peer_ip(peer) == b""
