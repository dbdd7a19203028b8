"""`gaiwan status`: is every endpoint of the local platform serving?"""

from __future__ import annotations

import sys

import click

from ..home import Home


@click.command("status")
@click.option("--home", "home_dir", envvar="GAIWAN_HOME", type=click.Path(), default=None,
              help="Data directory (default: $GAIWAN_HOME or ./.gaiwan).")
@click.option("--timeout", default=3.0, show_default=True, help="Seconds per health check.")
def command(home_dir: str | None, timeout: float) -> None:
    """Check the health of every service; exit 0 only when all are serving."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ..attestation import operator_identity
    from ..config import Config
    from ..errors import GaiwanError
    from ..supervisor import check_all, read_state

    home = Home.at(home_dir)
    try:
        config = Config.load(home)
        probes = check_all(config, operator_identity(config), timeout)
    except GaiwanError as exc:
        raise click.ClickException(exc.message) from None
    supervised = (read_state(home) or {}).get("services", {})
    table = Table()
    for column in ("endpoint", "address", "kind", "health", "pid", "note"):
        table.add_column(column, overflow="fold")
    for probe in probes:
        info = supervised.get(probe.endpoint, {}) if not probe.public else {}
        table.add_row(
            probe.endpoint, probe.target, "public" if probe.public else "internal",
            Text(probe.detail, style="green" if probe.serving else "red"),
            str(info.get("pid") or "-"), str(info.get("reason") or ""),
        )
    console = Console(width=max(100, Console().width))
    console.print(f"mode: {config.mode}   home: {home.root}", soft_wrap=True, highlight=False)
    console.print(table)
    sys.exit(0 if all(p.serving for p in probes) else 1)
