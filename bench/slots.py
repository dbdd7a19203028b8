"""`python -m bench.slots`: tasks per second with 1, 2 and 4 execution slots.

Each setting gets a fresh platform (`execution.slots` = N) and three workloads, each driven by
2N concurrent clients so every slot has a task waiting: the echo built-in (the platform's own
overhead), the same echo as a sandboxed Python payload (plus one fork from the template, the
sandbox set-up and its teardown per task), and a Python payload that sleeps 0.2 s (shows
whether slots really run side by side: the ceiling is N / 0.2 tasks per second). Counts and
time are bounded per run.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from gaiwan.client import FunctionArgument
from gaiwan.config import Config
from tests.support.platform import Platform

from ._echo import throughput

RESULTS = Path(__file__).resolve().parent / "results"
SLOTS = (1, 2, 4)
NAP_S = 0.2
PY_ECHO = "def entrypoint(argv):\n    return argv[1]\n"
PY_NAP = f"import time\ndef entrypoint(argv):\n    time.sleep({NAP_S})\n    return argv[1]\n"


def _register_python(source: str, client: Any) -> str:
    return str(client.register_function(
        name="bench-py", description="bench", executor_type="python", payload=source.encode(),
        arguments=[FunctionArgument("message")]))


def _register_echo(client: Any) -> str:
    return str(client.register_function(
        name="builtin-echo", description="bench echo", executor_type="builtin",
        arguments=[FunctionArgument("message")]))


WORKLOADS = {
    "echo built-in": (_register_echo, "builtin"),
    "Python echo payload": (partial(_register_python, PY_ECHO), "mesapy"),
    f"Python payload sleeping {NAP_S:g} s": (partial(_register_python, PY_NAP), "mesapy"),
}


def _measure(slots: int, tasks: int, seconds: float, console: Console) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="gaiwan-bench-slots-") as tmp:
        platform = Platform(Path(tmp) / "home").init()
        config = Config.load(platform.home)
        config.doc["execution"]["slots"] = slots
        config.save()
        console.print(f"starting a platform with {slots} slot{'s' if slots > 1 else ''} ...")
        platform.start()
        try:
            return {name: throughput(platform, 2 * slots, tasks, seconds, register, executor)
                    for name, (register, executor) in WORKLOADS.items()}
        finally:
            platform.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.slots")
    parser.add_argument("--tasks", type=int, default=120, help="most tasks per run")
    parser.add_argument("--seconds", type=float, default=8.0, help="time cap per run")
    args = parser.parse_args()
    console = Console()
    rates = {slots: _measure(slots, args.tasks, args.seconds, console) for slots in SLOTS}

    table = Table(title="Tasks per second by execution slots", title_justify="left")
    table.add_column("workload")
    for slots in SLOTS:
        table.add_column(f"{slots} slot{'s' if slots > 1 else ''}", justify="right")
    for name in WORKLOADS:
        table.add_row(name, *(f"{rates[s][name]:.1f}" for s in SLOTS))
    console.print(table)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"slots-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                               "tasks_per_s": {str(s): r for s, r in rates.items()},
                               "max_tasks": args.tasks, "max_seconds": args.seconds}, indent=2))
    console.print(f"written {out}")


if __name__ == "__main__":
    main()
