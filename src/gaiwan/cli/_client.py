"""What the user, function and task commands share: where the platform is, who is logged in,
and how an error becomes one line on stderr.

The login session is the user's own credential, kept like an SSH key: a 0600 file in the home's
client/ folder, written atomically, never printed.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..client import AuthenticationService, Gaiwan, TrustAnchors
from ..client._gaiwan import endpoint_address
from ..errors import GaiwanError
from ..home import Home

F = TypeVar("F", bound=Callable[..., Any])

SESSION_FILE = "session.json"


def endpoint_options(endpoint: str) -> Callable[[F], F]:
    """--home and --address for a command talking to `endpoint`; the home's config is the default."""
    def decorate(fn: F) -> F:
        fn = click.option("--address", metavar="HOST:PORT", default=None,
                          help=f"The {endpoint} endpoint (default: from the home's configuration).")(fn)
        fn = click.option("--home", type=click.Path(file_okay=False, path_type=Path),
                          envvar="GAIWAN_HOME", default=None,
                          help="The Gaiwan home (default: $GAIWAN_HOME or ./.gaiwan).")(fn)
        return fn
    return decorate


def one_line_errors(fn: F) -> F:
    """Gaiwan errors (and refused attestation) end the command with one clear line, exit 1."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GaiwanError as err:
            raise click.ClickException(err.message) from None
        except (OSError, ValueError) as err:
            raise click.ClickException(str(err)) from None
    return wrapper  # type: ignore[return-value]


def session_path(home: Home) -> Path:
    return home.client / SESSION_FILE


def save_session(home: Home, user_id: str, token: str) -> None:
    path = session_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        os.fchmod(f.fileno(), 0o600)
        json.dump({"id": user_id, "token": token}, f)
    os.replace(tmp, path)


def load_session(home: Home) -> dict[str, str]:
    try:
        data = json.loads(session_path(home).read_text())
        return {"id": str(data["id"]), "token": str(data["token"])}
    except (OSError, ValueError, KeyError, TypeError):
        raise click.ClickException("not logged in: run `gaiwan user login ID` first") from None


def clear_session(home: Home) -> None:
    session_path(home).unlink(missing_ok=True)


def open_auth(home: Home, address: str | None) -> AuthenticationService:
    trust = TrustAnchors.from_home(home)
    return AuthenticationService(endpoint_address(home, "authentication_api", address), trust=trust)


def open_gaiwan(home: Home, address: str | None) -> Gaiwan:
    session = load_session(home)
    return Gaiwan.with_token(session["id"], session["token"], home=home.root,
                             frontend_address=address)


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True))


def split_pair(text: str, what: str) -> tuple[str, str]:
    """`NAME=VALUE` options; a missing '=' is a usage error, not a crash."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise click.BadParameter(f"{text!r} is not {what}")
    return name, value
