"""What an authorization decision costs: the policy engine alone, and AuthorizeBatch over gRPC/TLS
next to an empty call on the same channel, in the same run.

Run with `python -m bench.authz [--runs N]`. The requests are the ones management makes: GetTask
(one question over the caller and the task) and InvokeTask (the creator's right, the task's
function and each of its four data items, one batch). The figure that matters is the
difference between an AuthorizeBatch round trip and an empty round trip: what asking the access
control service adds to a management call (target: under 1 ms).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import time
from collections.abc import Callable
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc

from gaiwan.logs import get_logger
from gaiwan.records import CryptoInfo, DataFile, Function, Task, TaskStatus
from gaiwan.roles import Role
from gaiwan.rpc.pb import gaiwan_access_control_pb2_grpc as pb_grpc
from gaiwan.services.access_control import AccessControlClient, Entities, Query, user_entity, user_uid
from gaiwan.services.access_control.entities import run_request, task_entity, task_uid
from gaiwan.services.access_control.service import AccessControlServicer
from gaiwan.services.launcher import tune_interpreter
from tests.support.policies import packaged_engine

from ._baseline import _NAME, _self_signed

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_OVERHEAD_MS = 1.0
_EMPTY = "/bench.Echo/Echo"


def _requests() -> dict[str, tuple[list[Query], list[dict[str, object]]]]:
    owners = ("alice", "bob", "carol", "dave")
    fn = Function("function-1", "fred", "join", "", "python", False, b"", owner_role="FunctionOwner")
    files = [DataFile(f"input-{o}", "input", "https://h/x", (o,), CryptoInfo("aes-gcm-128", b"", b""))
             for o in owners]
    task = Task("task-1", "alice", fn.function_id, "fred", {}, "python",
                participants=(*owners, "fred"), approved_users=(*owners, "fred"),
                assigned_inputs={o: f.data_id for o, f in zip(owners, files)}, status=TaskStatus.APPROVED)
    alice = user_entity("alice", Role.parse("DataOwner-bank_a"))
    get_task = ([Query(user_uid("alice"), "user_access_task", task_uid(task.task_id))],
                Entities().add(alice, task_entity(task)).as_list())
    run_queries, run_entities = run_request(task, fn, files)
    invoke = ([Query(user_uid("alice"), "user_invoke_task", task_uid(task.task_id)), *run_queries],
              run_entities.add(alice).as_list())
    return {"get_task": get_task, "invoke_task": invoke}


def _timed(fn: Callable[[], object], runs: int) -> list[float]:
    return _interleaved({"": fn}, runs)[""]


def _interleaved(calls: dict[str, Callable[[], object]], runs: int) -> dict[str, list[float]]:
    """Latencies of each call, taken in turn round after round: a shared machine's speed drifts
    within seconds, and alternating makes the drift weigh on every figure alike, so the
    differences between them (what authorization adds) stay fair."""
    for _ in range(min(200, runs)):
        for fn in calls.values():
            fn()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(runs):
        for name, fn in calls.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return samples


def _p50_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _serve(key_pem: bytes, cert_pem: bytes, ports: "mp.Queue[int]", stop: Any) -> None:
    """The access control servicer and an empty method on one TLS server, in a process of its
    own tuned as a service's, as in a platform: a client in the same process would compete with
    it for the GIL."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb_grpc.add_GaiwanAccessControlServicer_to_server(
        AccessControlServicer(packaged_engine(), get_logger("bench")), server)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
        "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(lambda req, ctx: req)}),))
    port = server.add_secure_port("127.0.0.1:0", grpc.ssl_server_credentials([(key_pem, cert_pem)]))
    tune_interpreter()
    server.start()
    ports.put(port)
    stop.wait()
    server.stop(None)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.authz")
    parser.add_argument("--runs", type=int, default=3000)
    args = parser.parse_args()
    engine = packaged_engine()
    requests = _requests()
    for name, (queries, entities) in requests.items():
        assert all(d.allowed for d in engine.authorize_all(queries, entities)), name

    key_pem, cert_pem = _self_signed()
    spawn = mp.get_context("spawn")
    ports: mp.Queue[int] = spawn.Queue()
    stop = spawn.Event()
    server = spawn.Process(target=_serve, args=(key_pem, cert_pem, ports, stop), daemon=True)
    server.start()
    result: dict[str, object] = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                 "runs": args.runs}
    try:
        port = ports.get(timeout=60)
        creds = grpc.ssl_channel_credentials(root_certificates=cert_pem)
        with grpc.secure_channel(f"127.0.0.1:{port}", creds,
                                 options=[("grpc.ssl_target_name_override", _NAME)]) as channel:
            client = AccessControlClient(channel)
            empty = channel.unary_unary(_EMPTY)
            remote = _interleaved(
                {"": lambda: empty(b"", timeout=10),
                 **{name: lambda q=queries, e=entities: client.authorize_all(q, e)
                    for name, (queries, entities) in requests.items()}}, args.runs)
        empty_p50 = _p50_ms(remote[""])
        result["empty_rpc_p50_ms"] = empty_p50
        for name, (queries, entities) in requests.items():
            local = _timed(lambda q=queries, e=entities: engine.authorize_all(q, e), args.runs)
            result[name] = {
                "questions": len(queries),
                "engine_decisions_per_s": len(queries) * len(local) / sum(local),
                "engine_p50_ms": _p50_ms(local),
                "rpc_p50_ms": _p50_ms(remote[name]),
                "added_over_empty_rpc_ms": _p50_ms(remote[name]) - empty_p50,
                "added_per_question_ms": (_p50_ms(remote[name]) - empty_p50) / len(queries),
            }
    finally:
        stop.set()
        server.join(10)
    print(json.dumps(result, indent=2))
    calls = {name: v for name, v in result.items() if isinstance(v, dict)}
    for name, v in calls.items():
        print(f"{name}: {v['questions']} question(s) add {v['added_over_empty_rpc_ms']:.3f} ms "
              f"({v['added_per_question_ms']:.3f} ms each) over an empty RPC at p50")
    worst = max(v["added_over_empty_rpc_ms"] for v in calls.values())
    print(f"authorization adds {worst:.3f} ms over an empty RPC at p50 "
          f"(target < {TARGET_OVERHEAD_MS} ms): {'ok' if worst < TARGET_OVERHEAD_MS else 'MISSED'}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"authz-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
