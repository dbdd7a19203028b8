"""The one extra process of the non-root sandbox: the payload runs as PID 1 of a PID namespace.

`unshare(CLONE_NEWPID)` leaves the caller outside the new namespace; only its next child is
inside, as PID 1. `become_pid1()` forks that child and returns in it alone. The caller becomes
a relay: it waits for the child, then ends the same way (the same exit code, or killed by the
same signal, without a core dump), so the template sees one process per task, exactly as on
the root path. The relay reaps the child before it ends, so the template's `wait4` counts the
child's CPU time too.

Both stay in the task's process group, so the template's kill of the group reaches both; the
child also dies with the relay (PR_SET_PDEATHSIG, set again because fork clears it, and a
check that the relay did not die before that). When PID 1 ends, the kernel kills whatever is
left in its namespace, so nothing a payload forks outlives it.

PID 1 differs from other processes in one way a payload can notice: a signal it has no
handler for that would kill it is dropped unless the kernel forces it. Faults (SIGSEGV, SIGBUS,
...) are forced and SIGKILL from outside the namespace always arrives, so crashes, kills and
cancels end the task as on the root path. What differs: RLIMIT_CPU's SIGXCPU is dropped, so a
busy payload is stopped by the hard limit's SIGKILL one second later (reported the same way,
`CPU time limit exceeded`, from the CPU time used); `abort()` ends as SIGSEGV (glibc's fallback
when SIGABRT does not kill); a signal the payload or its children send to PID 1 itself without
a handler does nothing; processes orphaned inside the namespace are the payload's to reap.

Rejected: a small init as PID 1 with the payload as its child (one more fork per task for the
differences above); clone() with CLONE_NEWPID straight from the template (Python has no clone,
and a raw clone through ctypes leaves libc and the interpreter thinking they are the parent).
"""

from __future__ import annotations

import ctypes
import os
import resource
import select
import signal
from typing import NoReturn

_PR_SET_PDEATHSIG = 1
_RELAY_FAILED = 125  # the relay could not end the way the child did (never expected)
_libc = ctypes.CDLL(None, use_errno=True)


def become_pid1() -> None:
    """Forks; returns in the child (PID 1 of the unshared PID namespace), never in the caller."""
    relay = os.pidfd_open(os.getpid())
    child = os.fork()
    if child == 0:
        _die_with(relay)
        return
    os.close(relay)
    _relay(child)


def _die_with(relay: int) -> None:
    """SIGKILL when the relay dies; if it died before this was set, no signal would come."""
    if _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        os._exit(_RELAY_FAILED)
    if select.select([relay], [], [], 0)[0]:  # a pidfd is readable once its process ended
        os._exit(_RELAY_FAILED)
    os.close(relay)


def _relay(child: int) -> NoReturn:
    try:
        _, status = os.waitpid(child, 0)
        if os.WIFSIGNALED(status):
            _die_of(os.WTERMSIG(status))
        os._exit(os.waitstatus_to_exitcode(status))
    finally:
        os._exit(_RELAY_FAILED)


def _die_of(sig: int) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # as the child had: no core file
    try:
        signal.signal(sig, signal.SIG_DFL)
    except (OSError, ValueError):
        pass  # SIGKILL and SIGSTOP keep their default action anyway
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {sig})
    os.kill(os.getpid(), sig)
