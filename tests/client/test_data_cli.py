"""`gaiwan data upload|output|fetch|tag` as a user runs them, against a real platform and file server."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures import teaclave_fixture
from tests.support.files import ServedDir, served  # noqa: F401 - fixture
from tests.support.platform import FRESH, Platform, gaiwan

pytestmark = [pytest.mark.platform, pytest.mark.xdist_group(FRESH)]


def test_cli_data_round_trip_and_refusals(fresh_platform: Callable[..., Platform],
                                          served: ServedDir, tmp_path: Path) -> None:
    """Upload two inputs, register two outputs, run the intersect, fetch and decrypt each result;
    key files are 0600, keys never printed, and taken or mismatched key files are refused; a tag
    an operator policy reads holds the result back until it is cleared."""
    platform = fresh_platform()
    home = ["--home", str(platform.home.root)]

    def cli(*args: str, check: bool = True) -> str:
        proc = gaiwan(*args, *home, check=check)
        return proc.stdout.strip() if check else proc.stderr

    cli("user", "login", "admin", "--password", platform.admin_password)
    function_id = cli("function", "register", "builtin-ordered-set-intersect", "--executor-type",
                      "builtin", "--argument", "order", "--input", "input_data1", "--input",
                      "input_data2", "--output", "output_result1", "--output", "output_result2")
    keys = {n: tmp_path / f"{n}.json" for n in ("in1", "in2", "out1", "out2")}
    psi = "functions/ordered_set_intersect/{}"
    in1 = cli("data", "upload", str(teaclave_fixture(psi.format("psi0.txt"))), "--url",
              served.url("cli-psi0.enc"), "--key-out", str(keys["in1"]))
    in2 = cli("data", "upload", str(teaclave_fixture(psi.format("psi1.txt"))), "--url",
              served.url("cli-psi1.enc"), "--schema", "aes-gcm-256", "--key-out", str(keys["in2"]))
    out1 = cli("data", "output", "--url", served.url("cli-r1"), "--schema", "aes-gcm-128",
               "--key-out", str(keys["out1"]))
    out2 = cli("data", "output", "--url", served.url("cli-r2"), "--key-out", str(keys["out2"]))
    assert in1.startswith("input-") and out1.startswith("output-")
    for path in keys.values():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert json.loads(path.read_text())["key"] not in in1 + in2 + out1 + out2

    task_id = cli("task", "create", function_id, "--executor", "builtin", "--arg", "order=ascending",
                  "--input-owner", "input_data1=admin", "--input-owner", "input_data2=admin",
                  "--output-owner", "output_result1=admin", "--output-owner", "output_result2=admin")
    cli("task", "assign", task_id, "--input", f"input_data1={in1}", "--input", f"input_data2={in2}",
        "--output", f"output_result1={out1}", "--output", f"output_result2={out2}")
    assert "not been written" in cli("data", "fetch", out1, "--key-file", str(keys["out1"]),
                                     "-o", str(tmp_path / "early"), check=False)
    cli("task", "invoke", task_id)
    assert cli("task", "wait", task_id) == "3 common items"
    cli("data", "fetch", out1, "--key-file", str(keys["out1"]), "-o", str(tmp_path / "r1"))
    cli("data", "fetch", out2, "--key-file", str(keys["out2"]), "-o", str(tmp_path / "r2"))
    assert (tmp_path / "r1").read_bytes() == b"0101010"
    assert (tmp_path / "r2").read_bytes() == b"01101"

    assert "holds the key of" in cli("data", "fetch", out2, "--key-file", str(keys["out1"]), "-o",
                                     str(tmp_path / "x"), check=False)
    assert "exists" in cli("data", "fetch", out1, "--key-file", str(keys["out1"]), "-o",
                           str(tmp_path / "r1"), check=False)
    assert "refusing to overwrite a key file" in cli(
        "data", "upload", str(keys["in1"]), "--url", served.url("never"), "--key-out",
        str(keys["in1"]), check=False)
    assert not served.path("never").exists()
    assert "409" in cli("data", "upload", str(teaclave_fixture(psi.format("psi0.txt"))), "--url",
                        served.url("cli-psi0.enc"), "--key-out", str(tmp_path / "k.json"), check=False)
    assert not (tmp_path / "k.json").exists() and not (tmp_path / "x").exists()

    # Tags: set by the sole owner, read by an operator policy, cleared only when asked to.
    (platform.home.root / "policies").mkdir(exist_ok=True)
    (platform.home.root / "policies" / "held.cedar").write_text(
        '@id("held-data")\nforbid (principal, action == Gaiwan::Action::"user_access_data", resource)\n'
        'when { resource.tags.contains("held") };\n')
    assert "reloaded" in cli("policy", "reload")
    assert cli("data", "tag", out1, "held", "pii") == f"{out1}: held, pii"
    refused = cli("data", "fetch", out1, "--key-file", str(keys["out1"]), "-o", str(tmp_path / "r3"),
                  check=False)
    assert "permission denied" in refused and "held-data" not in refused
    assert "give the tags, or --clear" in cli("data", "tag", out1, check=False)
    assert "give the tags, or --clear" in cli("data", "tag", out1, "x", "--clear", check=False)
    assert "a tag is 1..64 characters" in cli("data", "tag", out1, "two words", check=False)
    assert "not an input or output file id" in cli("data", "tag", task_id, "held", check=False)
    assert cli("data", "tag", out1, "--clear") == f"{out1}: no tags"
    cli("data", "fetch", out1, "--key-file", str(keys["out1"]), "-o", str(tmp_path / "r3"))
    assert (tmp_path / "r3").read_bytes() == b"0101010"
