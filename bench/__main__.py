"""`python -m bench`: start a platform, measure, print a table, keep the numbers as JSON."""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tests.support.platform import Platform

from . import crypto as file_crypto
from ._baseline import grpc_tls_round_trips
from ._echo import echo_timer, throughput

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_P50_MS = 20.0
ROUNDS = 10
BASELINE_CALLS = 1000


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--tasks", type=int, default=200, help="echo tasks for the latency run")
    parser.add_argument("--seconds", type=float, default=20.0, help="time cap per throughput run")
    parser.add_argument("--crypto-mib", type=int, default=64,
                        help="file size of the file crypto section (0 skips it)")
    args = parser.parse_args()
    console = Console()

    with tempfile.TemporaryDirectory(prefix="gaiwan-bench-") as tmp:
        console.print("starting a platform ...")
        platform = Platform(Path(tmp) / "home").init().start()
        try:
            # A shared machine's speed drifts by tens of percent within minutes: the baseline
            # and the echo tasks are measured in alternating rounds, so both figures come from
            # the same stretch of it.
            run_echo = echo_timer(platform)
            baseline: list[float] = []
            echo: list[float] = []
            with grpc_tls_round_trips() as round_trips:
                for _ in range(ROUNDS):
                    baseline += round_trips(BASELINE_CALLS // ROUNDS)
                    echo += [run_echo() for _ in range(max(1, args.tasks // ROUNDS))]
            rates = {c: throughput(platform, c, max_tasks=50 * c, max_seconds=args.seconds)
                     for c in (1, 4, 8)}
        finally:
            platform.stop()

    ms = 1000.0
    result = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "grpc_tls_round_trip_ms": {"p50": _percentile(baseline, 0.5) * ms,
                                   "p99": _percentile(baseline, 0.99) * ms,
                                   "n": len(baseline)},
        "echo_invoke_to_finished_ms": {"p50": _percentile(echo, 0.5) * ms,
                                       "p99": _percentile(echo, 0.99) * ms,
                                       "mean": statistics.fmean(echo) * ms, "n": len(echo)},
        "echo_tasks_per_s": {str(c): r for c, r in rates.items()},
        "grpc_round_trips_per_s": 1.0 / statistics.fmean(baseline),
    }
    table = Table(title="Gaiwan benchmark", title_justify="left")
    for column in ("measure", "p50 ms", "p99 ms", "per second"):
        table.add_column(column, justify="right" if column != "measure" else "left")
    b, e = result["grpc_tls_round_trip_ms"], result["echo_invoke_to_finished_ms"]
    table.add_row("bare gRPC/TLS round trip", f"{b['p50']:.2f}", f"{b['p99']:.2f}",
                  f"{result['grpc_round_trips_per_s']:.0f}")
    table.add_row("echo task: invoke -> Finished", f"{e['p50']:.2f}", f"{e['p99']:.2f}", "")
    for c, r in rates.items():
        table.add_row(f"echo tasks, {c} client{'s' if c > 1 else ''}", "", "", f"{r:.1f}")
    console.print(table)
    verdict = "met" if e["p50"] < TARGET_P50_MS else "missed"
    console.print(f"target echo p50 < {TARGET_P50_MS:.0f} ms: {verdict}")
    if args.crypto_mib:
        result["file_crypto"] = file_crypto.measure(args.crypto_mib)
        console.print(f"file crypto over {args.crypto_mib} MiB")
        console.print(file_crypto.table(result["file_crypto"]), highlight=False)
        for line in file_crypto.verdicts(result["file_crypto"]):
            console.print(line)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2))
    console.print(f"written {out}")


if __name__ == "__main__":
    main()
