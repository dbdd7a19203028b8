"""The Pythonic way in: one object per logged-in user, typed tasks, defaults from a Gaiwan home.

The Teaclave classes make a caller juggle two services, paths and a metadata dict; most programs
want "log in, run this function, give me the result". `Gaiwan` does that on top of those classes
and leaves them reachable (`.frontend`) for everything else.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from ..config import Config
from ..errors import ConfigError
from ..home import Home
from ._auth import AuthenticationService
from ._channel import TrustAnchors
from ._data import DataFlows
from ._frontend import FrontendService
from ._messages import OwnerList
from ._tasks import Task


def endpoint_address(home: Home, endpoint: str, address: str | None = None) -> str:
    """`address` if given, else the target of `endpoint` ("authentication_api"/"frontend_api")."""
    if address:
        return address
    if not home.exists():
        raise ConfigError(f"no platform configuration at {home.root}: give the {endpoint} address")
    return Config.load(home).target(endpoint)


def _owners(ownership: Mapping[str, Iterable[str]]) -> list[OwnerList]:
    return [OwnerList(name, list(uids)) for name, uids in ownership.items()]


class Gaiwan:
    """A user's session with a platform: frontend calls with the user's credentials attached."""

    def __init__(self, frontend: FrontendService, user_id: str, token: str) -> None:
        self.frontend = frontend
        self.user_id = user_id
        frontend.metadata = {"id": user_id, "token": token}
        self.data = DataFlows(frontend)
        """The data owner's calls: `upload_input`, `register_output`, `fetch_output`."""

    @classmethod
    def connect(cls, user_id: str, password: str, *, home: str | os.PathLike[str] | None = None,
                auth_address: str | None = None, frontend_address: str | None = None) -> "Gaiwan":
        """Verifies both endpoints, logs in and returns the session."""
        where = Home.at(home)
        trust = TrustAnchors.from_home(where)
        with AuthenticationService(endpoint_address(where, "authentication_api", auth_address),
                                   trust=trust) as auth:
            token = auth.user_login(user_id, password)
        return cls.with_token(user_id, token, home=where.root, frontend_address=frontend_address,
                              trust=trust)

    @classmethod
    def with_token(cls, user_id: str, token: str, *, home: str | os.PathLike[str] | None = None,
                   frontend_address: str | None = None, trust: TrustAnchors | None = None) -> "Gaiwan":
        """A session from a token obtained earlier (e.g. the CLI's stored login)."""
        where = Home.at(home)
        trust = trust or TrustAnchors.from_home(where)
        frontend = FrontendService(endpoint_address(where, "frontend_api", frontend_address), trust=trust)
        return cls(frontend, user_id, token)

    def create_task(self, function_id: str, executor: str, arguments: Mapping[str, Any] | None = None,
                    inputs_ownership: Mapping[str, Iterable[str]] | None = None,
                    outputs_ownership: Mapping[str, Iterable[str]] | None = None) -> str:
        return self.frontend.create_task(function_id, dict(arguments or {}), executor,
                                         _owners(inputs_ownership or {}),
                                         _owners(outputs_ownership or {}))

    def set_data_tags(self, data_id: str, tags: Iterable[str]) -> None:
        """Replaces the tags of a data item this user owns alone; an empty list clears them."""
        self.frontend.set_data_tags(data_id, tags)

    def task(self, task_id: str) -> Task:
        return Task.from_proto(self.frontend._task_proto(task_id))

    def wait(self, task_id: str, timeout: float | None = None) -> Task:
        """The task once ended, or as it stands after `timeout` seconds (check `Task.done`)."""
        return Task.from_proto(self.frontend._wait_proto(task_id, timeout))

    def run(self, function_id: str, executor: str, arguments: Mapping[str, Any] | None = None,
            timeout: float | None = None) -> Task:
        """Creates, invokes and waits for a task that needs no data and no other approvals."""
        task_id = self.create_task(function_id, executor, arguments)
        self.frontend.invoke_task(task_id)
        return self.wait(task_id, timeout)

    def close(self) -> None:
        self.frontend.close()

    def __enter__(self) -> "Gaiwan":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
