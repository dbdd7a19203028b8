"""Users of a real platform for multi-party tests: each a logged-in `Gaiwan` session.

Ids carry a random suffix so modules sharing one platform never collide or reuse each other's
users.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gaiwan.client import (AuthenticationService, DataMap, FunctionArgument, FunctionInput,
                           FunctionOutput, Gaiwan, TaskStatus)
from tests.fixtures import teaclave_fixture
from tests.support.platform import Platform

ZERO_KEY = bytes(16)


def add_user(platform: Platform, name: str, role: str, attribute: str = "") -> Gaiwan:
    """Registers `name-<random>` with the role (as admin) and returns its logged-in session."""
    user_id = f"{name}-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(16)
    home = platform.home
    with AuthenticationService(platform.endpoints["authentication_api"], home.as_root_ca_cert,
                               home.enclave_info) as auth:
        auth.user_login("admin", platform.admin_password)
        auth.user_register(user_id, password, role, attribute)
    return Gaiwan.connect(user_id, password, home=home.root)


def register_builtin(owner: Gaiwan, name: str, arguments: Iterable[str] = (),
                     inputs: Iterable[str] = (), outputs: Iterable[str] = (), public: bool = True,
                     allowlist: Iterable[str] = ()) -> str:
    """Registers a built-in function with the named arguments and files; returns its id."""
    return owner.frontend.register_function(
        name=name, description=name, executor_type="builtin", public=public,
        arguments=[FunctionArgument(a) for a in arguments],
        inputs=[FunctionInput(i, i) for i in inputs], outputs=[FunctionOutput(o, o) for o in outputs],
        user_allowlist=list(allowlist))


def approve_all(task_id: str, parties: Sequence[Gaiwan]) -> None:
    for party in parties:
        party.frontend.approve_task(task_id)


def close_all(parties: Iterable[Gaiwan]) -> None:
    for party in parties:
        party.close()


def finished(user: Gaiwan, task_id: str, timeout: float = 180) -> bytes:
    """Invokes the task as `user` and returns its result once it finished (fails otherwise)."""
    user.frontend.invoke_task(task_id)
    task = user.wait(task_id, timeout)
    assert task.status is TaskStatus.FINISHED, task
    return task.result()


LR_ARGS = {"alg_alpha": 0.3, "alg_iters": 100, "feature_size": 30}


@dataclass(frozen=True)
class FusionModel:
    """A logistic-regression training task of `writer_owner` whose model goes to a fusion output
    of both owners, created, assigned and approved by both; not yet invoked."""

    train_fn: str
    predict_fn: str
    fusion: str
    writer: str


def fusion_model_task(carol: Gaiwan, dave: Gaiwan, owner: Gaiwan, tmp_path: Path) -> FusionModel:
    train_fn = register_builtin(owner, "builtin-logistic-regression-train", list(LR_ARGS),
                                ["training_data"], ["model_file"])
    predict_fn = register_builtin(owner, "builtin-logistic-regression-predict", [],
                                  ["model_file", "data_file"], ["result_file"])
    both = [carol.user_id, dave.user_id]
    fusion = carol.frontend.register_fusion_output(both)
    train = carol.data.upload_input(
        teaclave_fixture("functions/logistic_regression_training/train.txt"),
        (tmp_path / "lr-train.enc").as_uri())
    writer = carol.create_task(train_fn, "builtin", LR_ARGS, {"training_data": [carol.user_id]},
                               {"model_file": both})
    carol.frontend.assign_data_to_task(writer, [DataMap("training_data", train.data_id)],
                                       [DataMap("model_file", fusion)])
    approve_all(writer, [carol, dave])
    return FusionModel(train_fn, predict_fn, fusion, writer)
