"""What `gaiwan up` shows: a live table in a terminal, or one line per state change.

The line form is for logs, CI and the test harness: `<utc time> <service> <state> pid=<pid>
restarts=<n> [reason]`, and `<utc time> platform <ready|stopped>` for the platform as a whole.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

STATE_STYLES = {
    "starting": "yellow",
    "ready": "green",
    "restarting": "magenta",
    "failed": "bold red",
    "stopped": "dim",
}


@dataclass
class ServiceRow:
    """The supervisor's view of one service; also what supervisor.json records."""

    name: str
    endpoint: str
    state: str = "stopped"
    pid: int | None = None
    restarts: int = 0
    started: float | None = None
    reason: str = ""

    def uptime(self, now: float) -> str:
        if self.started is None or self.state in ("failed", "stopped", "restarting"):
            return "-"
        seconds = int(now - self.started)
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m{seconds % 60:02d}s"


def _utc() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Reporter(Protocol):
    def __enter__(self) -> "Reporter": ...
    def __exit__(self, *exc: object) -> None: ...
    def changed(self, row: ServiceRow) -> None: ...
    def note(self, text: str) -> None: ...


class LineReporter:
    """One line per change on stdout, flushed at once (readers follow it as it happens)."""

    def __enter__(self) -> "LineReporter":
        return self

    def __exit__(self, *exc: object) -> None:
        sys.stdout.flush()

    def changed(self, row: ServiceRow) -> None:
        line = f"{_utc()} {row.name} {row.state} pid={row.pid or '-'} restarts={row.restarts}"
        print(f"{line} {row.reason}" if row.reason else line, flush=True)

    def note(self, text: str) -> None:
        print(f"{_utc()} platform {text}", flush=True)


class LiveReporter:
    """A status table redrawn in place; rich refreshes it so uptimes keep counting."""

    def __init__(self, rows: Callable[[], list[ServiceRow]], title: str) -> None:
        self._rows = rows
        self._title = title
        self._notes: list[str] = []
        self._live = Live(get_renderable=self._render, refresh_per_second=2, transient=False)

    def _render(self) -> Group:
        now = time.time()
        table = Table(title=self._title, title_justify="left", expand=False)
        for column, width in (("service", 14), ("pid", 7), ("state", 10), ("restarts", 8),
                              ("uptime", 9), ("endpoint", 21)):
            table.add_column(column, no_wrap=True, min_width=width)
        table.add_column("note", no_wrap=True, overflow="ellipsis", max_width=40)
        for row in self._rows():
            table.add_row(
                row.name, str(row.pid or "-"),
                Text(row.state, style=STATE_STYLES.get(row.state, "")),
                str(row.restarts), row.uptime(now), row.endpoint, row.reason,
            )
        failures = [Text(f"{r.name}: {r.reason}", style="red")
                    for r in self._rows() if r.state == "failed"]
        notes = [Text(n, style="dim") for n in self._notes[-3:]]
        return Group(table, *failures, *notes)

    def __enter__(self) -> "LiveReporter":
        self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.stop()

    def changed(self, row: ServiceRow) -> None:
        self._live.refresh()

    def note(self, text: str) -> None:
        self._notes.append(f"{_utc()} {text}")
        self._live.refresh()
