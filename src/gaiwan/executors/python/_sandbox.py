"""Turns a freshly forked process into a task's sandbox, one-way, before the payload runs.

Order matters: namespaces and mounts need privileges, so they come first; then the process
gives up its identity and every capability, gets its rlimits, `no_new_privs` and the seccomp
filter. Any failure raises and the payload never starts.

- Network: a new network namespace holds only a loopback that is down; nothing is reachable.
- File system: a new mount namespace whose root is an empty tmpfs holding read-only, nosuid,
  nodev bind mounts of the Python installation and the system libraries, nothing else (no /etc,
  /home, /tmp, /proc, /dev, no platform data directory, no task directory). The old root is
  detached, then the tmpfs is made read-only. The task's own files arrive as descriptors.
- IPC and UTS namespaces are private too.
- Identity and other processes, two paths:
  - As root: a uid/gid of the task's own (from the template's pool). It owns no file and can
    signal no other process (the kernel allows a signal only to the sender's own uid), and
    RLIMIT_NPROC counts per uid, so per task. No PID namespace: it would cost another fork per
    task and buy only hiding which pids exist (`kill(pid, 0)` tells EPERM from ESRCH).
  - Not as root: the task keeps the executor's uid, which alone would let it signal the node,
    the template and other tasks by pid. So a user namespace (the uid mapped to itself, not to
    root; its capabilities are dropped after setup) comes with a PID namespace, and the payload
    runs as its PID 1 in one more process (`_pid1`, which explains the relay, the cost and what
    PID 1 changes): no process outside is visible, so none can be named, by pid, process
    group, `kill(-1)` or pidfd. RLIMIT_NPROC is counted per user namespace and uid (Linux 5.14
    and later), that is per task again; the relay is one of the task's processes, so the limit
    is one higher. (Older kernels count the shared uid: tasks get fewer processes, never more.)
- Death: the sandbox gets SIGKILL when the template dies (PR_SET_PDEATHSIG, set again after the
  change of uid, which clears it, and checked against a template that died before it was set).

Rejected: chroot (escapable with the privileges the setup needs), overlayfs (needs a writable
upper layer, which a task has no use for), bubblewrap/nsjail (an exec per task, which throws
away the pre-imported runtime and its start-up savings), a cgroup per task for the process
count (not available to an unprivileged executor, and RLIMIT_NPROC already counts per task).
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
from dataclasses import dataclass
from errno import ESRCH
from pathlib import Path

from . import _pid1, _seccomp
from ._protocol import Request

_CLONE_NEWNS, _CLONE_NEWUTS, _CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
_CLONE_NEWUSER, _CLONE_NEWPID, _CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV = 0x1, 0x2, 0x4
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 0x20, 0x1000, 0x4000, 0x40000
_MNT_DETACH = 2
_PR_SET_PDEATHSIG = 1
_SYSTEM_LIBRARIES = ("/lib", "/lib64", "/lib32", "/usr/lib", "/usr/lib64", "/usr/lib32",
                     "/usr/local/lib")
_libc = ctypes.CDLL(None, use_errno=True)


class SandboxError(OSError):
    """The sandbox could not be set up; the payload did not run."""


@dataclass(frozen=True)
class View:
    """What the sandbox's file system shows: `mount_point` is an empty host directory that the
    tmpfs root is mounted on (in the task's namespace only); `binds` are shown read-only at
    their own paths; `links` are symbolic links recreated as they are (e.g. /lib -> usr/lib)."""

    mount_point: str
    binds: tuple[str, ...]
    links: tuple[tuple[str, str], ...]


def python_view(mount_point: str) -> View:
    """The Python installation (interpreter, standard library, the environment's
    site-packages with numpy) and the system libraries its extension modules link to."""
    candidates = {sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix}
    links: list[tuple[str, str]] = []
    for path in _SYSTEM_LIBRARIES:
        if os.path.islink(path):
            links.append((path, os.readlink(path)))
        elif os.path.isdir(path):
            candidates.add(path)
    real = sorted({os.path.realpath(p) for p in candidates if os.path.isdir(p)})
    binds = [p for p in real if not any(p.startswith(q + os.sep) for q in real if q != p)]
    return View(mount_point, tuple(binds), tuple(links))


def enter(view: View, uid: int, request: Request, baseline_memory: int, parent: int) -> None:
    """Makes the calling process the task's sandbox (see the module docstring); `parent` is
    the template's pid: the sandbox dies with it."""
    _die_with(parent)
    as_root = os.geteuid() == 0
    outer_uid, outer_gid = os.geteuid(), os.getegid()
    flags = _CLONE_NEWNS | _CLONE_NEWNET | _CLONE_NEWIPC | _CLONE_NEWUTS
    _check(_libc.unshare(flags if as_root else flags | _CLONE_NEWUSER | _CLONE_NEWPID), "unshare")
    if not as_root:
        _map_self(outer_uid, outer_gid)
        _pid1.become_pid1()  # from here on, in the namespace's PID 1; the caller only relays
    _build_root(view)
    if as_root:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        _die_with(parent)  # a change of uid cleared the death signal
    else:
        _drop_capabilities()
    _limit(request, baseline_memory, pid1=not as_root)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past RLIMIT_FSIZE raise EFBIG
    if _seccomp.supported():
        _seccomp.install()
    else:
        _seccomp.no_new_privs()


def _die_with(parent: int) -> None:
    """SIGKILL when `parent` dies; if it died before this was set, no signal would come."""
    _check(_libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "PR_SET_PDEATHSIG")
    if os.getppid() != parent:
        raise SandboxError(ESRCH, "the template is gone")


def _build_root(view: View) -> None:
    root = view.mount_point
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    _mount("tmpfs", root, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=256k,nr_inodes=512,mode=0755")
    for path, target in view.links:
        Path(root + os.path.dirname(path)).mkdir(parents=True, exist_ok=True)
        os.symlink(target, root + path)
    for path in view.binds:
        inside = root + path
        Path(inside).mkdir(parents=True, exist_ok=True)
        _mount(path, inside, None, _MS_BIND)
        _mount(None, inside, None, _MS_BIND | _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
    os.chdir(root)
    _check(_libc.syscall(_seccomp.number("pivot_root"), b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", _MNT_DETACH), "umount2")
    os.chdir("/")
    _mount(None, "/", None, _MS_BIND | _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)


def _map_self(uid: int, gid: int) -> None:
    """Maps the caller's uid and gid to themselves: the capabilities the setup needs come with
    the new user namespace, not with being root in it, and a payload that is not root inside
    has not even a root identity to fall back to (setuid(0) fails, 0 is not mapped)."""
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _drop_capabilities() -> None:
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")


def _limit(request: Request, baseline_memory: int, pid1: bool) -> None:
    """`pid1`: the payload is PID 1 of its PID namespace under a relay (`_pid1`), and its
    processes are counted in its user namespace, where the relay is one of them."""
    limits = (
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_NPROC, request.processes + 1 if pid1 else request.processes),
        (resource.RLIMIT_NOFILE, request.open_files),
        (resource.RLIMIT_FSIZE, request.file_size),
        (resource.RLIMIT_AS, baseline_memory + request.memory),
    )
    for which, value in limits:
        resource.setrlimit(which, (value, value))
    # The soft limit sends SIGXCPU, the hard one a second later SIGKILL, whatever the payload
    # does. PID 1 drops a SIGXCPU it has no handler for, so there the SIGKILL ends it: a second
    # later, but past the limit, so the CPU time tells what happened (a hard limit equal to the
    # soft one would stop it in time, but rusage can read a few ms short of the limit then).
    resource.setrlimit(resource.RLIMIT_CPU, (request.cpu_seconds, request.cpu_seconds + 1))


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    def arg(s: str | None) -> bytes | None:
        return s.encode() if s is not None else None

    _check(_libc.mount(arg(source), arg(target), arg(fstype), flags, arg(data)), f"mount {target}")


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise SandboxError(errno, f"{what}: {os.strerror(errno)}")
