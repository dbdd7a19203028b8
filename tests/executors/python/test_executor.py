"""The python executor runs Teaclave-style payloads: argv, return values, files, errors, logs."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from gaiwan.executors import default_registry
from gaiwan.executors.python import PythonExecutor
from tests.fixtures import teaclave_fixture

from .support import failure, run

ECHO = """
def entrypoint(argv):
    assert argv[0] == 'message'
    assert argv[1] is not None
    return argv[1]
"""

MESAPY = """
def entrypoint(argv):
    with teaclave_open("in_f1", "rb") as f:
        line = f.readline()
        assert line == b"Hello\\n"
    from teaclave import open
    with open("in_f1", "rb") as f:
        assert f.read() == b"Hello\\nWorld"
    for name, mode, expected in (("invalid_key", "rb", "fileio_init: teaclave_ffi_error"),
                                 ("in_f1", "r", "Teaclave Not Supported"),
                                 ("invalid_key", "wb", "fileio_init: teaclave_ffi_error"),
                                 ("out_f1", "w", "Teaclave Not Supported")):
        try:
            teaclave_open(name, mode)
        except RuntimeError as e:
            assert e.message == expected, e.message
        else:
            raise AssertionError(name + mode)
    with teaclave_open("out_f1", "wb") as f:
        f.write("This message is from Mesapy!")
    return
"""


def test_registered_as_python() -> None:
    """The default registry offers the python executor."""
    assert isinstance(default_registry().get("python"), PythonExecutor)


def test_echo_returns_message(executor: PythonExecutor) -> None:
    """Teaclave's echo payload returns argv's message."""
    assert run(executor, ECHO, arguments={"message": "Hello, Teaclave!"}).return_value == b"Hello, Teaclave!"


def test_argv_is_flattened_in_order(executor: PythonExecutor) -> None:
    """argv is [k1, v1, k2, v2, ...] in the arguments' order."""
    out = run(executor, "def entrypoint(argv):\n    return ','.join(argv)\n",
              arguments={"b": "2", "a": "1", "c": "x y"})
    assert out.return_value == b"b,2,a,1,c,x y"


def test_bytes_and_none_return_values(executor: PythonExecutor) -> None:
    """bytes are returned as they are; None becomes an empty return value."""
    assert run(executor, "def entrypoint(argv):\n    return b'\\x00\\xff'\n").return_value == b"\x00\xff"
    assert run(executor, "def entrypoint(argv):\n    pass\n").return_value == b""


def test_mesapy_file_api(executor: PythonExecutor, tmp_path: Path) -> None:
    """Teaclave's MesaPy file test runs: reads, writes, and refusals with Teaclave's messages."""
    source = tmp_path / "input.txt"
    shutil.copy(teaclave_fixture("functions/mesapy/input.txt"), source)
    out = tmp_path / "output.txt"
    result = run(executor, MESAPY, inputs={"in_f1": source}, outputs={"out_f1": out})
    assert result.return_value == b""
    assert out.read_bytes() == b"This message is from Mesapy!"


def test_data_fusion_payload(executor: PythonExecutor, tmp_path: Path) -> None:
    """Teaclave's data-fusion payload merges two inputs into one output."""
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "out"
    a.write_bytes(b"a1\na2\n")
    b.write_bytes(b"b1\n")
    payload = """
def readlines(fid):
    with teaclave_open(fid, "rb") as f:
        return f.readlines()

def entrypoint(argv):
    cnt = 0
    with teaclave_open("OutFusionData", "wb") as of:
        for fid in ["InPartyA", "InPartyB"]:
            for line in readlines(fid):
                of.write(line)
                cnt += 1
    return "Mixed %d lines of data" % cnt
"""
    result = run(executor, payload, inputs={"InPartyA": a, "InPartyB": b}, outputs={"OutFusionData": out})
    assert result.return_value == b"Mixed 3 lines of data"
    assert out.read_bytes() == b"a1\na2\nb1\n"


def test_absent_optional_input_raises(executor: PythonExecutor) -> None:
    """Opening an input the task did not provide raises, and the payload can handle it."""
    payload = """
def entrypoint(argv):
    try:
        teaclave_open("model", "rb")
    except RuntimeError as e:
        return str(e)
"""
    assert b"no input file named 'model'" in run(executor, payload).return_value


def test_numpy_is_importable(executor: PythonExecutor) -> None:
    """numpy imports and computes inside the sandbox."""
    payload = """
import numpy as np
def entrypoint(argv):
    m = np.array([[2.0, 0.0], [0.0, 4.0]])
    return str(np.linalg.inv(m).sum()) + " " + str(np.random.default_rng(1).integers(10, size=3).shape)
"""
    assert run(executor, payload).return_value == b"0.75 (3,)"


def test_exception_reason_has_type_message_and_payload_frames(executor: PythonExecutor) -> None:
    """An exception fails the task with `Type: message` and payload frames only, no host paths."""
    payload = """import json
def helper(x):
    return json.loads(x)

def entrypoint(argv):
    return helper(argv[1])
"""
    reason = failure(executor, payload, arguments={"data": "{not json"})
    assert reason.startswith("JSONDecodeError: Expecting property name")
    assert "line 3, in helper: return json.loads(x)" in reason
    assert "line 6, in entrypoint" in reason
    assert "{not json" not in reason and ".py" not in reason and "/" not in reason


def test_syntax_error_and_missing_entrypoint(executor: PythonExecutor) -> None:
    """A payload that does not compile or defines no entrypoint fails with a clear reason."""
    assert failure(executor, "def entrypoint(argv)\n    return 1\n").startswith("SyntaxError:")
    assert "no entrypoint" in failure(executor, "x = 1\n")


def test_print_goes_to_the_log(executor: PythonExecutor) -> None:
    """What the payload prints becomes the task's log lines, not the node's output."""
    out = run(executor, "import sys\ndef entrypoint(argv):\n    print('one')\n    print('two', file=sys.stderr)\n    return 'x'\n")
    assert out.log == ("one", "two")


def test_environment_is_clean(executor: PythonExecutor) -> None:
    """The payload sees none of the node's environment variables."""
    out = run(executor, "import os\ndef entrypoint(argv):\n    return ','.join(sorted(os.environ))\n")
    assert out.return_value == b"LANG,MKL_NUM_THREADS,OMP_NUM_THREADS,OPENBLAS_NUM_THREADS"


def test_concurrent_tasks_do_not_interfere(executor: PythonExecutor, tmp_path: Path) -> None:
    """Two tasks run at once in two threads, each with its own argv and files."""
    payload = """import time
def entrypoint(argv):
    time.sleep(0.3)
    data = teaclave_open("in", "rb").read()
    with teaclave_open("out", "wb") as f:
        f.write(data + argv[1].encode())
    return argv[1]
"""
    results: dict[str, bytes] = {}

    def one(name: str) -> None:
        (tmp_path / f"in-{name}").write_bytes(name.encode() * 3)
        out = run(executor, payload, arguments={"who": name}, inputs={"in": tmp_path / f"in-{name}"},
                  outputs={"out": tmp_path / f"out-{name}"})
        results[name] = out.return_value

    threads = [threading.Thread(target=one, args=(n,)) for n in ("A", "B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"A": b"A", "B": b"B"}
    assert (tmp_path / "out-A").read_bytes() == b"AAAA"
    assert (tmp_path / "out-B").read_bytes() == b"BBBB"
