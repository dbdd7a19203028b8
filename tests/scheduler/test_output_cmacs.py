"""FinishTask records each output's cmac once, in the same transaction as the task's end."""

from __future__ import annotations

import dataclasses
import os

from conftest import read_task

from gaiwan import records
from gaiwan.records import CryptoInfo, DataFile, Task, TaskResult, TaskStatus
from gaiwan.services.scheduler._nodes import Capabilities

ECHO = Capabilities(frozenset({"builtin"}), frozenset({"builtin-echo"}), slots=2)
CMAC_A, CMAC_B = os.urandom(16), os.urandom(16)


def _output(management, data_id: str = "output-1") -> str:
    record = DataFile(data_id, "output", "http://127.0.0.1:1/out.enc", ("alice",),
                      CryptoInfo("aes-gcm-128", os.urandom(16), os.urandom(12)))
    management.put(records.data_key(data_id), records.dumps(record))
    return data_id


def _running(scheduler, stage, management, outputs: dict[str, str], node_id: str = "node-a") -> str:
    """A running task with the given outputs assigned (name -> data id)."""
    if scheduler.registry.get(node_id) is None:
        scheduler.connect(node_id, ECHO)
    task_id = stage()
    found = management.get(records.task_key(task_id))
    task = dataclasses.replace(records.loads(Task, found.value), assigned_outputs=outputs)
    management.put(found.key, records.dumps(task))
    while scheduler.dispatcher.step():
        pass
    return task_id


def _cmac(storage, data_id: str) -> bytes:
    return records.loads(DataFile, storage.get(records.data_key(data_id)).value).cmac


def test_finished_task_writes_cmacs_and_tags(scheduler, stage, management, storage):
    """A Finished result writes the output's cmac into its record and into tags_map."""
    data_id = _output(management)
    task_id = _running(scheduler, stage, management, {"model": data_id})
    scheduler.finish("node-a", task_id, TaskResult(return_value=b"ok"), {"model": CMAC_A})
    task = read_task(storage, task_id)
    assert task.status == TaskStatus.FINISHED and task.result.tags_map == {"model": CMAC_A}
    assert _cmac(storage, data_id) == CMAC_A


def test_second_task_cannot_write_same_output(scheduler, stage, management, storage):
    """Two tasks assigned one output: the second to finish ends Failed; the cmac stays the first's."""
    data_id = _output(management)
    first = _running(scheduler, stage, management, {"model": data_id})
    second = _running(scheduler, stage, management, {"model": data_id})
    scheduler.finish("node-a", first, TaskResult(return_value=b"1"), {"model": CMAC_A})
    scheduler.finish("node-a", second, TaskResult(return_value=b"2"), {"model": CMAC_B})
    task = read_task(storage, second)
    assert task.status == TaskStatus.FAILED
    assert task.result == TaskResult(
        failure="output 'model' has already been written; outputs are written once")
    assert _cmac(storage, data_id) == CMAC_A


def test_failed_run_still_spends_uploaded_outputs(scheduler, stage, management, storage):
    """Cmacs of outputs uploaded before a failure are recorded; the result keeps its reason."""
    data_id = _output(management)
    task_id = _running(scheduler, stage, management, {"model": data_id, "other": _output(management, "output-2")})
    scheduler.finish("node-a", task_id, TaskResult(failure="output 'other': HTTP 409"),
                     {"model": CMAC_A})
    task = read_task(storage, task_id)
    assert task.status == TaskStatus.FAILED and task.result.failure == "output 'other': HTTP 409"
    assert _cmac(storage, data_id) == CMAC_A and _cmac(storage, "output-2") == b""


def test_unknown_or_malformed_output_fails_task(scheduler, stage, management, storage):
    """A node reporting an output the task lacks, or a malformed cmac, fails the task, writing nothing."""
    data_id = _output(management)
    unknown = _running(scheduler, stage, management, {"model": data_id})
    scheduler.finish("node-a", unknown, TaskResult(return_value=b""), {"stray": CMAC_A})
    short = _running(scheduler, stage, management, {"model": data_id})
    scheduler.finish("node-a", short, TaskResult(return_value=b""), {"model": b"\x01"})
    assert read_task(storage, unknown).result.failure == (
        "execution node reported output 'stray', which the task does not have")
    assert read_task(storage, short).result.failure == (
        "output 'model': execution node reported a malformed cmac")
    assert _cmac(storage, data_id) == b""


def test_missing_output_record_fails_task(scheduler, stage, management, storage):
    """An output record that vanished cannot be written: the task fails instead."""
    task_id = _running(scheduler, stage, management, {"model": "output-gone"})
    scheduler.finish("node-a", task_id, TaskResult(return_value=b""), {"model": CMAC_A})
    assert read_task(storage, task_id).result.failure == (
        "output 'model': its file record no longer exists")
