"""The execution data path end to end in-process: fetch, check, decrypt, run, seal, upload."""

from __future__ import annotations

import io
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from gaiwan import crypto
from gaiwan.executors import CancelEvent, default_registry
from gaiwan.functions import _BY_NAME, FunctionCall
from gaiwan.logs import get_logger
from gaiwan.rpc.pb import gaiwan_scheduler_pb2 as spb
from gaiwan.rpc.pb import teaclave_common_pb2 as cpb
from gaiwan.services.execution import _datapath
from gaiwan.services.execution._runner import run_assignment
from gaiwan.storage import LocalStorage
from gaiwan.transport import FusionStore, Limits, Transport
from gaiwan.transport.server import FileServer

LOG = get_logger("execution")
FUNCTION = "builtin-test-upper"
SECRET = b"PLAINTEXT-MARKER alice,42\nbob,17\n"
TF_KEY = bytes(range(16))
GCM_KEY, GCM_IV = bytes(range(16, 32)), bytes(range(12))
OUT_GCM_KEY, OUT_GCM_IV = os.urandom(16), os.urandom(12)
OUT_TF_KEY = os.urandom(16)

seen: dict[str, object] = {}


def upper(call: FunctionCall) -> str:
    """Test built-in: output 'shout' = input 'training_data' upper-cased, 'copy' = 'extra'."""
    seen["dir"] = call.input_paths["training_data"].parent
    seen["mode"] = stat.S_IMODE(call.input_paths["training_data"].parent.stat().st_mode)
    seen["has_optional"] = call.has_input("optional_missing") or call.has_output("optional_out")
    with call.input("training_data") as src, call.output("shout") as dst:
        dst.write(src.read().upper())
    if call.has_output("copy"):
        with call.input("extra") as src, call.output("copy") as dst:
            dst.write(src.read())
    return "done"


@pytest.fixture(autouse=True)
def registered() -> Iterator[None]:
    _BY_NAME[FUNCTION] = upper
    seen.clear()
    yield
    del _BY_NAME[FUNCTION]


@pytest.fixture
def shm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Stands in for /dev/shm, so the test can see every private directory made."""
    path = tmp_path / "shm"
    path.mkdir()
    monkeypatch.setattr(_datapath, "SHM", path)
    return path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FileServer]:
    root = tmp_path / "served"
    root.mkdir()
    srv = FileServer(root).start()
    yield srv
    srv.stop()


def _seal(schema: str, key: bytes, iv: bytes, plain: bytes, name: str = "") -> tuple[bytes, bytes]:
    out = io.BytesIO()
    cmac = crypto.encrypt(schema, key, iv, io.BytesIO(plain), out, name)
    return out.getvalue(), cmac


def _spec(name: str, url: str, schema: str, key: bytes, iv: bytes = b"", cmac: bytes = b"") -> spb.FileSpec:
    return spb.FileSpec(name=name, data_id=f"x-{name}", url=url, cmac=cmac,
                        crypto_info=cpb.FileCryptoInfo(schema=schema, key=key, iv=iv))


def _assignment(inputs: list[spb.FileSpec], outputs: list[spb.FileSpec]) -> spb.TaskAssignment:
    return spb.TaskAssignment(task_id="task-1", function_name=FUNCTION, executor_type="builtin",
                              function_arguments=json.dumps({}), inputs=inputs, outputs=outputs)


def _publish(server: FileServer, tampered: bool = False) -> tuple[spb.FileSpec, spb.FileSpec]:
    """A teaclave-file-128 'training_data' and an aes-gcm 'extra' input, on the server."""
    tf, tf_cmac = _seal(crypto.TEACLAVE_FILE_128, TF_KEY, b"", SECRET, "train.enc")
    gcm, gcm_cmac = _seal(crypto.AES_GCM_128, GCM_KEY, GCM_IV, b"extra " + SECRET)
    if tampered:
        tf = tf[:200] + bytes([tf[200] ^ 1]) + tf[201:]  # in the sealed metadata, not the MAC
    (server.root / "train.enc").write_bytes(tf)
    (server.root / "extra.enc").write_bytes(gcm)
    return (_spec("training_data", f"{server.url}/train.enc", crypto.TEACLAVE_FILE_128, TF_KEY,
                  cmac=tf_cmac),
            _spec("extra", f"{server.url}/extra.enc", crypto.AES_GCM_128, GCM_KEY, GCM_IV, gcm_cmac))


def _outputs(server: FileServer) -> list[spb.FileSpec]:
    return [_spec("shout", f"{server.url}/out/shout.enc", crypto.AES_GCM_128, OUT_GCM_KEY, OUT_GCM_IV),
            _spec("copy", f"{server.url}/out/copy.enc", crypto.TEACLAVE_FILE_128, OUT_TF_KEY)]


def _run(assignment: spb.TaskAssignment):
    return run_assignment(assignment, CancelEvent(), default_registry(), LOG,
                          Transport(Limits(connect_timeout_s=1, read_timeout_s=2)))


def _no_plaintext_under(*roots: Path) -> bool:
    return not any(SECRET[:16] in p.read_bytes() or SECRET[:16].upper() in p.read_bytes()
                   for root in roots for p in root.rglob("*") if p.is_file())


def test_inputs_opened_outputs_sealed_and_uploaded(server, shm):
    """Outputs decrypt to what the function wrote, the cmacs are returned, nothing plain stays."""
    result = _run(_assignment(list(_publish(server)), _outputs(server)))
    assert result.ok, result.failure
    assert result.return_value == b"done"
    shout = (server.root / "out" / "shout.enc").read_bytes()
    copy = (server.root / "out" / "copy.enc").read_bytes()
    plain = io.BytesIO()
    crypto.decrypt(crypto.AES_GCM_128, OUT_GCM_KEY, OUT_GCM_IV, io.BytesIO(shout), plain,
                   result.tags_map["shout"])
    assert plain.getvalue() == SECRET.upper()
    plain = io.BytesIO()
    crypto.decrypt(crypto.TEACLAVE_FILE_128, OUT_TF_KEY, b"", io.BytesIO(copy), plain,
                   result.tags_map["copy"], name="copy.enc")
    assert plain.getvalue() == b"extra " + SECRET
    assert set(result.tags_map) == {"shout", "copy"}
    assert seen["mode"] == 0o700 and seen["dir"].parent == shm and seen["has_optional"] is False
    assert not seen["dir"].exists() and list(shm.iterdir()) == []
    assert _no_plaintext_under(shm, server.root)


def test_optional_output_absent(server, shm):
    """An output left out of the assignment is simply absent: has_output is False."""
    train, _ = _publish(server)
    result = _run(_assignment([train], _outputs(server)[:1]))
    assert result.ok and set(result.tags_map) == {"shout"}
    assert not (server.root / "out" / "copy.enc").exists()


def _assert_failed_without_outputs(result, reason: str, server: FileServer, shm: Path) -> None:
    assert not result.ok
    assert result.failure == reason
    assert result.tags_map == {}
    assert not (server.root / "out").exists()
    assert list(shm.iterdir()) == []


def test_tampered_input_fails_naming_it(server, shm):
    """A tampered input ends the task Failed naming the input; the function never runs."""
    result = _run(_assignment(list(_publish(server, tampered=True)), _outputs(server)))
    assert result.failure == "input 'training_data': authentication failed: wrong key or tampered file"
    assert "dir" not in seen
    _assert_failed_without_outputs(result, result.failure, server, shm)


def test_wrong_cmac_fails_before_decrypting(server, shm, monkeypatch):
    """A cmac other than the registered one is refused before a byte is decrypted."""
    train, extra = _publish(server)
    extra.cmac = bytes(16)
    calls = []
    monkeypatch.setattr(crypto.aes_gcm, "decrypt_stream", lambda *a: calls.append(a))
    result = _run(_assignment([train, extra], _outputs(server)))
    _assert_failed_without_outputs(
        result, "input 'extra': file MAC does not match the registered cmac", server, shm)
    assert calls == [] and "dir" not in seen


def test_wrong_stored_name_fails(server, shm):
    """A teaclave-file-128 input must store the last segment of its URL as its name."""
    train, extra = _publish(server)
    (server.root / "renamed.enc").write_bytes((server.root / "train.enc").read_bytes())
    train.url = f"{server.url}/renamed.enc"
    result = _run(_assignment([train, extra], _outputs(server)))
    _assert_failed_without_outputs(result, "input 'training_data': protected file name mismatch",
                                   server, shm)


def test_unreachable_input_fails_naming_it(server, shm):
    """An unreachable input ends the task Failed naming it, with nothing uploaded."""
    train, extra = _publish(server)
    (server.root / "extra.enc").unlink()
    result = _run(_assignment([train, extra], _outputs(server)))
    _assert_failed_without_outputs(result, "input 'extra': server answered HTTP 404 Not Found",
                                   server, shm)


def test_existing_output_fails_naming_it(server, shm):
    """An upload refused by the store fails the task naming that output; earlier cmacs are kept."""
    (server.root / "out").mkdir()
    (server.root / "out" / "copy.enc").write_bytes(b"someone else's")
    result = _run(_assignment(list(_publish(server)), _outputs(server)))
    assert result.failure == "output 'copy': server answered HTTP 409 Conflict"
    assert set(result.tags_map) == {"shout"}  # uploaded before: reported so it is never rewritten
    assert (server.root / "out" / "copy.enc").read_bytes() == b"someone else's"
    assert list(shm.iterdir()) == [] and _no_plaintext_under(shm, server.root)


def test_output_not_written_uploads_nothing(server, shm):
    """A function that leaves an output unwritten fails naming it, and uploads nothing."""
    _BY_NAME[FUNCTION] = lambda call: "lazy"
    result = _run(_assignment(list(_publish(server)), _outputs(server)))
    assert result.failure == "output 'shout': the function did not write it"
    assert not (server.root / "out").exists() and list(shm.iterdir()) == []


def test_second_task_cannot_write_same_output(server, shm, tmp_path):
    """A file:// output written by one run is refused to a second run writing the same record."""
    train, _ = _publish(server)
    out = [_spec("shout", f"file://{tmp_path}/shout.enc", crypto.AES_GCM_128, OUT_GCM_KEY, OUT_GCM_IV)]
    first = _run(_assignment([train], out))
    written = (tmp_path / "shout.enc").read_bytes()
    second = _run(_assignment([train], out))
    assert first.ok and second.failure == ("output 'shout': file already exists; "
                                           "outputs are never overwritten")
    assert (tmp_path / "shout.enc").read_bytes() == written


def test_unknown_file_names_are_function_errors(shm):
    """input()/output() of a name the task lacks fail with a reason naming it."""
    def nosy(call: FunctionCall) -> str:
        call.input("nope")
        return ""

    _BY_NAME[FUNCTION] = nosy
    result = _run(_assignment([], []))
    assert result.failure == "no input named 'nope'"


def test_fusion_output_round_trip_is_sealed(server, shm, tmp_path):
    """A fusion output is stored sealed in the storage (as the execution role reaches it) and
    reads back as an input."""
    train, _ = _publish(server)
    key = os.urandom(16)
    url = "fusion:///3f1e2d-aaaa.fusion"
    storage = LocalStorage.open(tmp_path / "home" / "storage", role="execution")
    transport = Transport(Limits(), FusionStore(storage, 4 << 20))
    out = _spec("shout", url, crypto.TEACLAVE_FILE_128, key)
    result = run_assignment(_assignment([train], [out]), CancelEvent(), default_registry(), LOG,
                            transport)
    assert result.ok, result.failure
    assert _no_plaintext_under(tmp_path / "home")
    fused = _spec("training_data", url, crypto.TEACLAVE_FILE_128, key, cmac=result.tags_map["shout"])
    again = run_assignment(_assignment([fused], [_spec("shout", f"{server.url}/out/2.enc",
                                                       crypto.AES_GCM_128, OUT_GCM_KEY,
                                                       OUT_GCM_IV)]),
                           CancelEvent(), default_registry(), LOG, transport)
    storage.close()
    assert again.ok, again.failure
    plain = io.BytesIO()
    crypto.decrypt(crypto.AES_GCM_128, OUT_GCM_KEY, OUT_GCM_IV,
                   io.BytesIO((server.root / "out" / "2.enc").read_bytes()), plain)
    assert plain.getvalue() == SECRET.upper()  # upper() of the upper-cased fusion output


def test_private_dir_removed_on_failure_and_falls_back_without_shm(tmp_path, monkeypatch):
    """Without a usable /dev/shm the private dir goes to the temp dir; it is removed on errors."""
    monkeypatch.setattr(_datapath, "SHM", tmp_path / "absent")
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    with pytest.raises(RuntimeError), _datapath.private_dir() as work:
        (work / "plain").write_bytes(SECRET)
        assert work.parent == tmp_path and stat.S_IMODE(work.stat().st_mode) == 0o700
        raise RuntimeError("boom")
    assert not work.exists()
