"""A seccomp-BPF filter for the payload process, built and loaded with ctypes.

The filter is a deny list on top of the namespaces, not the main wall: it takes away the kernel
interfaces a payload has no use for and that widen the attack surface of a shared kernel
(ptrace, mount and namespace calls, kernel keyrings, bpf, io_uring, module loading, clock and
host settings), every socket family but AF_UNIX, clone with namespace flags, `execve` (a payload
is Python code; running host binaries, e.g. through ctypes `system()`, is refused), and
`setsid`/`setpgid` (so no process can leave the task's process group and outlive a kill).
`clone3` answers ENOSYS, the usual way to make libc fall back to `clone`, whose flags a classic
BPF filter can inspect. Syscalls of a foreign ABI (i386, x32) kill the process.

Rejected alternatives: libseccomp's own Python bindings are not published on PyPI (only as a
distribution package for the system interpreter); `pyseccomp` (a ctypes wrapper) has had no
release since 2021; the other PyPI bindings are young single-maintainer projects. A filter of
this size is ~100 BPF instructions, written here against the kernel ABI with no dependency.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import socket

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2

_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
_RET_ALLOW = 0x7FFF0000

_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_JSET_K = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_RET_K = 0x06  # BPF_RET | BPF_K

_NR, _ARCH, _ARG0 = 0, 4, 16  # offsets in struct seccomp_data (arg0's low word, little endian)

_NAMESPACE_FLAGS = 0x7E020000  # CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET

_DENIED = (
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "open_tree", "move_mount",
    "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "mknodat",
    "open_by_handle_at", "name_to_handle_at", "quotactl", "swapon", "swapoff",
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "fanotify_init",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "reboot", "acct", "syslog", "vhangup", "lookup_dcookie", "personality",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname",
    "execve", "execveat", "setsid", "setpgid",
)
_X86_64_ONLY = ("iopl", "ioperm", "mknod", "uselib", "modify_ldt")

# Syscall numbers per ABI: asm/unistd_64.h (x86_64) and asm-generic/unistd.h (aarch64).
_X86_64 = {
    "socket": 41, "clone": 56, "clone3": 435, "ptrace": 101, "process_vm_readv": 310,
    "process_vm_writev": 311, "kcmp": 312, "pidfd_getfd": 438, "mount": 165, "umount2": 166,
    "pivot_root": 155, "chroot": 161, "unshare": 272, "setns": 308, "open_tree": 428,
    "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "mount_setattr": 442, "mknodat": 259, "open_by_handle_at": 304, "name_to_handle_at": 303,
    "quotactl": 179, "swapon": 167, "swapoff": 168, "keyctl": 250, "add_key": 248,
    "request_key": 249, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323,
    "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "fanotify_init": 300,
    "kexec_load": 246, "kexec_file_load": 320, "init_module": 175, "finit_module": 313,
    "delete_module": 176, "reboot": 169, "acct": 163, "syslog": 103, "vhangup": 153,
    "lookup_dcookie": 212, "personality": 135, "settimeofday": 164, "clock_settime": 227,
    "clock_adjtime": 305, "adjtimex": 159, "sethostname": 170, "setdomainname": 171,
    "execve": 59, "execveat": 322, "setsid": 112, "setpgid": 109,
    "iopl": 172, "ioperm": 173, "mknod": 133, "uselib": 134, "modify_ldt": 154,
}
_AARCH64 = {
    "socket": 198, "clone": 220, "clone3": 435, "ptrace": 117, "process_vm_readv": 270,
    "process_vm_writev": 271, "kcmp": 272, "pidfd_getfd": 438, "mount": 40, "umount2": 39,
    "pivot_root": 41, "chroot": 51, "unshare": 97, "setns": 268, "open_tree": 428,
    "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "mount_setattr": 442, "mknodat": 33, "open_by_handle_at": 265, "name_to_handle_at": 264,
    "quotactl": 60, "swapon": 224, "swapoff": 225, "keyctl": 219, "add_key": 217,
    "request_key": 218, "bpf": 280, "perf_event_open": 241, "userfaultfd": 282,
    "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "fanotify_init": 262,
    "kexec_load": 104, "kexec_file_load": 294, "init_module": 105, "finit_module": 273,
    "delete_module": 106, "reboot": 142, "acct": 89, "syslog": 116, "vhangup": 58,
    "lookup_dcookie": 18, "personality": 92, "settimeofday": 170, "clock_settime": 112,
    "clock_adjtime": 266, "adjtimex": 171, "sethostname": 161, "setdomainname": 162,
    "execve": 221, "execveat": 281, "setsid": 157, "setpgid": 154,
}
# machine -> (AUDIT_ARCH_*, syscall table, first number of a foreign ABI sharing the arch value)
_ABIS = {
    "x86_64": (0xC000003E, _X86_64, 0x40000000),
    "aarch64": (0xC00000B7, _AARCH64, None),
}


_libc = ctypes.CDLL(None, use_errno=True)


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def supported() -> bool:
    """Whether this machine's ABI has a syscall table here (x86_64, aarch64)."""
    return platform.machine() in _ABIS


def program(machine: str) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k) instructions for `machine`. Pure, so it can be tested."""
    arch, table, foreign_from = _ABIS[machine]
    deny = _RET_ERRNO | errno.EPERM
    code = [(_LD_W_ABS, 0, 0, _ARCH), (_JEQ_K, 1, 0, arch), (_RET_K, 0, 0, _RET_KILL_PROCESS),
            (_LD_W_ABS, 0, 0, _NR)]
    if foreign_from is not None:
        code += [(_JGE_K, 0, 1, foreign_from), (_RET_K, 0, 0, _RET_KILL_PROCESS)]
    names = _DENIED + (_X86_64_ONLY if machine == "x86_64" else ())
    for name in names:
        code += [(_JEQ_K, 0, 1, table[name]), (_RET_K, 0, 0, deny)]
    code += [(_JEQ_K, 0, 1, table["clone3"]), (_RET_K, 0, 0, _RET_ERRNO | errno.ENOSYS)]
    code += [(_JEQ_K, 0, 4, table["socket"]), (_LD_W_ABS, 0, 0, _ARG0),
             (_JEQ_K, 0, 1, socket.AF_UNIX), (_RET_K, 0, 0, _RET_ALLOW),
             (_RET_K, 0, 0, _RET_ERRNO | errno.EAFNOSUPPORT)]
    code += [(_JEQ_K, 0, 4, table["clone"]), (_LD_W_ABS, 0, 0, _ARG0),
             (_JSET_K, 0, 1, _NAMESPACE_FLAGS), (_RET_K, 0, 0, deny), (_RET_K, 0, 0, _RET_ALLOW)]
    code.append((_RET_K, 0, 0, _RET_ALLOW))
    return code


def number(name: str) -> int:
    """This machine's number of syscall `name` (one of those the filter knows)."""
    return _ABIS[platform.machine()][1][name]


def no_new_privs() -> None:
    """Sets no_new_privs: no exec can ever grant privileges again (setuid bits, file caps)."""
    if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")


def install() -> None:
    """Sets no_new_privs and loads the filter into the calling (single-threaded) process.

    Raises OSError if the kernel refuses either; the caller must not run the payload then."""
    no_new_privs()
    code = program(platform.machine())
    filters = (_SockFilter * len(code))(*(_SockFilter(*ins) for ins in code))
    prog = _SockFprog(len(code), filters)
    if _libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "loading the seccomp filter failed")
