"""Private join and compute across three banks and a task creator, through a real platform."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gaiwan.client import DataFile, DataMap, Gaiwan, TaskStatus
from gaiwan.errors import FailedPrecondition, PermissionDenied
from tests.support.files import ServedDir, served  # noqa: F401 - fixture
from tests.support.parties import ZERO_KEY, add_user, approve_all, close_all, register_builtin
from tests.support.platform import SHARED, Platform

pytestmark = [pytest.mark.platform, pytest.mark.xdist_group(SHARED)]

_DIR = "functions/private_join_and_compute/three_party_data"
_CMACS = {"a": "f6a4585a4903f8dea0ee90ac84a50dba", "b": "ab6065314fcbacd6971ff55d3821b51e",
          "c": "9d7dbe465806731a43008ab094c97688"}
_INPUTS = [f"input_data{i}" for i in range(3)]
_OUTPUTS = [f"output_data{i}" for i in range(3)]


@dataclass
class Join:
    banks: list[Gaiwan]
    creator: Gaiwan
    outsider: Gaiwan
    function_id: str


@pytest.fixture(scope="module")
def join(platform: Platform) -> Iterator[Join]:
    """Three banks (DataOwners of three attributes), a creator, an outsider, the function."""
    banks = [add_user(platform, f"bank-{b}", "DataOwner", f"bank_{b}") for b in "abc"]
    creator = add_user(platform, "broker", "DataOwner", "broker")
    outsider = add_user(platform, "outsider", "DataOwner", "bank_a")
    owner = add_user(platform, "fn-owner", "FunctionOwner")
    function_id = register_builtin(owner, "builtin-private-join-and-compute", ["num_user"],
                                   _INPUTS, _OUTPUTS)
    yield Join(banks, creator, outsider, function_id)
    close_all([*banks, creator, outsider, owner])


def _register_inputs(join: Join, served: ServedDir) -> list[str]:
    """Each bank registers its fixture file, served under its original name, with key zero."""
    return [bank.frontend.register_input_file(
        served.add_fixture(f"{_DIR}/bank_{b}.enc"), "teaclave-file-128", ZERO_KEY, b"",
        bytes.fromhex(_CMACS[b])) for bank, b in zip(join.banks, "abc")]


def _create(join: Join) -> str:
    owners = {name: [bank.user_id] for name, bank in zip(_INPUTS, join.banks)}
    outs = {name: [bank.user_id] for name, bank in zip(_OUTPUTS, join.banks)}
    return join.creator.create_task(join.function_id, "builtin", {"num_user": 3}, owners, outs)


def test_three_banks_each_get_the_same_correct_join(join: Join, served: ServedDir,
                                                    tmp_path: Path) -> None:
    """Every bank assigns and approves; each decrypts its own output: c, 470000 / e, 5033000."""
    inputs = _register_inputs(join, served)
    outputs: list[DataFile] = [bank.data.register_output(served.url(f"join-{i}.out"))
                               for i, bank in enumerate(join.banks)]
    task_id = _create(join)
    for i, bank in enumerate(join.banks):
        bank.frontend.assign_data_to_task(task_id, [DataMap(_INPUTS[i], inputs[i])],
                                          [DataMap(_OUTPUTS[i], outputs[i].data_id)])
    with pytest.raises(FailedPrecondition):
        join.creator.frontend.invoke_task(task_id)  # nobody approved yet
    approve_all(task_id, join.banks[:2])
    with pytest.raises(FailedPrecondition):
        join.creator.frontend.invoke_task(task_id)  # bank c and the creator still have not
    approve_all(task_id, [join.banks[2], join.creator])
    join.creator.frontend.invoke_task(task_id)
    task = join.creator.wait(task_id, timeout=120)
    assert task.status is TaskStatus.FINISHED, task
    assert task.result() == b"3 users join the task in total."
    plain = []
    for i, (bank, out) in enumerate(zip(join.banks, outputs)):
        bank.data.fetch_output(out, tmp_path / f"plain-{i}")
        plain.append((tmp_path / f"plain-{i}").read_bytes())
    assert plain == [b"c, 470000\ne, 5033000\n"] * 3
    with pytest.raises(PermissionDenied):  # an output is its owner's alone
        join.banks[0].data.fetch_output(outputs[1], tmp_path / "not-mine")
    assert not (tmp_path / "not-mine").exists()


def test_non_participant_cannot_assign(join: Join, served: ServedDir) -> None:
    """A user named in no ownership list may not assign, even with a file of their own."""
    task_id = _create(join)
    own = join.outsider.frontend.register_input_file(
        served.add_fixture(f"{_DIR}/bank_a.enc"), "teaclave-file-128", ZERO_KEY, b"",
        bytes.fromhex(_CMACS["a"]))
    with pytest.raises(PermissionDenied):
        join.outsider.frontend.assign_data_to_task(task_id, [DataMap(_INPUTS[0], own)])


def test_file_of_other_owners_is_refused_for_a_slot(join: Join, served: ServedDir) -> None:
    """A file whose owner set differs from the slot's declared owners cannot be assigned to it."""
    task_id = _create(join)
    bank_a_file = _register_inputs(join, served)[0]
    with pytest.raises(PermissionDenied):
        join.banks[0].frontend.assign_data_to_task(task_id, [DataMap(_INPUTS[1], bank_a_file)])
    assert join.creator.task(task_id).status is TaskStatus.CREATED
