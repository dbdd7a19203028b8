"""Warm overhead of one sandboxed Python task, next to bare process creation in the same run.

Run from the repository root: `python bench/python_executor.py [--tasks N] [--unprivileged]`.
`--unprivileged` (as root) starts the template as uid 65534, so tasks take the non-root path (a
user and a PID namespace each, one more fork). Each task is the
echo payload through PythonExecutor.run (fork from the template, namespaces, mounts, rlimits,
seccomp, result over the pipe); the baselines are a bare `os.fork()` + `waitpid` of this process
and a `subprocess` start of a fresh interpreter (what a cold, exec-per-task design would pay).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from gaiwan.executors import CancelEvent, TaskContext
from gaiwan.executors.python import PythonExecutor

ECHO = b"def entrypoint(argv):\n    return argv[1]\n"
TARGET_MS = 10.0
AS_NOBODY = Path(__file__).resolve().parents[1] / "tests" / "executors" / "python" / "as_nobody.py"


def _timed(fn: Callable[[], object], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _fork() -> None:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python bench/python_executor.py")
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--unprivileged", action="store_true",
                        help="run the template as uid 65534 (needs root)")
    args = parser.parse_args()
    if args.unprivileged and os.geteuid() != 0:
        parser.error("--unprivileged needs root (to drop to uid 65534)")
    executor = PythonExecutor(wrapper=(sys.executable, str(AS_NOBODY)) if args.unprivileged else ())
    executor.start()
    task = TaskContext("bench", "echo", "python", ECHO, {"message": "Hello"})
    try:
        _timed(lambda: executor.run(task, CancelEvent()), 10)  # warm-up
        rows = {
            "python task (warm)": _timed(lambda: executor.run(task, CancelEvent()), args.tasks),
            "bare os.fork + waitpid": _timed(_fork, args.tasks),
            "subprocess python -c pass": _timed(
                lambda: subprocess.run([sys.executable, "-S", "-c", "pass"], check=True), 20),
        }
    finally:
        executor.close()
    print(f"{'':28}{'p50 ms':>9}{'p90 ms':>9}")
    for name, samples in rows.items():
        ordered = sorted(samples)
        print(f"{name:28}{statistics.median(ordered):9.2f}{ordered[int(0.9 * len(ordered))]:9.2f}")
    p50 = statistics.median(rows["python task (warm)"])
    path = "non-root path" if args.unprivileged else "node's own user"
    print(f"({path}) warm task p50 {p50:.2f} ms (target < {TARGET_MS:.0f} ms): {'ok' if p50 < TARGET_MS else 'MISSED'}")


if __name__ == "__main__":
    main()
