"""A service's shutdown deadline, in a real process: stuck threads cannot keep it alive."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from gaiwan.services.runtime import SHUTDOWN_OVERRAN

_SCRIPT = textwrap.dedent("""
    import sys, threading, time
    from pathlib import Path
    from gaiwan.logs import configure, get_logger
    from gaiwan.services.runtime import exit_after

    configure("probe", Path(sys.argv[1]))
    exit_after(float(sys.argv[2]), get_logger("probe"))
    if sys.argv[3] == "stuck":
        threading.Thread(target=threading.Event().wait).start()  # non-daemon, never ends
    else:
        time.sleep(0.05)
""")


def _run(tmp_path: Path, limit_s: float, mode: str) -> tuple[int, list[dict]]:
    log = tmp_path / "probe.log"
    proc = subprocess.run([sys.executable, "-c", _SCRIPT, str(log), str(limit_s), mode],
                          timeout=30, capture_output=True)
    lines = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return proc.returncode, lines


def test_a_thread_that_never_ends_cannot_hold_the_process(tmp_path: Path) -> None:
    """Interpreter exit joins non-daemon threads forever; the deadline ends the process anyway."""
    code, lines = _run(tmp_path, 0.5, "stuck")
    assert code == SHUTDOWN_OVERRAN
    assert [e["msg"] for e in lines] == ["shutdown overran its limit; exiting"]


def test_a_shutdown_within_the_limit_exits_normally(tmp_path: Path) -> None:
    """The armed timer neither delays nor changes a clean exit."""
    code, lines = _run(tmp_path, 20, "clean")
    assert code == 0
    assert lines == []
