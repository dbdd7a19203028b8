"""Tests of the access control service: config-driven policy files, startup refusal, and
Authorize over real in-process gRPC with the typed client."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest

from gaiwan.config import Config, default_document
from gaiwan.home import Home
from gaiwan.logs import get_logger
from gaiwan.roles import Role
from gaiwan.rpc.interceptors import ServerInterceptor
from gaiwan.rpc.pb import gaiwan_access_control_pb2 as pb
from gaiwan.rpc.pb import gaiwan_access_control_pb2_grpc as pb_grpc
from gaiwan.services import access_control
from gaiwan.services.access_control import AccessControlClient, FRONTEND_API, Query, user_entity, user_uid
from gaiwan.services.access_control.service import AccessControlServicer, load_engine

LOG = get_logger("test")


def _config(tmp_path: Path, section: dict[str, Any] | None = None) -> Config:
    doc = default_document()
    if section is not None:
        doc["access_control"] = section
    return Config(Home(tmp_path), doc)


class FakeRuntime:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.log = LOG
        self.registered: list[Any] = []
        self.spawned: list[str] = []

    def serve_internal(self, *register: Any) -> None:
        self.registered.extend(register)

    def spawn(self, target: Any, name: str) -> None:
        self.spawned.append(name)

    def on_stop(self, callback: Any) -> None:
        pass


def test_packaged_policies_load_by_default(tmp_path: Path) -> None:
    """Without configuration the packaged schema and api.cedar are used."""
    engine = load_engine(_config(tmp_path), LOG)
    assert "platform-admin-api" in engine.policy_ids


def test_operator_policy_files_are_added(tmp_path: Path) -> None:
    """The *.cedar files of [access_control] policy_dir join the packaged ones."""
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "mine.cedar").write_text(
        '@id("fo-reads-tasks")\npermit (principal in Gaiwan::Role::"FunctionOwner",'
        ' action == Gaiwan::Action::"get_task", resource);')
    engine = load_engine(_config(tmp_path, {"policy_dir": "ops"}), LOG)
    role = Role.parse("FunctionOwner")
    decision = engine.authorize(user_uid("f"), "get_task", FRONTEND_API, [user_entity("f", role)])
    assert decision.allowed and decision.policy_ids == ("fo-reads-tasks",)


def test_main_refuses_to_start_on_invalid_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An invalid operator policy stops the service (exit 78) with the file named; nothing served."""
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "bad.cedar").write_text(
        '@id("b")\npermit (principal, action, resource) when { resource.x };')
    runtime = FakeRuntime(_config(tmp_path))
    with pytest.raises(SystemExit) as info:
        access_control.main(runtime)  # type: ignore[arg-type]
    assert info.value.code == 78
    assert "bad.cedar" in capsys.readouterr().out
    assert runtime.registered == []


def test_main_serves_authorize(tmp_path: Path) -> None:
    """With valid policies main registers the servicer, the announcements of reloads and its
    reload loop."""
    runtime = FakeRuntime(_config(tmp_path))
    access_control.main(runtime)  # type: ignore[arg-type]
    assert len(runtime.registered) == 2 and runtime.spawned == ["policy-reload"]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[AccessControlClient]:
    servicer = AccessControlServicer(load_engine(_config(tmp_path), LOG), LOG)
    server = grpc.server(futures.ThreadPoolExecutor(2), interceptors=[ServerInterceptor(LOG, None)])
    pb_grpc.add_GaiwanAccessControlServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield AccessControlClient(channel)
    channel.close()
    server.stop(None)


def test_check_api_over_grpc(client: AccessControlClient) -> None:
    """The client's coarse check returns the engine's decision with policy ids."""
    allowed = client.check_api("alice", Role.parse("DataOwner-a"), "create_task")
    assert allowed.allowed and allowed.policy_ids == ("data-owner-api",)
    assert len(allowed.policy_set) == 32  # the fingerprint of the set that decided
    denied = client.check_api("alice", Role.parse("DataOwner-a"), "query_audit_logs")
    assert not denied.allowed and denied.policy_ids == ("audit-log-admin-only",)


def test_denied_by_names_the_deciding_policies_of_a_recent_denial(client: AccessControlClient) -> None:
    """DeniedBy returns a denial's policies by its decision id; an unknown id is None."""
    denied = client.check_api("alice", Role.parse("DataOwner-a"), "query_audit_logs")
    assert denied.decision_id.startswith("d-")
    assert client.denied_by(denied.decision_id) == ("audit-log-admin-only",)
    assert client.denied_by("d-000000000000") is None


def test_recent_denials_are_bounded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only the last RECENT_DENIALS denials are remembered, the oldest forgotten first."""
    from gaiwan.services.access_control import service

    monkeypatch.setattr(service, "RECENT_DENIALS", 2)
    servicer = AccessControlServicer(load_engine(_config(tmp_path), LOG), LOG)
    for n in range(3):
        servicer._remember(f"d-{n}", (f"p{n}",))
    known = [servicer.DeniedBy(pb.DeniedByRequest(decision_id=f"d-{n}"), None).known  # type: ignore[arg-type]
             for n in range(3)]
    assert known == [False, True, True]


def test_unknown_action_is_invalid_argument_over_grpc(client: AccessControlClient) -> None:
    """A request naming no declared action fails with INVALID_ARGUMENT, not a silent deny."""
    from gaiwan.errors import InvalidArgument

    with pytest.raises(InvalidArgument):
        client.check_api("alice", Role.parse("PlatformAdmin"), "format_disk")


@pytest.mark.parametrize("entities,context", [("not json", ""), ("[]", "[1]"), ("[]", "{bad")])
def test_malformed_request_json_is_invalid_argument(client: AccessControlClient,
                                                    entities: str, context: str) -> None:
    """Undecodable entities or context are INVALID_ARGUMENT."""
    request = pb.AuthorizeRequest(principal=pb.EntityRef(type="Gaiwan::User", id="a"),
                                  action="get_task",
                                  resource=pb.EntityRef(type="Gaiwan::Api", id="frontend"),
                                  entities_json=entities, context_json=context)
    with pytest.raises(grpc.RpcError) as info:
        client._stub.Authorize(request)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_every_answer_names_the_policy_set_that_decided(client: AccessControlClient) -> None:
    """Over the wire, a batch's answers and a single answer carry the same fingerprint (what
    the scheduler compares InvokeTask's decisions against)."""
    single = client.check_api("alice", Role.parse("DataOwner-a"), "create_task")
    batch = client.authorize_all([Query(user_uid("alice"), a, FRONTEND_API)
                                  for a in ("create_task", "query_audit_logs")],
                                 [user_entity("alice", Role.parse("DataOwner-a"))])
    assert [d.allowed for d in batch] == [True, False]
    assert {d.policy_set for d in batch} == {single.policy_set} and len(single.policy_set) == 32
