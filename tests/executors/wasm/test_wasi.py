"""WASI for modules that import it: only the task's files, by function name, and no environment."""

from __future__ import annotations

from pathlib import Path

from .conftest import run, wat

# Copies input "data_in" to output "result"; returns the byte count, or a negative code naming
# the first check that failed (-1xx: open failed, -2: environment not empty, -3/-4: a name that
# must be invisible could be opened).
COPY = """
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "data_in")
  (data (i32.const 32) "result")
  (data (i32.const 64) "in-0")
  (data (i32.const 96) "../x")
  (func $open (param $name i32) (param $len i32) (param $oflags i32) (result i32)
    (call $path_open (i32.const 3) (i32.const 0) (local.get $name) (local.get $len) (local.get $oflags)
      (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 200)))
  (func (export "entrypoint") (param i32 i32) (result i32) (local $err i32) (local $n i32)
    (if (local.tee $err (call $open (i32.const 0) (i32.const 7) (i32.const 0)))
      (then (return (i32.sub (i32.const -100) (local.get $err)))))
    (i32.store (i32.const 300) (i32.const 400))
    (i32.store (i32.const 304) (i32.const 100))
    (drop (call $fd_read (i32.load (i32.const 200)) (i32.const 300) (i32.const 1) (i32.const 204)))
    (local.set $n (i32.load (i32.const 204)))
    (if (local.tee $err (call $open (i32.const 32) (i32.const 6) (i32.const 9)))  ;; O_CREAT | O_TRUNC
      (then (return (i32.sub (i32.const -100) (local.get $err)))))
    (i32.store (i32.const 304) (local.get $n))
    (drop (call $fd_write (i32.load (i32.const 200)) (i32.const 300) (i32.const 1) (i32.const 208)))
    (drop (call $environ_sizes (i32.const 220) (i32.const 224)))
    (if (i32.load (i32.const 220)) (then (return (i32.const -2))))
    (if (i32.eqz (call $open (i32.const 64) (i32.const 4) (i32.const 0))) (then (return (i32.const -3))))
    (if (i32.eqz (call $open (i32.const 96) (i32.const 4) (i32.const 0))) (then (return (i32.const -4))))
    (local.get $n)))
"""


def test_wasi_module_sees_only_the_task_files_by_name(tmp_path: Path) -> None:
    """Inputs appear under their function names, outputs are collected, nothing else is visible."""
    (tmp_path / "in-0").write_bytes(b"hello wasi")
    (tmp_path / "x").write_bytes(b"outside the view")
    result = run(wat(COPY), inputs={"data_in": tmp_path / "in-0"}, outputs={"result": tmp_path / "out-0"})
    assert result.return_value == b"10"
    assert (tmp_path / "out-0").read_bytes() == b"hello wasi"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in-0", "out-0", "x"]  # view removed
