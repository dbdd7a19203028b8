"""Hostile payloads are contained with a clear reason, and the executor keeps working."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path

from gaiwan.executors import CancelEvent, FunctionError
from gaiwan.executors.python import Limits, PythonExecutor
from gaiwan.executors.python._sandbox import python_view

from .support import LIMITS, Identity, assert_still_works, failure, run, task


def test_wall_clock_limit(executor: PythonExecutor) -> None:
    """A payload that sleeps past its time limit (task argument) is killed."""
    started = time.monotonic()
    reason = failure(executor, "import time\ndef entrypoint(argv):\n    time.sleep(60)\n",
                     arguments={"time_limit": "1"})
    assert reason == "time limit exceeded (1 s)"
    assert time.monotonic() - started < 3
    assert_still_works(executor)


def test_cpu_limit(sandbox_identity: Identity) -> None:
    """A busy loop is stopped by RLIMIT_CPU even when the wall-clock limit is far away."""
    ex = sandbox_identity.executor(Limits(time=20.0, cpu_time=1.0))
    started = time.monotonic()
    try:
        assert failure(ex, "def entrypoint(argv):\n    while True:\n        pass\n") == \
            "CPU time limit exceeded (1 s)"
        assert time.monotonic() - started < 5  # stopped by CPU time, not by the clock
        assert_still_works(ex)
    finally:
        ex.close()


def test_memory_bomb(executor: PythonExecutor) -> None:
    """Allocating past the memory limit fails the task with `memory limit exceeded`."""
    payload = "def entrypoint(argv):\n    a = []\n    while True:\n        a.append(bytearray(16 << 20))\n"
    assert failure(executor, payload) == "memory limit exceeded"
    assert failure(executor, "def entrypoint(argv):\n    return bytearray(1 << 40)\n") == \
        "memory limit exceeded"
    assert_still_works(executor)


def test_fork_bomb(executor: PythonExecutor) -> None:
    """A fork bomb hits the task's process limit; its processes die with the task."""
    payload = "import os\ndef entrypoint(argv):\n    while True:\n        os.fork()\n"
    reason = failure(executor, payload, arguments={"time_limit": "3"})
    assert reason.startswith("BlockingIOError: [Errno 11]"), reason
    assert_still_works(executor)


def test_no_network(executor: PythonExecutor) -> None:
    """A TCP connection to the node's loopback fails; the listener sees nothing."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.2)
        port = listener.getsockname()[1]
        payload = f"""import socket
def entrypoint(argv):
    socket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(b"leak")
"""
        reason = failure(executor, payload)
        assert reason.startswith("OSError: [Errno 97]"), reason
        try:
            listener.accept()
            raise AssertionError("the payload reached the host network")
        except TimeoutError:
            pass
    assert_still_works(executor)


def test_file_system_view_hides_host_and_data_dir(executor: PythonExecutor, tmp_path: Path) -> None:
    """The payload's root shows only the Python installation: no /etc, no data directory."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "secret.key").write_text("do-not-leak")
    payload = f"""import os
def entrypoint(argv):
    found = []
    for path in ("/etc/passwd", "{data_dir / 'secret.key'}", "/proc/1/environ", "/root/.ssh"):
        try:
            open(path, "rb").read()
            found.append(path)
        except OSError:
            pass
    return repr((found, sorted(os.listdir("/"))))
"""
    found, top = eval(run(executor, payload).return_value)  # noqa: S307 - our own repr
    assert found == []
    view = python_view("/unused")
    mounted = {p.split(os.sep)[1] for p in view.binds} | {p.split(os.sep)[1] for p, _ in view.links}
    assert set(top) <= mounted  # only the first components of what is mounted (e.g. /tmp/x/.venv)
    assert not {"etc", "proc", "home", "dev"} & set(top)
    assert_still_works(executor)


def test_cannot_write_outside_outputs(executor: PythonExecutor, tmp_path: Path) -> None:
    """Every path outside the task's outputs is read-only or absent, host files stay untouched."""
    target = tmp_path / "planted"
    payload = f"""import os, sys
def entrypoint(argv):
    written = []
    for path in ("/planted", "/usr/lib/planted", sys.prefix + "/planted", "{target}"):
        try:
            with open(path, "w") as f:
                f.write("x")
            written.append(path)
        except OSError:
            pass
    return ",".join(written)
"""
    assert run(executor, payload).return_value == b""
    assert not target.exists()


def test_output_size_is_limited(executor: PythonExecutor, tmp_path: Path) -> None:
    """Writing an output past RLIMIT_FSIZE fails the write, not the node."""
    payload = "def entrypoint(argv):\n    teaclave_open('out', 'wb').write(b'x' * (2 << 20))\n"
    reason = failure(executor, payload, outputs={"out": tmp_path / "out"})
    assert reason.startswith("OSError: [Errno 27] File too large"), reason


def test_huge_return_value(executor: PythonExecutor) -> None:
    """A return value above the result limit fails the task with `result too large`."""
    assert failure(executor, "def entrypoint(argv):\n    return 'x' * (2 << 20)\n") == "result too large"
    assert_still_works(executor)


def test_flooding_the_result_pipe(executor: PythonExecutor) -> None:
    """Raw writes to every descriptor cannot make the node buffer more than the limit."""
    payload = """import os
def entrypoint(argv):
    for fd in range(3, 64):
        try:
            while True:
                os.write(fd, b"x" * 65536)
        except OSError:
            pass
"""
    assert failure(executor, payload) == "result too large"
    assert_still_works(executor)


def test_ctypes_tricks_are_contained(executor: PythonExecutor) -> None:
    """libc system(), raw sockets, unshare, mount and ptrace through ctypes all fail."""
    payload = """import ctypes, json
def entrypoint(argv):
    libc = ctypes.CDLL(None, use_errno=True)
    return json.dumps({
        "system": libc.system(b"echo pwned > /tmp/pwned"),
        "socket": libc.socket(2, 1, 0),
        "unshare": libc.unshare(0x10000000),
        "mount": libc.mount(b"none", b"/", b"tmpfs", 0, None),
        "ptrace": libc.ptrace(16, 1, None, None),
        "setuid": libc.setuid(0),
        "setsid": libc.setsid(),
    })
"""
    results = json.loads(run(executor, payload).return_value)
    assert results["system"] != 0
    assert all(v == -1 for k, v in results.items() if k != "system"), results
    assert_still_works(executor)


def test_killed_by_signal(executor: PythonExecutor) -> None:
    """A payload that crashes the interpreter fails with the signal's name."""
    payload = "import ctypes\ndef entrypoint(argv):\n    ctypes.string_at(0)\n"
    assert failure(executor, payload) == "killed by signal SIGSEGV"
    assert_still_works(executor)


def test_cannot_read_another_tasks_files(executor: PythonExecutor, tmp_path: Path) -> None:
    """While one task runs with an input, a second task cannot open that input by path."""
    secret = tmp_path / "task-a-input"
    secret.write_text("A's data")
    holder = threading.Thread(target=run, args=(executor, "import time\ndef entrypoint(argv):\n"
                                                "    teaclave_open('in', 'rb')\n    time.sleep(1)\n"),
                              kwargs={"inputs": {"in": secret}})
    holder.start()
    payload = f"""import os
def entrypoint(argv):
    for path in ["{secret}"] + ["/proc/%d/fd/%d" % (p, f) for p in range(1, 50) for f in range(8)]:
        try:
            return open(path).read()
        except OSError:
            pass
    return "nothing"
"""
    try:
        assert run(executor, payload).return_value == b"nothing"
    finally:
        holder.join()


def test_cancel_stops_a_looping_payload_within_a_second(executor: PythonExecutor) -> None:
    """Cancel kills the task's process group at once and the task ends `stopped`."""
    cancel = CancelEvent()
    stopped_at: list[float] = []

    def stop() -> None:
        time.sleep(0.5)
        stopped_at.append(time.monotonic())
        cancel.set()

    threading.Thread(target=stop).start()
    try:
        executor.run(task("import os\ndef entrypoint(argv):\n    os.fork()\n    while True:\n        pass\n"),
                     cancel)
        raise AssertionError("the task was not stopped")
    except FunctionError as exc:
        assert exc.reason == "stopped"
    assert time.monotonic() - stopped_at[0] < 1.0
    assert_still_works(executor)


def test_limits_cap_the_requested_time() -> None:
    """A task cannot ask for more time than the executor's maximum."""
    assert LIMITS.for_task({"time_limit": "1e9"}).time == LIMITS.max_time
    assert LIMITS.for_task({"time_limit": "nan"}).time == LIMITS.time
    assert LIMITS.for_task({"time_limit": "2.5"}).time == 2.5


def test_cannot_signal_processes_outside_the_sandbox(executor: PythonExecutor,
                                                     sandbox_identity: Identity) -> None:
    """SIGKILL by pid, by process group, to every process (-1) and through a pidfd reaches
    nothing outside the task: not a process of the executor's own uid, not the template, not
    the node, not another task running at the same time."""
    helper = sandbox_identity.spawn(["sleep", "60"])
    template = executor._launcher._process  # the process every sandbox is forked from
    assert template is not None
    victim: list[bytes] = []
    neighbour = threading.Thread(target=lambda: victim.append(run(
        executor, "import time\ndef entrypoint(argv):\n    time.sleep(1.5)\n    return 'alive'\n"
    ).return_value))
    neighbour.start()
    time.sleep(0.5)  # the neighbour's sandbox is up
    payload = f"""import os, signal
def entrypoint(argv):
    attempts = {{}}
    def attempt(name, call):
        try:
            call()
            attempts[name] = "sent"
        except OSError as exc:
            attempts[name] = exc.errno
    for name, pid in (("helper", {helper.pid}), ("template", {template.pid}), ("node", {os.getpid()})):
        attempt(name, lambda: os.kill(pid, signal.SIGKILL))
        attempt(name + " group", lambda: os.kill(-pid, signal.SIGKILL))
        attempt(name + " pidfd", lambda: signal.pidfd_send_signal(os.pidfd_open(pid), signal.SIGKILL))
    attempt("everyone", lambda: os.kill(-1, signal.SIGKILL))
    return repr(attempts)
"""
    try:
        attempts = eval(run(executor, payload).return_value)  # noqa: S307 - our own repr
        neighbour.join()
        del attempts["everyone"]  # kill(-1) returns 0 even when every target was EPERM
        assert "sent" not in attempts.values(), attempts
        time.sleep(0.1)
        assert helper.poll() is None, "the payload killed a process of the executor's uid"
        assert template.poll() is None, "the payload killed the template"
        assert victim == [b"alive"]
    finally:
        helper.kill()
        helper.wait()
    assert_still_works(executor)


def test_process_limit_counts_each_task_apart(executor: PythonExecutor,
                                              sandbox_identity: Identity) -> None:
    """A task may start `processes - 1` more processes however many the executor's uid and a
    task running next to it hold, and not one more."""
    others = [sandbox_identity.spawn(["sleep", "60"]) for _ in range(LIMITS.processes)]
    payload = """import os, time
def entrypoint(argv):
    started = 0
    try:
        while started < 64:
            if os.fork() == 0:
                time.sleep(30)
                os._exit(0)
            started += 1
    except BlockingIOError:
        pass
    time.sleep(float(argv[1]))
    return str(started)
"""
    held: list[bytes] = []
    holder = threading.Thread(target=lambda: held.append(
        run(executor, payload, arguments={"hold": "1.5"}).return_value))
    holder.start()
    time.sleep(0.5)  # the holder has forked as much as it may
    try:
        assert run(executor, payload, arguments={"hold": "0"}).return_value == \
            str(LIMITS.processes - 1).encode()
    finally:
        holder.join()
        for other in others:
            other.kill()
            other.wait()
    assert held == [str(LIMITS.processes - 1).encode()]


def test_forked_processes_die_with_the_task(executor: PythonExecutor, tmp_path: Path) -> None:
    """A process the payload forks and leaves behind is killed when the task ends: it cannot
    write to the task's output afterwards."""
    out = tmp_path / "out"
    payload = """import os, time
def entrypoint(argv):
    f = teaclave_open("out", "wb")
    if os.fork() == 0:
        time.sleep(0.5)
        f.write(b"late")
        f.flush()
        os._exit(0)
    return "left"
"""
    assert run(executor, payload, outputs={"out": out}).return_value == b"left"
    time.sleep(1.0)
    assert out.read_bytes() == b""


def test_exit_status_is_reported(executor: PythonExecutor) -> None:
    """A payload that exits without a result fails with its exit status."""
    assert failure(executor, "import os\ndef entrypoint(argv):\n    os._exit(7)\n") == \
        "the function exited with status 7 without a result"


def test_tasks_die_with_the_template(sandbox_identity: Identity, tmp_path: Path) -> None:
    """If the template is killed outright (it cannot clean up), its running tasks die with it:
    none goes on to write its output."""
    tmpdir = sandbox_identity.tmpdir()
    ex = sandbox_identity.executor(tmpdir=tmpdir)
    try:
        out = tmp_path / "out"
        payload = """import time
def entrypoint(argv):
    f = teaclave_open("out", "wb")
    time.sleep(1.0)
    f.write(b"late")
"""
        reasons: list[str] = []
        runner = threading.Thread(target=lambda: reasons.append(failure(ex, payload,
                                                                         outputs={"out": out})))
        runner.start()
        time.sleep(0.5)  # the task is asleep in its sandbox
        template = ex._launcher._process  # the process every sandbox is forked from
        assert template is not None
        template.kill()
        runner.join()
        time.sleep(1.0)
        assert out.read_bytes() == b""
        assert reasons == ["the Python sandbox failed"]
        assert_still_works(ex)  # a new template starts
    finally:
        ex.close()
        shutil.rmtree(tmpdir)
