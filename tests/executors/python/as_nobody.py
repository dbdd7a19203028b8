"""`python as_nobody.py COMMAND...`: runs COMMAND as uid/gid 65534 (`nobody`), no groups.

Started as root by the tests, in front of the sandbox template, so that the executor takes its
non-root path for real. Before dropping root it enters a mount namespace of its own where every
directory that keeps `nobody` from the interpreter (e.g. a pyenv under a 0700 /root) is covered
by an empty 0755 tmpfs holding only the subtree on the way to it: the host is left untouched and
nothing else of that directory becomes visible. Descriptors are inherited as they are.
"""

from __future__ import annotations

import os
import stat
import sys

from gaiwan.executors.python._sandbox import _check, _libc, _mount

NOBODY = 65534
_CLONE_NEWNS = 0x00020000
_MS_NOSUID, _MS_NODEV, _MS_BIND, _MS_REC, _MS_PRIVATE = 0x2, 0x4, 0x1000, 0x4000, 0x40000


def main() -> None:
    command = sys.argv[1:]
    _check(_libc.unshare(_CLONE_NEWNS), "unshare")
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)  # nothing done here reaches the host
    needed = {os.path.realpath(sys.executable), sys.base_prefix, sys.prefix,
              *os.environ.get("PYTHONPATH", "").split(os.pathsep)}
    for path in sorted(p for p in needed if os.path.isabs(p) and os.path.exists(p)):
        _expose(os.path.realpath(path))
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)
    os.execv(command[0], command)


def _expose(path: str) -> None:
    """Makes every directory above `path` searchable by others, hiding what else they hold."""
    parts = path.strip("/").split("/")
    for depth in range(len(parts) - 1):
        directory = "/" + "/".join(parts[:depth + 1])
        if os.stat(directory).st_mode & stat.S_IXOTH:
            continue
        child = directory + "/" + parts[depth + 1]
        keep = os.open(child, os.O_PATH | os.O_CLOEXEC)
        try:
            _mount("tmpfs", directory, "tmpfs", _MS_NOSUID | _MS_NODEV, "mode=0755")
            if stat.S_ISDIR(os.fstat(keep).st_mode):
                os.mkdir(child)
            else:
                open(child, "x").close()
            _mount(f"/proc/self/fd/{keep}", child, None, _MS_BIND | _MS_REC)
        finally:
            os.close(keep)


if __name__ == "__main__":
    main()
