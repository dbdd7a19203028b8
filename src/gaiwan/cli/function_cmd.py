"""`gaiwan function`: register and manage functions through the frontend endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import click

from ..client import FunctionArgument, FunctionInput, FunctionOutput
from ..home import Home
from ._client import echo_json, endpoint_options, one_line_errors, open_gaiwan, split_pair

_ENDPOINT = "frontend_api"


@click.group()
def command() -> None:
    """Register and manage functions."""


def _arguments(overwritable: tuple[str, ...], fixed: tuple[str, ...]) -> list[FunctionArgument]:
    args = []
    for text in overwritable:
        key, _, default = text.partition("=")
        if not key:
            raise click.BadParameter(f"{text!r} is not KEY[=DEFAULT]", param_hint="--argument")
        args.append(FunctionArgument(key, default, allow_overwrite=True))
    for text in fixed:
        key, value = split_pair(text, "KEY=VALUE")
        args.append(FunctionArgument(key, value, allow_overwrite=False))
    return args


@command.command()
@click.argument("name")
@click.option("--executor-type", required=True, help="builtin, python or wamr.")
@click.option("--description", default="")
@click.option("--public/--private", default=True, show_default=True)
@click.option("--payload", type=click.File("rb"), help="The function's code (Python source, wasm).")
@click.option("--argument", "arguments", multiple=True, metavar="KEY[=DEFAULT]",
              help="An argument each task sets (or leaves at DEFAULT).")
@click.option("--fixed-argument", "fixed", multiple=True, metavar="KEY=VALUE",
              help="An argument tasks cannot change.")
@click.option("--input", "inputs", multiple=True, metavar="NAME")
@click.option("--optional-input", "optional_inputs", multiple=True, metavar="NAME")
@click.option("--output", "outputs", multiple=True, metavar="NAME")
@click.option("--optional-output", "optional_outputs", multiple=True, metavar="NAME")
@click.option("--allow", "allowlist", multiple=True, metavar="USER",
              help="A user (or attribute) allowed to use a private function.")
@click.option("--quota", type=int, default=-1, show_default=True,
              help="Invocations allowed; negative means unlimited.")
@endpoint_options(_ENDPOINT)
@one_line_errors
def register(name: str, executor_type: str, description: str, public: bool,
             payload: BinaryIO | None, arguments: tuple[str, ...],
             fixed: tuple[str, ...], inputs: tuple[str, ...], optional_inputs: tuple[str, ...],
             outputs: tuple[str, ...], optional_outputs: tuple[str, ...],
             allowlist: tuple[str, ...], quota: int, home: Path | None, address: str | None) -> None:
    """Register a function and print its id."""
    args = _arguments(arguments, fixed)
    ins = [FunctionInput(n, "") for n in inputs] + [FunctionInput(n, "", True) for n in optional_inputs]
    outs = ([FunctionOutput(n, "") for n in outputs]
            + [FunctionOutput(n, "", True) for n in optional_outputs])
    code = payload.read() if payload is not None else b""
    with open_gaiwan(Home.at(home), address) as gw:
        click.echo(gw.frontend.register_function(
            name, description, executor_type, public=public, payload=code, arguments=args,
            inputs=ins, outputs=outs, user_allowlist=list(allowlist), usage_quota=quota))


@command.command()
@click.argument("function_id")
@endpoint_options(_ENDPOINT)
@one_line_errors
def get(function_id: str, home: Path | None, address: str | None) -> None:
    """Show a function (JSON)."""
    with open_gaiwan(Home.at(home), address) as gw:
        echo_json(gw.frontend.get_function(function_id))


@command.command("list")
@click.argument("user_id", required=False)
@endpoint_options(_ENDPOINT)
@one_line_errors
def list_(user_id: str | None, home: Path | None, address: str | None) -> None:
    """The functions USER_ID registered or may use (default: the logged-in user)."""
    with open_gaiwan(Home.at(home), address) as gw:
        echo_json(gw.frontend.list_functions(user_id or gw.user_id))


@command.command()
@click.argument("function_id")
@endpoint_options(_ENDPOINT)
@one_line_errors
def stats(function_id: str, home: Path | None, address: str | None) -> None:
    """Show a function's quota and usage (JSON)."""
    with open_gaiwan(Home.at(home), address) as gw:
        echo_json(gw.frontend.get_function_usage_stats(function_id))


@command.command()
@click.argument("function_id")
@endpoint_options(_ENDPOINT)
@one_line_errors
def delete(function_id: str, home: Path | None, address: str | None) -> None:
    """Delete a function you own."""
    with open_gaiwan(Home.at(home), address) as gw:
        gw.frontend.delete_function(function_id)
    click.echo(f"deleted {function_id}")


@command.command()
@click.argument("function_id")
@endpoint_options(_ENDPOINT)
@one_line_errors
def disable(function_id: str, home: Path | None, address: str | None) -> None:
    """Stop new tasks from using a function."""
    with open_gaiwan(Home.at(home), address) as gw:
        gw.frontend.disable_function(function_id)
    click.echo(f"disabled {function_id}")
