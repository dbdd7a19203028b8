"""`gaiwan policy`: check, reload and explain the access control policies.

`check` and `explain` work offline on the files (the same engine the service runs, so what
passes here loads there); `reload` asks the running access control service to load its files
again by sending it SIGHUP, then reports the outcome it wrote to `run/policies.json`. A signal
rather than an RPC because reloading is a local operator's act on a platform the operator
runs, and the service's mesh endpoint admits only the services that ask it for decisions.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import click

from ..home import Home

_HOME = click.option("--home", "home_dir", envvar="GAIWAN_HOME", type=click.Path(), default=None,
                     help="Data directory (default: $GAIWAN_HOME or ./.gaiwan).")
_DIR = click.Path(exists=True, file_okay=False, path_type=Path)
_RELOAD_WAIT_S = 10.0


def _config(home_dir: str | None) -> Any:
    """The platform's config if there is one (for its schema and policy directory), else None."""
    from ..config import Config

    home = Home.at(home_dir)
    return Config.load(home) if home.exists() else None


def _engine(home_dir: str | None, directory: Path | None) -> Any:
    from ..errors import ConfigError
    from ..services.access_control import PolicyEngine, operator_policy_dir
    from ..services.access_control.service import policy_paths, schema_path

    config = _config(home_dir)
    if directory is None:
        if config is None:
            raise click.ClickException("no Gaiwan platform here: give a policy directory or --home")
        directory = operator_policy_dir(config)
    try:
        return PolicyEngine.load(schema_path(config), policy_paths(directory))
    except ConfigError as exc:
        raise click.ClickException(exc.message) from None


@click.group("policy")
def command() -> None:
    """Check, reload and explain access control policies."""


@command.command("check")
@click.argument("directory", type=_DIR, required=False)
@_HOME
def check(directory: Path | None, home_dir: str | None) -> None:
    """Validate DIRECTORY's *.cedar files (default: the platform's policy directory) together
    with the packaged policies, against the schema; errors name the file and line."""
    engine = _engine(home_dir, directory)
    click.echo(f"ok: {len(engine.policy_ids)} policies")


@command.command("reload")
@_HOME
def reload(home_dir: str | None) -> None:
    """Make the running access control service load its policy files again. An invalid set is
    refused and the policies in force stay as they are."""
    from ..supervisor import read_state

    home = Home.at(home_dir)
    _engine(home_dir, None)  # refuse early, with file and line, what the service would refuse
    pid = ((read_state(home) or {}).get("services", {}).get("access_control", {}) or {}).get("pid")
    if not isinstance(pid, int):
        raise click.ClickException("the access control service is not running (see `gaiwan status`)")
    status_file = home.run / "policies.json"
    sent = time.time()
    os.kill(pid, signal.SIGHUP)
    deadline = time.monotonic() + _RELOAD_WAIT_S
    while time.monotonic() < deadline:
        status = _read_status(status_file)
        if status and status.get("at", 0) >= sent:
            if status.get("error"):
                raise click.ClickException(f"reload refused, previous policies stay in force: "
                                           f"{status['error']}")
            click.echo(f"reloaded: {len(status.get('policies', []))} policies, "
                       f"set {status.get('policy_set', '?')}")
            return
        time.sleep(0.05)
    raise click.ClickException("the access control service did not report a reload in time")


def _read_status(path: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None


@command.command("explain")
@click.option("--user", "user_id", required=True, help="The principal's user id.")
@click.option("--role", required=True, help="Its role, e.g. DataOwner-bank_a or PlatformAdmin.")
@click.option("--action", required=True, help="A Gaiwan action, e.g. get_task or user_access_data.")
@click.option("--resource", default="Api::frontend", show_default=True,
              help="TYPE::ID of the resource, e.g. Data::input-…; the type is in namespace Gaiwan.")
@click.option("--principal", "principal_ref", default=None,
              help="TYPE::ID when the principal is not the user (Task::task-… for task_* actions).")
@click.option("--entities", "entities_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="JSON list of further Cedar entities (the resource and what it names).")
@click.option("--context", "context_json", default="{}", help="Context as a JSON object.")
@click.option("--dir", "directory", type=_DIR, default=None,
              help="Operator policy directory (default: the platform's).")
@_HOME
def explain(user_id: str, role: str, action: str, resource: str, principal_ref: str | None,
            entities_file: Path | None, context_json: str, directory: Path | None,
            home_dir: str | None) -> None:
    """Show whether a request is allowed and which policies (file:line) decided it."""
    from ..errors import GaiwanError
    from ..roles import Role
    from ..services.access_control import Entities, user_entity, user_uid

    engine = _engine(home_dir, directory)
    try:
        entities = Entities().add(user_entity(user_id, Role.parse(role)))
        if entities_file is not None:
            entities.add(*json.loads(entities_file.read_text()))
        principal = _uid(principal_ref) if principal_ref else user_uid(user_id)
        decision = engine.authorize(principal, action, _uid(resource), entities.as_list(),
                                    json.loads(context_json))
    except (GaiwanError, ValueError) as exc:
        raise click.ClickException(getattr(exc, "message", str(exc))) from None
    click.echo(f"{'ALLOW' if decision.allowed else 'DENY'}: {principal.type}::\"{principal.id}\" "
               f"{action} {resource}")
    if not decision.policy_ids:
        click.echo("  no policy permits it (default deny)")
    for policy_id in decision.policy_ids:
        kind = "permitted by" if decision.allowed else "forbidden by"
        click.echo(f"  {kind} {policy_id} ({engine.origin(policy_id)})")
    for error in decision.errors:
        click.echo(f"  error (policy skipped): {error}")


def _uid(ref: str) -> Any:
    from ..services.access_control import EntityUid

    kind, sep, ident = ref.partition("::")
    if not sep or not ident:
        raise click.BadParameter(f"{ref!r} is not TYPE::ID")
    return EntityUid(kind if kind.startswith("Gaiwan::") else f"Gaiwan::{kind}", ident.strip('"'))
