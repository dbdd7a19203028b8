"""`gaiwan policy check | explain | reload` over policy files, without a running platform."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gaiwan.cli import main
from gaiwan.records import CryptoInfo, DataFile
from gaiwan.services.access_control.entities import data_entity

FORBID = ('// no reports for bob\n@id("bob-no-reads")\nforbid (principal == Gaiwan::User::"bob",\n'
          '  action == Gaiwan::Action::"user_access_data", resource);\n')


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_check_accepts_a_valid_directory(tmp_path: Path) -> None:
    """A directory of valid files passes, counting packaged and operator policies."""
    (tmp_path / "bob.cedar").write_text(FORBID)
    code, out = _run("policy", "check", str(tmp_path))
    assert code == 0 and out.startswith("ok: ") and "21 policies" in out


def test_check_refuses_naming_file_and_line(tmp_path: Path) -> None:
    """An invalid file fails the check with its name and the line of the bad policy."""
    (tmp_path / "bad.cedar").write_text(FORBID + '\n@id("x")\npermit (principal, action, resource)\n'
                                        'when { resource.colour == "red" };\n')
    code, out = _run("policy", "check", str(tmp_path))
    assert code == 1 and f"{tmp_path / 'bad.cedar'}:6" in out


def test_explain_an_api_call(tmp_path: Path) -> None:
    """An API check shows the permitting policy with file and line."""
    code, out = _run("policy", "explain", "--user", "alice", "--role", "DataOwner-bank_a",
                     "--action", "create_task", "--dir", str(tmp_path))
    assert code == 0 and out.startswith("ALLOW")
    assert "permitted by data-owner-api (" in out and "api.cedar:" in out


def test_explain_a_resource_denial(tmp_path: Path) -> None:
    """A resource decision with its entities shows the forbid that decided it and where it is."""
    (tmp_path / "bob.cedar").write_text(FORBID)
    file = DataFile("input-1", "input", "https://h/x", ("bob",), CryptoInfo("raw", b""))
    (tmp_path / "entities.json").write_text(json.dumps([data_entity(file)]))
    args = ["policy", "explain", "--user", "bob", "--role", "DataOwner-b", "--action", "user_access_data",
            "--resource", "Data::input-1", "--entities", str(tmp_path / "entities.json"), "--dir", str(tmp_path)]
    code, out = _run(*args)
    assert code == 0 and out.startswith("DENY")
    assert f"forbidden by bob-no-reads ({tmp_path / 'bob.cedar'}:2)" in out


def test_explain_default_deny(tmp_path: Path) -> None:
    """A request no policy permits says so."""
    code, out = _run("policy", "explain", "--user", "fred", "--role", "FunctionOwner",
                     "--action", "create_task", "--dir", str(tmp_path))
    assert code == 0 and "DENY" in out and "default deny" in out


def test_reload_without_a_running_service(tmp_path: Path) -> None:
    """Reload on a home whose access control service is not running says so."""
    assert _run("init", "--home", str(tmp_path / "home"))[0] == 0
    code, out = _run("policy", "reload", "--home", str(tmp_path / "home"))
    assert code == 1 and "not running" in out
