"""`gaiwan user`: log in and manage accounts through the authentication endpoint."""

from __future__ import annotations

from pathlib import Path

import click

from ..client import AuthenticationService
from ..home import Home
from ._client import (clear_session, endpoint_options, load_session, one_line_errors, open_auth,
                      save_session)

_ENDPOINT = "authentication_api"


@click.group()
def command() -> None:
    """Log in and manage platform users."""


@command.command()
@click.argument("user_id")
@click.option("--password", help="Prompted for when absent (keeps it out of shell history).")
@endpoint_options(_ENDPOINT)
@one_line_errors
def login(user_id: str, password: str | None, home: Path | None, address: str | None) -> None:
    """Log in and keep the session token for later commands."""
    where = Home.at(home)
    if password is None:
        password = click.prompt("Password", hide_input=True)
    with open_auth(where, address) as auth:
        token = auth.user_login(user_id, password)
    save_session(where, user_id, token)
    click.echo(f"logged in as {user_id}")


@command.command()
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), envvar="GAIWAN_HOME")
def logout(home: Path | None) -> None:
    """Forget the stored session token."""
    clear_session(Home.at(home))


def _authed(home: Path | None, address: str | None) -> AuthenticationService:
    where = Home.at(home)
    session = load_session(where)
    auth = open_auth(where, address)
    auth.metadata = session
    return auth


@command.command()
@click.argument("user_id")
@click.option("--role", required=True,
              help="PlatformAdmin, FunctionOwner, DataOwnerManager or DataOwner.")
@click.option("--attribute", default="", help="The attribute of DataOwner(Manager) roles.")
@click.option("--password", help="Prompted for (twice) when absent.")
@endpoint_options(_ENDPOINT)
@one_line_errors
def register(user_id: str, role: str, attribute: str, password: str | None, home: Path | None,
             address: str | None) -> None:
    """Create a user."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _authed(home, address) as auth:
        auth.user_register(user_id, password, role, attribute)
    click.echo(f"registered {user_id}")


@command.command()
@click.argument("user_id")
@click.option("--role", required=True)
@click.option("--attribute", default="")
@click.option("--password", help="Prompted for (twice) when absent.")
@endpoint_options(_ENDPOINT)
@one_line_errors
def update(user_id: str, role: str, attribute: str, password: str | None, home: Path | None,
           address: str | None) -> None:
    """Change a user's password, role or attribute."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _authed(home, address) as auth:
        auth.user_update(user_id, password, role, attribute)
    click.echo(f"updated {user_id}")


@command.command("reset-password")
@click.argument("user_id")
@endpoint_options(_ENDPOINT)
@one_line_errors
def reset_password(user_id: str, home: Path | None, address: str | None) -> None:
    """Give a user a new random password and print it."""
    with _authed(home, address) as auth:
        click.echo(auth.reset_user_password(user_id))


@command.command("change-password")
@click.option("--password", help="The new password; prompted for (twice) when absent.")
@endpoint_options(_ENDPOINT)
@one_line_errors
def change_password(password: str | None, home: Path | None, address: str | None) -> None:
    """Change the logged-in user's own password."""
    if password is None:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    with _authed(home, address) as auth:
        auth.user_change_password(password)
    click.echo("password changed")


@command.command()
@click.argument("user_id")
@endpoint_options(_ENDPOINT)
@one_line_errors
def delete(user_id: str, home: Path | None, address: str | None) -> None:
    """Delete a user."""
    with _authed(home, address) as auth:
        auth.delete_user(user_id)
    click.echo(f"deleted {user_id}")


@command.command("list")
@click.argument("user_id", required=False)
@endpoint_options(_ENDPOINT)
@one_line_errors
def list_(user_id: str | None, home: Path | None, address: str | None) -> None:
    """List the users USER_ID may see (default: the logged-in user)."""
    with _authed(home, address) as auth:
        for uid in auth.list_users(user_id or auth.metadata["id"]):
            click.echo(uid)
