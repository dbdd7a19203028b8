"""Turns a freshly forked process into a task's sandbox, one-way, before the payload runs.

Order matters: namespaces and mounts need privileges, so they come first; then the process
becomes a uid of its own (dropping every capability), gets its rlimits, `no_new_privs` and
the seccomp filter. Any failure raises and the payload never starts.

- Network: a new network namespace holds only a loopback that is down; nothing is reachable.
- File system: a new mount namespace whose root is an empty tmpfs holding read-only, nosuid,
  nodev bind mounts of the Python installation and the system libraries, nothing else (no /etc,
  /home, /tmp, /proc, /dev, no platform data directory, no task directory). The old root is
  detached, then the tmpfs is made read-only. The task's own files arrive as descriptors.
- Identity: as root, a uid/gid of the task's own (from the template's pool): it owns no file,
  can signal no other process, and RLIMIT_NPROC counts per task. Not as root, a user
  namespace maps the caller's uid to root inside, and capabilities are dropped after setup.
- IPC and UTS namespaces are private too; there is no PID namespace (it would cost another fork
  per task and /proc is not mounted, so other processes are neither listed nor signalable).

Rejected: chroot (escapable with the privileges the setup needs), overlayfs (needs a writable
upper layer, which a task has no use for), bubblewrap/nsjail (an exec per task, which throws
away the pre-imported runtime and its start-up savings).
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from . import _seccomp
from ._protocol import Request

_CLONE_NEWNS, _CLONE_NEWUTS, _CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
_CLONE_NEWUSER, _CLONE_NEWNET = 0x10000000, 0x40000000
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


def enter(view: View, uid: int, request: Request, baseline_memory: int) -> None:
    """Makes the calling process the task's sandbox (see the module docstring)."""
    _check(_libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "PR_SET_PDEATHSIG")
    as_root = os.geteuid() == 0
    outer_uid, outer_gid = os.geteuid(), os.getegid()
    flags = _CLONE_NEWNS | _CLONE_NEWNET | _CLONE_NEWIPC | _CLONE_NEWUTS
    _check(_libc.unshare(flags if as_root else flags | _CLONE_NEWUSER), "unshare")
    if not as_root:
        _map_root(outer_uid, outer_gid)
    _build_root(view)
    if as_root:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    else:
        _drop_capabilities()
    _limit(request, baseline_memory)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past RLIMIT_FSIZE raise EFBIG
    if _seccomp.supported():
        _seccomp.install()
    else:
        _seccomp.no_new_privs()


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


def _map_root(uid: int, gid: int) -> None:
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
    Path("/proc/self/gid_map").write_text(f"0 {gid} 1")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _drop_capabilities() -> None:
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")


def _limit(request: Request, baseline_memory: int) -> None:
    limits = (
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_NPROC, request.processes),
        (resource.RLIMIT_NOFILE, request.open_files),
        (resource.RLIMIT_FSIZE, request.file_size),
        (resource.RLIMIT_AS, baseline_memory + request.memory),
    )
    for which, value in limits:
        resource.setrlimit(which, (value, value))
    # The soft limit sends SIGXCPU, the hard one a second later SIGKILL, whatever the payload does.
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
