"""`gaiwan service NAME`: run one service in the foreground (for multi-host deployments)."""

from __future__ import annotations

import sys

import click

from ..home import SERVICES, Home


@click.command("service")
@click.argument("name", type=click.Choice(SERVICES))
@click.option("--home", "home_dir", envvar="GAIWAN_HOME", type=click.Path(), default=None,
              help="Data directory (default: $GAIWAN_HOME or ./.gaiwan).")
@click.option("--log-stderr", is_flag=True, help="Log to stderr instead of the log file.")
def command(name: str, home_dir: str | None, log_stderr: bool) -> None:
    """Run service NAME alone, in the foreground."""
    from ..services.launcher import launch

    sys.exit(launch(name, Home.at(home_dir), log_to_file=not log_stderr))
