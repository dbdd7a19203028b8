"""A task with encrypted files through scheduler and node over real gRPC: cmacs reach the records."""

from __future__ import annotations

import dataclasses
import io
import os

from test_node import _stage, _wait_for, platform  # noqa: F401 - the shared fixture

from gaiwan import crypto, records
from gaiwan.executors import default_registry
from gaiwan.functions import _BY_NAME, FunctionCall
from gaiwan.records import CryptoInfo, DataFile, Task, TaskStatus
from gaiwan.transport.server import FileServer

NAME = "builtin-test-reverse"


def reverse(call: FunctionCall) -> str:
    """Test built-in: output 'result' = input 'data' reversed."""
    with call.input("data") as src, call.output("result") as dst:
        dst.write(src.read()[::-1])
    return "reversed"


def test_output_cmac_written_to_record_and_tags(platform, tmp_path):  # noqa: F811
    """The node uploads the sealed output; the scheduler records its cmac and reports it in tags_map."""
    management, start_node, _ = platform
    root = tmp_path / "served"
    root.mkdir()
    server = FileServer(root).start()
    _BY_NAME[NAME] = reverse
    try:
        in_key, out_key, out_iv = os.urandom(16), os.urandom(16), os.urandom(12)
        sealed = io.BytesIO()
        in_cmac = crypto.encrypt(crypto.TEACLAVE_FILE_128, in_key, b"", io.BytesIO(b"abc123"),
                                 sealed, "in.enc")
        (root / "in.enc").write_bytes(sealed.getvalue())
        files = [DataFile("input-1", "input", f"{server.url}/in.enc", ("u",),
                          CryptoInfo(crypto.TEACLAVE_FILE_128, in_key), in_cmac),
                 DataFile("output-1", "output", f"{server.url}/out.enc", ("u",),
                          CryptoInfo(crypto.AES_GCM_128, out_key, out_iv))]
        for file in files:
            management.put(records.data_key(file.data_id), records.dumps(file))
        task_id = _stage(management, NAME, "builtin", {})
        found = management.get(records.task_key(task_id))
        task = dataclasses.replace(records.loads(Task, found.value),
                                   assigned_inputs={"data": "input-1"},
                                   assigned_outputs={"result": "output-1"})
        management.put(found.key, records.dumps(task))
        start_node(default_registry())  # only now can the task be dispatched, files assigned
        task = _wait_for(management, task_id, lambda t: t.status.terminal)
    finally:
        del _BY_NAME[NAME]
        server.stop()
    assert task.status == TaskStatus.FINISHED, task.result
    cmac = task.result.tags_map["result"]
    record = records.loads(DataFile, management.get(records.data_key("output-1")).value)
    assert record.cmac == cmac
    plain = io.BytesIO()
    crypto.decrypt(crypto.AES_GCM_128, out_key, out_iv, io.BytesIO((root / "out.enc").read_bytes()),
                   plain, cmac)
    assert plain.getvalue() == b"321cba"
