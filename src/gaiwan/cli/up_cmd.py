"""`gaiwan up`: run the whole platform on this host in the foreground."""

from __future__ import annotations

import sys

import click

from ..home import Home


@click.command("up")
@click.option("--home", "home_dir", envvar="GAIWAN_HOME", type=click.Path(), default=None,
              help="Data directory (default: $GAIWAN_HOME or ./.gaiwan).")
@click.option("--no-tui", is_flag=True, help="Print one line per state change instead of a table.")
def command(home_dir: str | None, no_tui: bool) -> None:
    """Start every service, restart the ones that crash, stop them all on Ctrl-C."""
    from ..attestation import operator_identity
    from ..config import Config
    from ..errors import GaiwanError
    from ..supervisor import LineReporter, LiveReporter, Supervisor

    home = Home.at(home_dir)
    try:
        config = Config.load(home)
        supervisor = Supervisor(home, config, operator_identity(config))
        reporter = (LineReporter() if no_tui or not sys.stdout.isatty()
                    else LiveReporter(supervisor.snapshot, f"Gaiwan ({config.mode}) at {home.root}"))
        sys.exit(supervisor.run(reporter))
    except GaiwanError as exc:
        raise click.ClickException(exc.message) from None
