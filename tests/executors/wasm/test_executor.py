"""Teaclave-compatible WebAssembly functions: arguments, the file API and return values."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gaiwan.executors import CancelEvent
from gaiwan.executors._registry import default_registry
from gaiwan.executors.wasm import WasmExecutor

from ...fixtures import teaclave_fixture
from .conftest import make_task, run, wat


def test_simple_add_returns_the_sum_of_two_arguments(build_c: Callable[[str], bytes]) -> None:
    """The C add module receives both argument values and its i32 result is the return value."""
    assert run(build_c("add"), arguments={"a": "40", "b": "2"}).return_value == b"42"
    assert run(build_c("add"), arguments={"a": "-50", "b": "8"}).return_value == b"-42"


def test_millionaire_matches_the_teaclave_fixture(build_c: Callable[[str], bytes], tmp_path: Path) -> None:
    """Both parties' inputs are read through the file API; output and return value are Teaclave's."""
    case = "functions/wamr_c_millionaire_problem"
    out = tmp_path / "out"
    result = run(build_c("millionaire"),
                 arguments={"input_file_id1": "pf_in_a", "input_file_id2": "pf_in_b", "output_file_id": "pf_out"},
                 inputs={"pf_in_a": teaclave_fixture(f"{case}/input_a.txt"),
                         "pf_in_b": teaclave_fixture(f"{case}/input_b.txt")},
                 outputs={"pf_out": out})
    expected = teaclave_fixture(f"{case}/expected_output.txt").read_bytes()
    assert out.read_bytes() == expected
    assert result.return_value == str(len(expected)).encode()  # Teaclave's test expects "7"


def test_set_intersection_reads_two_inputs_and_writes_two_outputs(build_c: Callable[[str], bytes],
                                                                  tmp_path: Path) -> None:
    """Each party learns, line by line, which of its items the other party also holds."""
    (tmp_path / "a").write_text("apple\nbanana\ncherry\n")
    (tmp_path / "b").write_text("banana\ndate\ncherry\nfig\n")
    result = run(build_c("set_intersect"),
                 inputs={"input_data1": tmp_path / "a", "input_data2": tmp_path / "b"},
                 outputs={"output_result1": tmp_path / "r1", "output_result2": tmp_path / "r2"})
    assert result.return_value == b"2"
    assert (tmp_path / "r1").read_text() == "0\n1\n1\n"
    assert (tmp_path / "r2").read_text() == "1\n0\n1\n0\n"


ECHO_ARGV = """
(module
  (memory (export "memory") 1)
  ;; returns argc * 1000 + the first byte of the last argument string
  (func (export "entrypoint") (param $argc i32) (param $argv i32) (result i32)
    (i32.add (i32.mul (local.get $argc) (i32.const 1000))
      (i32.load8_u (i32.load (i32.add (local.get $argv)
        (i32.mul (i32.sub (local.get $argc) (i32.const 1)) (i32.const 4))))))))
"""


def test_arguments_are_flattened_in_key_order() -> None:
    """argv is [k1, v1, k2, v2, ...] sorted by key, as Teaclave's FunctionArguments::into_vec."""
    result = run(wat(ECHO_ARGV), arguments={"zeta": "Z", "alpha": "A"})
    assert result.return_value == str(4000 + ord("Z")).encode()


def test_no_arguments_pass_argc_zero() -> None:
    """A task without arguments calls entrypoint(0, 0) and needs no memory."""
    module = '(module (func (export "entrypoint") (param i32 i32) (result i32) (i32.add (local.get 0) (i32.const 5))))'
    assert run(wat(module)).return_value == b"5"


def test_missing_entrypoint_is_a_clear_failure() -> None:
    """A module without the Teaclave entrypoint signature fails before running."""
    with pytest.raises(Exception, match=r"does not export entrypoint\(i32 argc, i32 argv\) -> i32"):
        run(wat('(module (func (export "main") (result i32) (i32.const 0)))'))


def test_registry_offers_wamr_and_wasm_over_one_runtime() -> None:
    """Both executor types are registered and share the engine and module cache."""
    registry = default_registry()
    wamr, wasm = registry.get("wamr"), registry.get("wasm")
    assert isinstance(wamr, WasmExecutor) and isinstance(wasm, WasmExecutor)
    assert wamr.runtime is wasm.runtime
    assert wasm.run(make_task(wat(ECHO_ARGV), {"k": "v"}), CancelEvent()).return_value == str(2000 + ord("v")).encode()
