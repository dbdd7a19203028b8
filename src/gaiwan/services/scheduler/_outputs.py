"""Recording the cmacs of a task's outputs: pure decisions over records, written by the task
book in the same transaction as the task's final state.

An output record's cmac is written once. This is what keeps an `aes-gcm-*` output from ever
being encrypted twice under its registered (key, iv) with different content, which would give
away the XOR of the two plaintexts and the GHASH key:
- management refuses to assign an output whose cmac is already written;
- the scheduler refuses to overwrite a non-empty cmac: a second task that wrote the same
  record (both were assigned it before either finished) ends Failed instead, and its cmac is
  not recorded;
- the node reports the cmacs of outputs it uploaded even when the run then failed or was
  canceled, and they are recorded too: the ciphertext exists, so the record is spent;
- the second writer's upload itself is refused where Gaiwan controls the store: `file://`
  and `fusion://` create files exclusively, `gaiwan files serve` answers 409.
What remains is outside the platform's reach: an `http(s)` store that accepts overwriting PUTs
could receive two ciphertexts under one (key, iv) from two tasks racing on one record, or from
a run retried after its node died mid-upload. Data owners should use stores that refuse
overwrites (Teaclave has the same exposure).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from ...records import DataFile, Task, TaskResult, TaskStatus
from . import wire

CMAC_BYTES = 16


class OutputRefused(Exception):
    """The reported cmacs cannot be recorded; `reason` ends the task Failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def data_ids(task: Task, cmacs: Mapping[str, bytes]) -> dict[str, str]:
    """Output name -> data id of each reported output; an output the task lacks is refused."""
    ids = {}
    for name in sorted(cmacs):
        if name not in task.assigned_outputs:
            raise OutputRefused(f"execution node reported output {name!r}, which the task does not have")
        ids[name] = task.assigned_outputs[name]
    return ids


def written(cmacs: Mapping[str, bytes], ids: Mapping[str, str],
            stored: Mapping[str, DataFile | None]) -> dict[str, DataFile]:
    """data id -> the record with its cmac written; refuses records written before."""
    out = {}
    for name, data_id in ids.items():
        record, cmac = stored.get(data_id), cmacs[name]
        if record is None:
            raise OutputRefused(f"output {name!r}: its file record no longer exists")
        if len(cmac) != CMAC_BYTES:
            raise OutputRefused(f"output {name!r}: execution node reported a malformed cmac")
        if record.cmac:
            raise OutputRefused(f"output {name!r} has already been written; outputs are written once")
        out[data_id] = dataclasses.replace(record, cmac=cmac)
    return out


def settle(new: Task, cmacs: Mapping[str, bytes], refusal: str | None) -> Task:
    """The task as it ends: a Finished task carries the cmacs in tags_map, or fails with the
    refusal; a Failed or Canceled one stays as it is."""
    if new.status != TaskStatus.FINISHED or new.result is None:
        return new
    if refusal is not None:
        return dataclasses.replace(new, status=TaskStatus.FAILED, result=TaskResult(failure=refusal))
    return dataclasses.replace(new, result=wire.with_tags(new.result, dict(cmacs)))
