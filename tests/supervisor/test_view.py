"""Tests of the line output of `gaiwan up --no-tui`, which scripts and the test harness read."""

from __future__ import annotations

import pytest

from gaiwan.supervisor import LineReporter, ServiceRow


def test_one_line_per_change_with_reason(capsys: pytest.CaptureFixture[str]) -> None:
    """Each change prints time, service, state, pid, restarts, then the reason if any."""
    reporter = LineReporter()
    reporter.changed(ServiceRow("storage", "127.0.0.1:1", state="ready", pid=12, restarts=1))
    reporter.changed(ServiceRow("frontend", "127.0.0.1:2", state="failed",
                                reason="frontend cannot be attested"))
    reporter.note("ready")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1:5] for line in lines[:2]] == [
        ["storage", "ready", "pid=12", "restarts=1"],
        ["frontend", "failed", "pid=-", "restarts=0"],
    ]
    assert lines[1].endswith("frontend cannot be attested")
    assert lines[2].split()[1:] == ["platform", "ready"]
