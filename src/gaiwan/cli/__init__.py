"""The `gaiwan` command line: a thin layer over the SDK and the platform's own modules.

Each sub-command lives in its own module exposing `command` (a click command or group); they are
listed here so `gaiwan --help` shows them all.
"""

from __future__ import annotations

import importlib
import importlib.util

import click

_SUBCOMMANDS = {
    "init": "init_cmd",
    "up": "up_cmd",
    "service": "service_cmd",
    "status": "status_cmd",
    "enclave-info": "enclave_info_cmd",
    "attest": "attest_cmd",
    "user": "user_cmd",
    "function": "function_cmd",
    "task": "task_cmd",
    "data": "data_cmd",
    "file": "file_cmd",
    "files": "files_cmd",
    "policy": "policy_cmd",
}


class _LazyGroup(click.Group):
    """Imports a sub-command's module only when it runs, so the CLI starts fast."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n, m in _SUBCOMMANDS.items() if importlib.util.find_spec(f"{__name__}.{m}"))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = _SUBCOMMANDS.get(cmd_name)
        if module is None or importlib.util.find_spec(f"{__name__}.{module}") is None:
            return None
        return importlib.import_module(f"{__name__}.{module}").command  # type: ignore[no-any-return]


@click.group(cls=_LazyGroup)
@click.version_option(package_name="gaiwan")
def main() -> None:
    """Gaiwan: confidential function-as-a-service."""


