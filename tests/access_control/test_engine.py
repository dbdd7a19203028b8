"""Tests of the Cedar policy engine: the default policies against spec §5, and loading rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gaiwan.errors import ConfigError, InvalidArgument
from gaiwan.roles import Role
from gaiwan.services.access_control import FRONTEND_API, EntityUid, PolicyEngine, user_entity, user_uid
from gaiwan.services.access_control.service import packaged_policy_dir
from tests.support.spec_permissions import ALL_APIS, DATA_OWNER, FUNCTION_OWNER

POLICIES = packaged_policy_dir()
SCHEMA = (POLICIES / "schema.cedarschema").read_text()
API_POLICIES = (POLICIES / "api.cedar").read_text()

ALLOWED = {
    "PlatformAdmin": set(ALL_APIS),
    "FunctionOwner": FUNCTION_OWNER,
    "DataOwnerManager-bank_a": DATA_OWNER,
    "DataOwner-bank_a": DATA_OWNER,
}
MATRIX = [(role, api, api in allowed) for role, allowed in ALLOWED.items() for api in ALL_APIS]


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine.load(POLICIES / "schema.cedarschema", sorted(POLICIES.glob("*.cedar")))


def _check(engine: PolicyEngine, role: str, api: str):  # type: ignore[no-untyped-def]
    return engine.authorize(user_uid("u1"), api, FRONTEND_API, [user_entity("u1", Role.parse(role))])


def test_matrix_covers_all_22_public_calls() -> None:
    """The matrix under test has the 22 TeaclaveFrontend calls for 4 roles."""
    assert len(ALL_APIS) == 22 and len(MATRIX) == 88


@pytest.mark.parametrize("role,api,allowed", MATRIX)
def test_role_api_matrix(engine: PolicyEngine, role: str, api: str, allowed: bool) -> None:
    """Each role may make exactly the calls spec §5 gives it."""
    assert _check(engine, role, api).allowed is allowed


def test_decision_names_the_permitting_policy(engine: PolicyEngine) -> None:
    """An allow carries the @id of the policy that permitted it."""
    assert _check(engine, "FunctionOwner", "register_function").policy_ids == ("function-owner-api",)
    assert _check(engine, "DataOwner-x", "get_task").policy_ids == ("data-owner-api",)
    assert _check(engine, "PlatformAdmin", "query_audit_logs").policy_ids == ("platform-admin-api",)


def test_audit_denial_names_the_forbidding_policy(engine: PolicyEngine) -> None:
    """A non-admin asking for the audit log is denied by the explicit forbid, which is named."""
    decision = _check(engine, "DataOwnerManager-x", "query_audit_logs")
    assert not decision.allowed
    assert decision.policy_ids == ("audit-log-admin-only",)


def test_default_deny_names_no_policy(engine: PolicyEngine) -> None:
    """A call no policy permits is denied with no deciding policy."""
    decision = _check(engine, "FunctionOwner", "create_task")
    assert (decision.allowed, decision.policy_ids) == (False, ())


def test_operator_permit_cannot_open_the_audit_log() -> None:
    """The forbid wins over an operator policy that permits everyone everything."""
    extra = '@id("open")\npermit (principal, action, resource);'
    engine = PolicyEngine(SCHEMA, {"api.cedar": API_POLICIES, "extra.cedar": extra})
    assert not _check(engine, "FunctionOwner", "query_audit_logs").allowed
    assert _check(engine, "FunctionOwner", "create_task").policy_ids == ("open",)


def test_role_is_group_membership_not_name(engine: PolicyEngine) -> None:
    """A user whose role attribute says admin but who is not in the admin group is not an admin."""
    forged = {"uid": user_uid("m").as_json(),
              "attrs": {"id": "m", "role": "PlatformAdmin", "attribute": ""},
              "parents": [{"type": "Gaiwan::Role", "id": "DataOwner"}]}
    assert not engine.authorize(user_uid("m"), "query_audit_logs", FRONTEND_API, [forged]).allowed


def test_unknown_user_entity_is_denied(engine: PolicyEngine) -> None:
    """A principal without an entity (no role membership) is denied everything."""
    assert not engine.authorize(user_uid("ghost"), "get_task", FRONTEND_API, []).allowed


def test_invalid_policy_file_is_refused_naming_the_file() -> None:
    """A policy that does not match the schema stops loading, and the error names its file."""
    bad = '@id("typo")\npermit (principal, action, resource) when { principal.rol == "x" };'
    with pytest.raises(ConfigError, match=r"operator/typo\.cedar.*typo"):
        PolicyEngine(SCHEMA, {"api.cedar": API_POLICIES, "operator/typo.cedar": bad})


def test_unparsable_policy_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    """A file that is not Cedar at all is refused, named by its path."""
    bad = tmp_path / "broken.cedar"
    bad.write_text("permit (principal, action, resource) when {")
    with pytest.raises(ConfigError, match="broken.cedar"):
        PolicyEngine.load(POLICIES / "schema.cedarschema", [POLICIES / "api.cedar", bad])


def test_unknown_action_in_policy_is_refused() -> None:
    """A policy naming an action the schema lacks is invalid."""
    bad = '@id("x")\npermit (principal, action == Gaiwan::Action::"drop_tables", resource);'
    with pytest.raises(ConfigError, match="x.cedar"):
        PolicyEngine(SCHEMA, {"x.cedar": bad})


def test_policy_without_id_is_refused() -> None:
    """Every policy needs an @id so decisions can name it."""
    with pytest.raises(ConfigError, match=r"anon\.cedar.*@id"):
        PolicyEngine(SCHEMA, {"anon.cedar": "permit (principal, action, resource);"})


def test_duplicate_policy_id_across_files_is_refused() -> None:
    """Two policies with one @id would make decisions ambiguous."""
    dup = '@id("data-owner-api")\npermit (principal, action, resource);'
    with pytest.raises(ConfigError, match=r"dup\.cedar.*data-owner-api"):
        PolicyEngine(SCHEMA, {"api.cedar": API_POLICIES, "dup.cedar": dup})


def test_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    """A configured policy file that does not exist is a ConfigError naming it."""
    with pytest.raises(ConfigError, match="nowhere.cedar"):
        PolicyEngine.load(POLICIES / "schema.cedarschema", [tmp_path / "nowhere.cedar"])


def test_invalid_schema_is_refused() -> None:
    """A schema that does not parse stops loading."""
    with pytest.raises(ConfigError, match="schema"):
        PolicyEngine("namespace Gaiwan { entity", {})


def test_unknown_action_request_is_invalid_argument(engine: PolicyEngine) -> None:
    """Asking about an action the schema lacks is a caller bug, not a denial."""
    with pytest.raises(InvalidArgument, match="drop_tables"):
        _check(engine, "PlatformAdmin", "drop_tables")


def test_wrong_principal_type_is_invalid_argument(engine: PolicyEngine) -> None:
    """API actions apply to users only."""
    with pytest.raises(InvalidArgument):
        engine.authorize(EntityUid("Gaiwan::Api", "x"), "get_task", FRONTEND_API, [])


def test_entities_not_matching_schema_are_invalid_argument(engine: PolicyEngine) -> None:
    """An entity missing a declared attribute is rejected, without echoing the entities."""
    bad = [{"uid": user_uid("u").as_json(), "attrs": {"role": "DataOwner"}, "parents": []}]
    with pytest.raises(InvalidArgument, match="schema") as info:
        engine.authorize(user_uid("u"), "get_task", FRONTEND_API, bad)
    assert "DataOwner" not in info.value.message


def test_context_not_in_schema_is_invalid_argument(engine: PolicyEngine) -> None:
    """API actions take an empty context; extra fields are refused."""
    with pytest.raises(InvalidArgument):
        engine.authorize(user_uid("u"), "get_task", FRONTEND_API,
                         [user_entity("u", Role.parse("DataOwner-x"))], {"ip": "1.2.3.4"})


SCOPES = '''
@id("op-any") forbid (principal == Gaiwan::User::"mallory", action, resource);
@id("op-group") forbid (principal == Gaiwan::User::"eve", action in Gaiwan::Action::"api", resource);
@id("op-list") forbid (principal, action in [Gaiwan::Action::"get_task", Gaiwan::Action::"user_tag_data"],
                       resource) when { principal == Gaiwan::User::"eve" };
@id("op-eq") forbid (principal == Gaiwan::User::"eve", action == Gaiwan::Action::"cancel_task", resource);
'''


@pytest.mark.parametrize("user,api,expected", [
    ("mallory", "get_task", ("op-any",)),
    ("eve", "get_task", ("op-group", "op-list")),
    ("eve", "cancel_task", ("op-eq", "op-group")),
    ("eve", "create_task", ("op-group",)),
])
def test_every_action_scope_form_reaches_its_actions(user: str, api: str, expected: tuple[str, ...]) -> None:
    """Unconstrained, group, list and == scopes decide exactly the actions they name."""
    files = {str(p): p.read_text() for p in sorted(POLICIES.glob("*.cedar"))}
    engine = PolicyEngine(SCHEMA, {**files, "ops.cedar": SCOPES})
    decision = _check_user(engine, user, "DataOwner-bank_a", api)
    assert (decision.allowed, decision.policy_ids) == (False, expected)


def _check_user(engine: PolicyEngine, user: str, role: str, api: str):  # type: ignore[no-untyped-def]
    return engine.authorize(user_uid(user), api, FRONTEND_API, [user_entity(user, Role.parse(role))])


ERRING = '''
@id("op-errs") forbid (principal, action == Gaiwan::Action::"task_access_data", resource)
when { principal.function.owner_attribute == "x" };
'''


def test_decisions_are_those_of_cedarpys_wrapper_over_the_whole_set() -> None:
    """Mixed batches get the decisions, policy ids and errors cedarpy's public call gives over
    the whole policy set: the per-action subsets leave nothing out, and reading the extension's
    answers directly reads them right (denials, a context, a policy that errs included)."""
    import cedarpy

    from bench.authz import _requests
    from gaiwan.services.access_control import Query
    from gaiwan.services.access_control.entities import data_uid

    files = {str(p): p.read_text() for p in sorted(POLICIES.glob("*.cedar"))}
    engine = PolicyEngine(SCHEMA, {**files, "ops.cedar": ERRING})
    batches = [(queries, entities) for queries, entities in _requests().values()]
    queries, entities = batches[1]
    # Without the function's entity, the operator's forbid cannot read its owner: it errs.
    batches.append((queries[2:], [e for e in entities if e["uid"]["type"] != "Gaiwan::Function"]))
    for queries, entities in batches:
        extra = [Query(user_uid("alice"), a, FRONTEND_API) for a in ("get_task", "query_audit_logs")]
        extra.append(Query(user_uid("alice"), "user_assign_data", data_uid("input-alice"),
                           {"slot_owners": ["alice"]}))
        batch = [*queries, *extra]
        ours = engine.authorize_all(batch, entities)
        parsed = cedarpy.Entities.from_json_str(json.dumps(entities), engine._schema)
        whole = cedarpy.is_authorized_batch([{**q.as_request(), "context": dict(q.context)}
                                             for q in batch], engine._policies, parsed,
                                            schema=engine._schema)
        assert [(d.allowed, d.policy_ids, d.errors) for d in ours] == [
            (r.allowed, tuple(sorted(r.diagnostics.reasons)), tuple(map(str, r.diagnostics.errors)))
            for r in whole]
        assert any(not d.allowed for d in ours)
    assert any(d.errors for d in ours), "the last batch has a policy that errs"


def test_policy_set_fingerprint_names_what_decides() -> None:
    """Equal files give one fingerprint (across restarts); any change to a file, its name or the
    schema gives another; every decision carries the one of the set that made it."""
    files = {str(p): p.read_text() for p in sorted(POLICIES.glob("*.cedar"))}
    engine = PolicyEngine(SCHEMA, files)
    assert PolicyEngine(SCHEMA, dict(reversed(list(files.items())))).policy_set == engine.policy_set
    changed = {**files, "ops.cedar": ERRING}
    assert PolicyEngine(SCHEMA, changed).policy_set != engine.policy_set
    assert PolicyEngine(SCHEMA + "\n// a comment", files).policy_set != engine.policy_set
    decision = engine.authorize(user_uid("u1"), "get_task", FRONTEND_API,
                                [user_entity("u1", Role.parse("PlatformAdmin"))])
    assert decision.policy_set == engine.policy_set


def test_run_basis_only_for_a_run_allowed_by_one_known_set() -> None:
    """The basis names the deciding set and the entities' content, in any order; a refused run,
    answers of two sets or of an unknown one have none."""
    from gaiwan.services.access_control import Decision
    from gaiwan.services.access_control.entities import digest, run_basis

    entities = [user_entity("a", Role.parse("DataOwner-x")), user_entity("b", None)]
    allowed = [Decision(True, policy_set="s1"), Decision(True, policy_set="s1")]
    assert run_basis(allowed, entities) == f"s1:{digest(entities)}"
    assert digest(entities) == digest(list(reversed(entities)))
    assert digest(entities) != digest(entities[:1])
    assert run_basis([Decision(True, policy_set="s1"), Decision(False, policy_set="s1")], entities) == ""
    assert run_basis([Decision(True, policy_set="s1"), Decision(True, policy_set="s2")], entities) == ""
    assert run_basis([Decision(True)], entities) == ""
    assert run_basis([], entities) == ""
