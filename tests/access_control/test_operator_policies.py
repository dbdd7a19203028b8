"""Operator policies: the examples shipped in docs/policies.md change outcomes as documented;
invalid files are refused naming file and line; a refused reload keeps the policies in force."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from gaiwan.config import Config, default_document
from gaiwan.errors import ConfigError
from gaiwan.home import Home
from gaiwan.logs import get_logger
from gaiwan.records import CryptoInfo, DataFile, Function, Task
from gaiwan.services.access_control import PolicyEngine
from gaiwan.roles import Role
from gaiwan.services.access_control.entities import (
    FRONTEND_API, run_request, task_entity, task_uid, user_entity, user_uid)
from gaiwan.services.access_control.service import AccessControlServicer, load_engine, packaged_policy_dir

DOC = Path(__file__).resolve().parents[2] / "docs" / "policies.md"
EXAMPLE_FUNCTION = "function-2b7e1c1e-5a1f-4c55-9a57-1d1c0de5a1ce"
BASE = packaged_policy_dir()
SCHEMA = (BASE / "schema.cedarschema").read_text()
PACKAGED = {str(p): p.read_text() for p in sorted(BASE.glob("*.cedar"))}

FN = Function("function-x", "fred", "f", "", "python", True, b"", owner_role="FunctionOwner")
EU_FN = dataclasses.replace(FN, function_id="function-eu", owner="erin", owner_role="DataOwnerManager-eu")


def _example(policy_id: str) -> str:
    """The ```cedar block of the doc that defines policy_id."""
    for block in re.findall(r"```cedar\n(.*?)```", DOC.read_text(), re.S):
        if f'@id("{policy_id}")' in block:
            return str(block)
    raise AssertionError(f"{policy_id} is not in {DOC.name}")


def _engine(**operator: str) -> PolicyEngine:
    return PolicyEngine(SCHEMA, {**PACKAGED, **{f"ops/{k}.cedar": v for k, v in operator.items()}})


def _data(data_id: str, owner: str, *tags: str) -> DataFile:
    return DataFile(data_id, "input", "https://h/x", (owner,), CryptoInfo("raw", b""), tags=tags)


def _may_run(engine: PolicyEngine, function: Function, file: DataFile) -> tuple[bool, tuple[str, ...]]:
    task = Task("task-1", file.owners[0], function.function_id, function.owner, {}, "python",
                participants=(file.owners[0],), assigned_inputs={"in": file.data_id})
    queries, entities = run_request(task, function, [file])
    decision = engine.authorize_all(queries, entities.as_list())[1]
    return decision.allowed, decision.policy_ids


def test_eu_only_example_keeps_tagged_data_with_eu_functions() -> None:
    """Tagged data is refused to a function whose owner lacks attribute eu, allowed to one with it."""
    engine = _engine(eu=_example("eu-only-data"))
    tagged = _data("input-1", "alice", "eu-only")
    assert _may_run(engine, FN, tagged) == (False, ("eu-only-data",))
    assert _may_run(engine, EU_FN, tagged)[0]
    assert _may_run(engine, FN, _data("input-2", "alice", "other"))[0]


def test_eu_only_example_changes_nothing_without_it() -> None:
    """Without the operator policy, tagged data runs with any function its owners approved."""
    assert _may_run(_engine(), FN, _data("input-1", "alice", "eu-only"))[0]


def test_owner_forbids_function_example() -> None:
    """Alice's forbid stops that function on her data only; other functions and owners are unaffected."""
    engine = _engine(alice=_example("alice-forbids-function"))
    banned = dataclasses.replace(FN, function_id=EXAMPLE_FUNCTION)
    assert _may_run(engine, banned, _data("input-1", "alice")) == (False, ("alice-forbids-function",))
    assert _may_run(engine, FN, _data("input-1", "alice"))[0]
    assert _may_run(engine, banned, _data("input-2", "bob"))[0]


def test_function_owners_approve_example() -> None:
    """With the example a FunctionOwner may make the approve call, and still approves only the
    tasks she participates in; without it the call is refused (spec §5)."""
    fred = user_entity("fred", Role.parse("FunctionOwner"))
    task = Task("task-1", "alice", "function-x", "fred", {}, "python", participants=("alice", "fred"))
    other = dataclasses.replace(task, task_id="task-2", participants=("alice",))

    def may(engine: PolicyEngine, action: str, resource: Task | None = None) -> bool:
        target = FRONTEND_API if resource is None else task_uid(resource.task_id)
        entities = [fred] if resource is None else [fred, task_entity(resource)]
        return engine.authorize(user_uid("fred"), action, target, entities).allowed

    engine = _engine(approve=_example("function-owners-approve"))
    assert may(engine, "approve_task") and may(engine, "get_task")
    assert may(engine, "user_approve_task", task) and not may(engine, "user_approve_task", other)
    assert not may(_engine(), "approve_task")


def test_validation_error_names_file_and_line() -> None:
    """A policy that does not match the schema is refused as `file:line` of that policy."""
    text = '// ops\n@id("ok")\npermit (principal, action, resource);\n\n@id("typo")\n' \
           'forbid (principal, action == Gaiwan::Action::"task_access_data", resource)\n' \
           'when { resource.tag.contains("x") };\n'
    with pytest.raises(ConfigError, match=r"ops/typo\.cedar:5: .*tag"):
        _engine(typo=text)


def test_parse_error_names_file_and_line() -> None:
    """A policy that does not parse is refused as `file:line` of the statement that fails."""
    text = '@id("a")\npermit (principal, action, resource);\n@id("b")\npermit (principal, act, resource);\n'
    with pytest.raises(ConfigError, match=r"ops/broken\.cedar:3: cannot parse"):
        _engine(broken=text)


def test_unterminated_policy_names_its_line() -> None:
    """A last policy without its `;` is named by the line where it starts."""
    text = '@id("a")\npermit (principal, action, resource);\n\n\nforbid (principal, action, resource)'
    with pytest.raises(ConfigError, match=r"ops/cut\.cedar:5"):
        _engine(cut=text)


def test_explain_origin_names_file_and_line() -> None:
    """Each loaded policy's origin is the file and line it starts at."""
    engine = _engine(alice=_example("alice-forbids-function"))
    assert str(engine.origin("alice-forbids-function")) == "ops/alice.cedar:1"
    assert engine.origin("function-disabled").file.endswith("resources.cedar")


def test_reload_applies_a_valid_set_and_keeps_the_old_one_on_error(tmp_path: Path) -> None:
    """A valid reload swaps the policy set and is announced before it is reported loaded; an
    invalid one is refused, not announced, and the set in force stays."""
    log = get_logger("test")
    config = Config(Home(tmp_path), default_document())
    status_file = tmp_path / "run" / "policies.json"
    announced: list[tuple[str, str]] = []

    def announce(subject: str) -> int:
        status = json.loads(status_file.read_text())  # what the reload command sees meanwhile
        announced.append((subject, status["policies"][0] if status["policies"] else ""))
        return 0

    servicer = AccessControlServicer(load_engine(config, log), log, announce)
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "alice.cedar").write_text(_example("alice-forbids-function"))
    status_file.parent.mkdir(parents=True)
    status_file.write_text(json.dumps({"generation": 0, "policies": []}))
    servicer.reload(config, 1)
    assert "alice-forbids-function" in servicer.engine.policy_ids
    # Announced by its fingerprint while the old status still stood.
    assert announced == [(servicer.engine.policy_set, "")]
    assert json.loads(status_file.read_text())["generation"] == 1
    in_force = servicer.engine
    (tmp_path / "policies" / "zz-bad.cedar").write_text('@id("bad")\npermit (principal, action, resource) when { x };')
    servicer.reload(config, 2)
    assert servicer.engine is in_force and len(announced) == 1
    status = json.loads(status_file.read_text())
    assert status["generation"] == 2 and "zz-bad.cedar:1" in status["error"]
    assert "alice-forbids-function" in status["policies"]
