"""Files the platform refuses at run time: a tampered input, an output URL already taken."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gaiwan.client import DataMap, Gaiwan, TaskStatus
from tests.fixtures import teaclave_fixture
from tests.support.files import ServedDir, served  # noqa: F401 - fixture
from tests.support.parties import ZERO_KEY, add_user, close_all, register_builtin
from tests.support.platform import SHARED, Platform

pytestmark = [pytest.mark.platform, pytest.mark.xdist_group(SHARED)]

_PSI = "functions/ordered_set_intersect/{}"


@pytest.fixture(scope="module")
def erin(platform: Platform) -> Iterator[tuple[Gaiwan, str]]:
    """One data owner holding both sides of an ordered set intersect (no approvals needed)."""
    owner = add_user(platform, "fn-owner", "FunctionOwner")
    user = add_user(platform, "erin", "DataOwner", "org_e")
    function_id = register_builtin(owner, "builtin-ordered-set-intersect", ["order"],
                                   ["input_data1", "input_data2"],
                                   ["output_result1", "output_result2"])
    yield user, function_id
    close_all([user, owner])


def _run(user: Gaiwan, function_id: str, served: ServedDir, folder: str,
         outputs: tuple[str, str]) -> tuple[str, str]:
    """Runs the intersect on the psi files served in `folder` into `outputs`; (status, failure)."""
    me = [user.user_id]
    ins = [user.frontend.register_input_file(served.url(f"{folder}/{f}"), "teaclave-file-128",
                                             ZERO_KEY, b"",
                                             teaclave_fixture(_PSI.format(f)).read_bytes()[80:96])
           for f in ("psi0.txt.enc", "psi1.txt.enc")]
    outs = [user.data.register_output(served.url(o)) for o in outputs]
    task_id = user.create_task(function_id, "builtin", {"order": "ascending"},
                               {"input_data1": me, "input_data2": me},
                               {"output_result1": me, "output_result2": me})
    user.frontend.assign_data_to_task(
        task_id, [DataMap("input_data1", ins[0]), DataMap("input_data2", ins[1])],
        [DataMap("output_result1", outs[0].data_id), DataMap("output_result2", outs[1].data_id)])
    user.frontend.invoke_task(task_id)
    task = user.wait(task_id, 120)
    return task.status.name, task.failure or ""


def test_tampered_input_fails_the_task_and_writes_nothing(erin: tuple[Gaiwan, str],
                                                          served: ServedDir) -> None:
    """One flipped byte in a served file: Failed, the reason names the input, no output exists."""
    user, function_id = erin
    for name in ("psi0.txt.enc", "psi1.txt.enc"):
        served.add_fixture(_PSI.format(name), under="tampered")
    body = bytearray(served.path("tampered/psi1.txt.enc").read_bytes())
    body[200] ^= 0x01  # in the sealed metadata, not the MAC at 80..96 the cmac check reads
    served.path("tampered/psi1.txt.enc").write_bytes(bytes(body))
    status, failure = _run(user, function_id, served, "tampered", ("t-out1", "t-out2"))
    assert status == TaskStatus.FAILED.name
    assert "input 'input_data2'" in failure
    assert not served.path("t-out1").exists() and not served.path("t-out2").exists()


def test_existing_output_url_fails_the_task_naming_the_output(erin: tuple[Gaiwan, str],
                                                              served: ServedDir) -> None:
    """An output whose URL already holds a file is never overwritten: Failed, naming it."""
    user, function_id = erin
    for name in ("psi0.txt.enc", "psi1.txt.enc"):
        served.add_fixture(_PSI.format(name), under="taken")
    served.path("x-out1").write_bytes(b"someone else's file")
    status, failure = _run(user, function_id, served, "taken", ("x-out1", "x-out2"))
    assert status == TaskStatus.FAILED.name
    assert "output 'output_result1'" in failure
    assert served.path("x-out1").read_bytes() == b"someone else's file"
