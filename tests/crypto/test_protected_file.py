"""teaclave-file-128 (SGX protected file) reader and writer against the Teaclave vectors."""

from __future__ import annotations

import io
import os

import pytest

from gaiwan.crypto import FileCryptoError
from gaiwan.crypto import protected_file as pf
from tests.fixtures import teaclave_fixture

ZERO_KEY = bytes(16)

# (encrypted fixture, plaintext fixture, cmac from MANIFEST.md or None = "read bytes 80..96")
VECTORS = [
    ("functions/gbdt_training/train.enc", "functions/gbdt_training/train.txt",
     "860030495909b84864b991865e9ad94f"),
    ("functions/private_join_and_compute/three_party_data/bank_a.enc",
     "functions/private_join_and_compute/three_party_data/bank_a.txt", "f6a4585a4903f8dea0ee90ac84a50dba"),
    ("functions/private_join_and_compute/three_party_data/bank_b.enc",
     "functions/private_join_and_compute/three_party_data/bank_b.txt", "ab6065314fcbacd6971ff55d3821b51e"),
    ("functions/private_join_and_compute/three_party_data/bank_c.enc",
     "functions/private_join_and_compute/three_party_data/bank_c.txt", "9d7dbe465806731a43008ab094c97688"),
    ("functions/password_check/exposed_passwords.txt.enc", "functions/password_check/exposed_passwords.txt",
     "a31dd0b7de0b6cc7e0dec1dcf7a46479"),
    ("functions/ordered_set_intersect/psi0.txt.enc", "functions/ordered_set_intersect/psi0.txt", None),
    ("functions/ordered_set_intersect/psi1.txt.enc", "functions/ordered_set_intersect/psi1.txt", None),
    ("functions/ordered_set_join/join0.csv.enc", "functions/ordered_set_join/join0.csv", None),
    ("functions/ordered_set_join/join1.csv.enc", "functions/ordered_set_join/join1.csv", None),
    ("functions/rsa_sign/rsakey.enc", "functions/rsa_sign/key.der", None),
    ("functions/py_logistic_reg/train.enc", "functions/py_logistic_reg/train.txt", None),
    ("functions/py_logistic_reg/predict.enc", "functions/py_logistic_reg/predict.txt", None),
    ("functions/wamr_rust_psi/psi0.txt.enc", "functions/wamr_rust_psi/psi0.txt", None),
    ("functions/wamr_rust_psi/psi1.txt.enc", "functions/wamr_rust_psi/psi1.txt", None),
    ("functions/wamr_tvm_mnist/img_10.jpg.enc", "functions/wamr_tvm_mnist/img_10.jpg", None),
]


def _encrypt(data: bytes, name: str = "file.enc", key: bytes = ZERO_KEY) -> tuple[bytes, bytes]:
    dst = io.BytesIO()
    mac = pf.encrypt_stream(key, name, io.BytesIO(data), dst)
    return dst.getvalue(), mac


def _decrypt(blob: bytes, name: str | None = "file.enc", key: bytes = ZERO_KEY) -> tuple[bytes, bytes]:
    out = io.BytesIO()
    mac = pf.decrypt_stream(key, io.BytesIO(blob), out, expected_name=name)
    return out.getvalue(), mac


@pytest.mark.parametrize("enc,plain,cmac", VECTORS, ids=[v[0].split("/", 1)[1] for v in VECTORS])
def test_fixture_decrypts_to_its_plaintext(enc: str, plain: str, cmac: str | None) -> None:
    """Every Teaclave .enc vector decrypts byte-exact, checks its stored name, and has its cmac."""
    blob = teaclave_fixture(enc).read_bytes()
    data, mac = _decrypt(blob, name=enc.rsplit("/", 1)[-1])
    assert data == teaclave_fixture(plain).read_bytes()
    assert mac == blob[80:96]
    if cmac is not None:
        assert mac.hex() == cmac


@pytest.mark.parametrize("enc,plain,cmac", VECTORS[:1] + VECTORS[10:11], ids=["one-node", "nine-nodes"])
def test_fixture_plaintext_reencrypts_to_same_layout(enc: str, plain: str, cmac: str | None) -> None:
    """Our writer lays the fixture plaintexts out as the reference writer did (same length)."""
    data = teaclave_fixture(plain).read_bytes()
    original = teaclave_fixture(enc).read_bytes()
    blob, mac = _encrypt(data, name=enc.rsplit("/", 1)[-1])
    assert len(blob) == len(original)
    assert _decrypt(blob, name=enc.rsplit("/", 1)[-1]) == (data, mac)
    assert blob[:16] == original[:16]  # magic, version, flags, key policy, svn


@pytest.mark.parametrize("size", [0, 1, 3071, 3072, 3073, 3072 + 4096, 3072 + 96 * 4096,
                                  3072 + 97 * 4096 + 5, 11 * 1024 * 1024 + 7])
def test_round_trip_sizes(size: int) -> None:
    """Round trips at node and MHT boundaries and above 10 MiB (two MHT levels)."""
    data = os.urandom(size)
    blob, mac = _encrypt(data)
    data_nodes = max(0, -(-(size - 3072) // 4096))
    mht_nodes = -(-data_nodes // 96)
    assert len(blob) == (1 + mht_nodes + data_nodes) * 4096
    assert _decrypt(blob) == (data, mac)


def test_cmac_names_one_exact_file() -> None:
    """Encrypting the same content twice gives different bytes and cmacs (fresh keys)."""
    a, mac_a = _encrypt(b"same content" * 1000)
    b, mac_b = _encrypt(b"same content" * 1000)
    assert a != b and mac_a != mac_b


def _flip(blob: bytes, offset: int) -> bytes:
    out = bytearray(blob)
    out[offset] ^= 0x01
    return bytes(out)


@pytest.fixture(scope="module")
def multi_node() -> bytes:
    return _encrypt(os.urandom(3072 + 98 * 4096))[0]


@pytest.mark.parametrize("offset,reason", [
    (0, "not a teaclave-file-128"),          # magic
    (8, "unsupported protected file version"),
    (10, "not encrypted with a user key"),
    (11, "unfinished write"),
    (20, "wrong key or tampered"),           # key_id changes the metadata key
    (85, "wrong key or tampered"),           # root MAC
    (200, "wrong key or tampered"),          # encrypted metadata part
    (1 * 4096 + 7, "MHT node 0"),            # root MHT node
    (2 * 4096 + 100, "data node 0"),         # first data node
    (99 * 4096 + 3, "data node 96"),         # data node after the second MHT node
    (98 * 4096 + 9, "MHT node 1"),           # second MHT node
])
def test_tampering_is_detected(multi_node: bytes, offset: int, reason: str) -> None:
    """A flipped bit in the header, metadata, an MHT node or a data node is refused with a reason."""
    with pytest.raises(FileCryptoError, match=reason):
        _decrypt(_flip(multi_node, offset))


def test_padding_is_not_authenticated_and_ignored(multi_node: bytes) -> None:
    """Node 0's padding is outside every MAC (as in the format); readers accept it changed."""
    data, _ = _decrypt(_flip(multi_node, 4000))
    assert len(data) == 3072 + 98 * 4096


def test_truncated_file_is_refused(multi_node: bytes) -> None:
    """A file cut at a node boundary or mid-node is refused."""
    with pytest.raises(FileCryptoError, match="truncated"):
        _decrypt(multi_node[: 50 * 4096])
    with pytest.raises(FileCryptoError, match="bad length"):
        _decrypt(multi_node[:-100])
    with pytest.raises(FileCryptoError, match="bad length"):
        _decrypt(b"")


def test_swapped_data_nodes_are_refused(multi_node: bytes) -> None:
    """Two data nodes exchanged in place fail authentication (keys are per node)."""
    nodes = [multi_node[i:i + 4096] for i in range(0, len(multi_node), 4096)]
    nodes[2], nodes[3] = nodes[3], nodes[2]
    with pytest.raises(FileCryptoError, match="data node 0"):
        _decrypt(b"".join(nodes))


def test_wrong_key_and_wrong_name_are_refused() -> None:
    """The wrong key and a stored name other than the expected one are refused."""
    blob, _ = _encrypt(b"secret rows", name="train.enc")
    with pytest.raises(FileCryptoError, match="wrong key"):
        _decrypt(blob, name="train.enc", key=bytes(15) + b"\x01")
    with pytest.raises(FileCryptoError, match="name mismatch"):
        _decrypt(blob, name="other.enc")
    assert _decrypt(blob, name="http://host/path/train.enc")[0] == b"secret rows"


def test_bad_parameters_are_refused() -> None:
    """Wrong key sizes and impossible names are refused before any work."""
    with pytest.raises(FileCryptoError, match="16-byte key"):
        _encrypt(b"x", key=bytes(32))
    with pytest.raises(FileCryptoError, match="1 to 258 bytes"):
        _encrypt(b"x", name="a/" + "n" * 259)
