"""Tests of the supervisor's lock and state file (no platform needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gaiwan.errors import ConfigError
from gaiwan.home import Home
from gaiwan.supervisor import read_state
from gaiwan.supervisor._statefile import SupervisorLock, leftover_pids, write_state


def test_second_lock_on_same_home_is_refused(tmp_path: Path) -> None:
    """A second supervisor for the same home is refused while the first holds the lock."""
    home = Home.at(tmp_path)
    write_state(home, {"pid": 4242, "services": {}})
    first = SupervisorLock(home)
    first.acquire()
    try:
        with pytest.raises(ConfigError, match="pid 4242"):
            SupervisorLock(home).acquire()
    finally:
        first.release()
    again = SupervisorLock(home)
    again.acquire()
    again.release()


def test_state_round_trips_atomically(tmp_path: Path) -> None:
    """What is written is what `gaiwan status` reads, with an update time added."""
    home = Home.at(tmp_path)
    home.run.mkdir()
    write_state(home, {"pid": 1, "services": {"storage": {"pid": 2, "state": "ready"}}})
    state = read_state(home)
    assert state is not None
    assert state["services"]["storage"] == {"pid": 2, "state": "ready"}
    assert "updated_at" in state
    assert not list(home.run.glob("*.tmp"))


def test_leftover_pids_only_names_this_homes_services(tmp_path: Path) -> None:
    """Only live processes started as services of this home count as leftovers."""
    home = Home.at(tmp_path)
    home.run.mkdir()
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    ours = subprocess.Popen([*sleeper, "service", "storage", "--home", str(home.root)])
    other = subprocess.Popen([*sleeper, "service", "storage", "--home", "/elsewhere"])
    try:
        write_state(home, {"services": {
            "storage": {"pid": ours.pid}, "frontend": {"pid": other.pid},
            "scheduler": {"pid": None}}})
        assert leftover_pids(home) == [ours.pid]
    finally:
        for p in (ours, other):
            p.kill()
            p.wait()
