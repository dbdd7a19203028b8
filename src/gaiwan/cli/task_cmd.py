"""`gaiwan task`: create, approve, run and follow tasks through the frontend endpoint."""

from __future__ import annotations

from pathlib import Path

import click

from ..client import DataMap, Task
from ..home import Home
from ._client import echo_json, endpoint_options, one_line_errors, open_gaiwan, split_pair

_ENDPOINT = "frontend_api"


@click.group()
def command() -> None:
    """Create, approve, run and follow tasks."""


def _args(pairs: tuple[str, ...]) -> dict[str, str]:
    return dict(split_pair(p, "KEY=VALUE") for p in pairs)


def _owners(specs: tuple[str, ...]) -> dict[str, list[str]]:
    """`NAME=UID,UID` options into the ownership map; repeating NAME adds owners."""
    owners: dict[str, list[str]] = {}
    for spec in specs:
        name, uids = split_pair(spec, "NAME=UID[,UID...]")
        owners.setdefault(name, []).extend(u for u in uids.split(",") if u)
    return owners


def _finish(task: Task) -> None:
    """Prints a finished task's return value; anything else is one error line and exit 1."""
    if not task.done:
        raise click.ClickException(f"task {task.id} is still {task.status.name} (timed out waiting)")
    result = task.result()
    click.echo(result, nl=not result.endswith(b"\n"))


@command.command()
@click.argument("function_id")
@click.option("--executor", required=True, help="builtin, mesapy, wamr, ...")
@click.option("--arg", "arguments", multiple=True, metavar="KEY=VALUE")
@click.option("--input-owner", "input_owners", multiple=True, metavar="NAME=UID[,UID...]")
@click.option("--output-owner", "output_owners", multiple=True, metavar="NAME=UID[,UID...]")
@endpoint_options(_ENDPOINT)
@one_line_errors
def create(function_id: str, executor: str, arguments: tuple[str, ...],
           input_owners: tuple[str, ...], output_owners: tuple[str, ...], home: Path | None,
           address: str | None) -> None:
    """Create a task and print its id."""
    args, ins, outs = _args(arguments), _owners(input_owners), _owners(output_owners)
    with open_gaiwan(Home.at(home), address) as gw:
        click.echo(gw.create_task(function_id, executor, args, ins, outs))


@command.command()
@click.argument("task_id")
@click.option("--input", "inputs", multiple=True, metavar="NAME=DATA_ID")
@click.option("--output", "outputs", multiple=True, metavar="NAME=DATA_ID")
@endpoint_options(_ENDPOINT)
@one_line_errors
def assign(task_id: str, inputs: tuple[str, ...], outputs: tuple[str, ...], home: Path | None,
           address: str | None) -> None:
    """Assign your registered files to a task's inputs and outputs."""
    ins = [DataMap(*split_pair(i, "NAME=DATA_ID")) for i in inputs]
    outs = [DataMap(*split_pair(o, "NAME=DATA_ID")) for o in outputs]
    with open_gaiwan(Home.at(home), address) as gw:
        gw.frontend.assign_data_to_task(task_id, ins, outs)
    click.echo(f"assigned data to {task_id}")


def _simple(name: str, method: str, done: str, help_text: str) -> None:
    @command.command(name, help=help_text)
    @click.argument("task_id")
    @endpoint_options(_ENDPOINT)
    @one_line_errors
    def run_one(task_id: str, home: Path | None, address: str | None) -> None:
        with open_gaiwan(Home.at(home), address) as gw:
            getattr(gw.frontend, method)(task_id)
        click.echo(f"{done} {task_id}")


_simple("approve", "approve_task", "approved", "Approve a task you take part in.")
_simple("invoke", "invoke_task", "invoked", "Start a task you created.")
_simple("cancel", "cancel_task", "canceled", "Cancel a task you created.")


@command.command()
@click.argument("task_id")
@endpoint_options(_ENDPOINT)
@one_line_errors
def get(task_id: str, home: Path | None, address: str | None) -> None:
    """Show a task (JSON)."""
    with open_gaiwan(Home.at(home), address) as gw:
        echo_json(gw.frontend.get_task(task_id))


@command.command()
@click.argument("task_id")
@click.option("--timeout", type=click.FloatRange(min=0), default=None,
              help="Seconds to wait (default: until the task ends).")
@endpoint_options(_ENDPOINT)
@one_line_errors
def wait(task_id: str, timeout: float | None, home: Path | None, address: str | None) -> None:
    """Wait for a task to end and print its return value."""
    with open_gaiwan(Home.at(home), address) as gw:
        _finish(gw.wait(task_id, timeout))


@command.command()
@click.argument("function_id")
@click.option("--executor", required=True)
@click.option("--arg", "arguments", multiple=True, metavar="KEY=VALUE")
@click.option("--timeout", type=click.FloatRange(min=0), default=None)
@endpoint_options(_ENDPOINT)
@one_line_errors
def run(function_id: str, executor: str, arguments: tuple[str, ...], timeout: float | None,
        home: Path | None, address: str | None) -> None:
    """Create and invoke a task that needs no data, wait, and print its return value."""
    args = _args(arguments)
    with open_gaiwan(Home.at(home), address) as gw:
        _finish(gw.run(function_id, executor, args, timeout))
