"""The Teaclave `env` file API: names, handles and bounds checks against module memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from gaiwan.executors.wasm import WasmLimits
from gaiwan.executors.wasm._hostapi import MAX_OPEN

from .conftest import run, wat

PRELUDE = """
(module
  (import "env" "teaclave_open_input" (func $open (param i32) (result i32)))
  (import "env" "teaclave_create_output" (func $create (param i32) (result i32)))
  (import "env" "teaclave_read_file" (func $read (param i32 i32 i32) (result i32)))
  (import "env" "teaclave_write_file" (func $write (param i32 i32 i32) (result i32)))
  (import "env" "teaclave_close_file" (func $close (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "in\\00")
  (data (i32.const 8) "out\\00")
  (data (i32.const 16) "nope\\00")
  (func (export "entrypoint") (param i32 i32) (result i32) (local $fd i32)
    %s))
"""

CASES = {
    "unknown input name": ("(call $open (i32.const 16))", -1),
    "output name opened as input": ("(call $open (i32.const 8))", -1),
    "input name created as output": ("(call $create (i32.const 0))", -1),
    "name pointer outside memory": ("(call $open (i32.const 70000))", -1),
    "name pointer with the sign bit": ("(call $open (i32.const -8))", -1),
    "read into a buffer past the end": ("(call $read (call $open (i32.const 0)) (i32.const 65530) (i32.const 100))", -1),
    "read with a negative size": ("(call $read (call $open (i32.const 0)) (i32.const 100) (i32.const -1))", -1),
    "read from an output": ("(call $read (call $create (i32.const 8)) (i32.const 100) (i32.const 4))", -1),
    "write to an input": ("(call $write (call $open (i32.const 0)) (i32.const 0) (i32.const 2))", -1),
    "write from a buffer past the end": ("(call $write (call $create (i32.const 8)) (i32.const 65535) (i32.const 2))", -1),
    "unknown handle": ("(call $read (i32.const 77) (i32.const 100) (i32.const 4))", -1),
    "close twice": ("(local.set $fd (call $open (i32.const 0))) (drop (call $close (local.get $fd))) (call $close (local.get $fd))", -1),
    "read the whole input": ("(call $read (call $open (i32.const 0)) (i32.const 100) (i32.const 1000))", 5),
    "read a bounded prefix": ("(call $read (call $open (i32.const 0)) (i32.const 100) (i32.const 3))", 3),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_file_api_results(case: str, tmp_path: Path) -> None:
    """Each misuse of the file API returns -1 (never a trap); proper use returns byte counts."""
    body, expected = CASES[case]
    (tmp_path / "in").write_bytes(b"hello")
    result = run(wat(PRELUDE % body), inputs={"in": tmp_path / "in"}, outputs={"out": tmp_path / "out"})
    assert result.return_value == str(expected).encode()


def test_write_copies_module_memory_to_the_output(tmp_path: Path) -> None:
    """Bytes written through a created output's handle land in the task's output file."""
    (tmp_path / "in").write_bytes(b"hello")
    body = """(local.set $fd (call $open (i32.const 0)))
              (drop (call $read (local.get $fd) (i32.const 100) (i32.const 5)))
              (call $write (call $create (i32.const 8)) (i32.const 100) (i32.const 5))"""
    result = run(wat(PRELUDE % body), inputs={"in": tmp_path / "in"}, outputs={"out": tmp_path / "out"})
    assert result.return_value == b"5"
    assert (tmp_path / "out").read_bytes() == b"hello"


def test_open_files_per_task_are_bounded(tmp_path: Path) -> None:
    """A module opening its input in a loop gets -1 after MAX_OPEN handles, not node descriptors."""
    (tmp_path / "in").write_bytes(b"hello")
    body = """(block $done (loop $again
                (br_if $done (i32.eq (call $open (i32.const 0)) (i32.const -1)))
                (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
                (br $again)))
              (local.get $fd)"""
    result = run(wat(PRELUDE % body), inputs={"in": tmp_path / "in"})
    assert result.return_value == str(MAX_OPEN).encode()


def test_output_bytes_per_task_are_bounded(tmp_path: Path) -> None:
    """Writes beyond the task's output budget return -1 and are not written."""
    body = """(local.set $fd (call $create (i32.const 8)))
              (drop (call $write (local.get $fd) (i32.const 0) (i32.const 6)))
              (call $write (local.get $fd) (i32.const 0) (i32.const 6))"""
    result = run(wat(PRELUDE % body), limits=WasmLimits(output_bytes=10), outputs={"out": tmp_path / "out"})
    assert result.return_value == b"-1"
    assert (tmp_path / "out").read_bytes() == b"in\0\0\0\0"
