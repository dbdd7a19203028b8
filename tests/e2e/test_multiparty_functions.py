"""Two-party built-ins on Teaclave's fixture data through a real platform: ordered set
intersect, password check and RSA sign with a private function."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gaiwan.client import DataMap, Gaiwan, TaskStatus
from gaiwan.errors import FailedPrecondition
from tests.fixtures import teaclave_fixture
from tests.support.files import ServedDir, served  # noqa: F401 - fixture
from tests.support.parties import ZERO_KEY, add_user, approve_all, close_all, register_builtin
from tests.support.platform import SHARED, Platform

pytestmark = [pytest.mark.platform, pytest.mark.xdist_group(SHARED)]

_PASSWORD_URL = "data:text/plain;base64,c+mpvRfZ0fboR0j3rTgOGDBiubSzlCt9"
_PASSWORD_CMAC = bytes.fromhex("e84748f7ad380e183062b9b4b3942b7d")
_EXPOSED_CMAC = bytes.fromhex("a31dd0b7de0b6cc7e0dec1dcf7a46479")


@pytest.fixture(scope="module")
def pair(platform: Platform) -> Iterator[tuple[Gaiwan, Gaiwan, Gaiwan]]:
    """Two data owners of different attributes and a function owner."""
    users = (add_user(platform, "alice", "DataOwner", "org_a"),
             add_user(platform, "bob", "DataOwner", "org_b"),
             add_user(platform, "fn-owner", "FunctionOwner"))
    yield users
    close_all(users)


def _fixture_input(user: Gaiwan, served: ServedDir, relative: str) -> str:
    """Registers a teaclave-file-128 fixture (key zero), served under its own name."""
    url = served.add_fixture(relative)
    cmac = teaclave_fixture(relative).read_bytes()[80:96]
    return user.frontend.register_input_file(url, "teaclave-file-128", ZERO_KEY, b"", cmac)


def test_ordered_set_intersect_marks_each_partys_common_items(pair: tuple[Gaiwan, Gaiwan, Gaiwan],
                                                              served: ServedDir, tmp_path: Path) -> None:
    """Each party learns which of its own hashes the other has: 0101010 and 01101."""
    alice, bob, owner = pair
    function_id = register_builtin(owner, "builtin-ordered-set-intersect", ["order"],
                                   ["input_data1", "input_data2"], ["output_result1", "output_result2"])
    parties = [(alice, "input_data1", "output_result1", "psi0.txt.enc"),
               (bob, "input_data2", "output_result2", "psi1.txt.enc")]
    task_id = alice.create_task(function_id, "builtin", {"order": "ascending"},
                                {i: [u.user_id] for u, i, _, _ in parties},
                                {o: [u.user_id] for u, _, o, _ in parties})
    outputs = {}
    for user, in_name, out_name, fixture in parties:
        data_id = _fixture_input(user, served, f"functions/ordered_set_intersect/{fixture}")
        outputs[out_name] = user.data.register_output(served.url(f"psi-{out_name}"), "aes-gcm-128")
        user.frontend.assign_data_to_task(task_id, [DataMap(in_name, data_id)],
                                          [DataMap(out_name, outputs[out_name].data_id)])
    approve_all(task_id, [alice, bob])
    alice.frontend.invoke_task(task_id)
    assert alice.wait(task_id, 120).result() == b"3 common items"
    alice.data.fetch_output(outputs["output_result1"], tmp_path / "a")
    bob.data.fetch_output(outputs["output_result2"], tmp_path / "b")
    assert (tmp_path / "a").read_bytes() == b"0101010"
    assert (tmp_path / "b").read_bytes() == b"01101"


def test_password_check_finds_an_exposed_password(pair: tuple[Gaiwan, Gaiwan, Gaiwan],
                                                  served: ServedDir) -> None:
    """A data: URL aes-gcm-128 password checked against the exposed list returns "true"."""
    alice, bob, owner = pair
    function_id = register_builtin(owner, "builtin-password-check", [],
                                   ["password", "exposed_passwords"])
    task_id = alice.create_task(function_id, "builtin", {},
                                {"password": [alice.user_id], "exposed_passwords": [bob.user_id]})
    password = alice.frontend.register_input_file(_PASSWORD_URL, "aes-gcm-128", ZERO_KEY,
                                                  bytes(12), _PASSWORD_CMAC)
    exposed = bob.frontend.register_input_file(
        served.add_fixture("functions/password_check/exposed_passwords.txt.enc"),
        "teaclave-file-128", ZERO_KEY, b"", _EXPOSED_CMAC)
    alice.frontend.assign_data_to_task(task_id, [DataMap("password", password)])
    bob.frontend.assign_data_to_task(task_id, [DataMap("exposed_passwords", exposed)])
    approve_all(task_id, [alice, bob])
    alice.frontend.invoke_task(task_id)
    assert alice.wait(task_id, 120).result() == b"true"


def test_rsa_sign_with_a_private_function_needs_its_owner(platform: Platform,
                                                          pair: tuple[Gaiwan, Gaiwan, Gaiwan],
                                                          served: ServedDir) -> None:
    """The key owner runs the owner's private function; it runs only once both approved.

    The owner is a PlatformAdmin: the FunctionOwner role may not call ApproveTask (spec §5)."""
    alice = pair[0]
    owner = add_user(platform, "signer-admin", "PlatformAdmin")
    function_id = register_builtin(owner, "builtin-rsa-sign", ["data"], ["rsa_key"], public=False,
                                   allowlist=[alice.user_id])
    task_id = alice.create_task(function_id, "builtin", {"data": "test data"},
                                {"rsa_key": [alice.user_id]})
    key = _fixture_input(alice, served, "functions/rsa_sign/rsakey.enc")
    alice.frontend.assign_data_to_task(task_id, [DataMap("rsa_key", key)])
    alice.frontend.approve_task(task_id)
    with pytest.raises(FailedPrecondition):
        alice.frontend.invoke_task(task_id)  # the function owner has not approved
    owner.frontend.approve_task(task_id)
    alice.frontend.invoke_task(task_id)
    task = alice.wait(task_id, 120)
    assert task.status is TaskStatus.FINISHED, task
    expected = teaclave_fixture("functions/rsa_sign/expected_rsasign.txt").read_bytes().strip()
    assert task.result() == expected
    owner.close()
