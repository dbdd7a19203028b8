"""The management core: function, file and task operations over one storage, without gRPC."""

from __future__ import annotations

import time
from collections.abc import Callable

from ...logs import Logger
from ..access_control.engine import Authorizer
from ._files import FileService
from ._functions import FunctionService
from ._rules import Rules
from ._store import Records, Storage
from ._task_service import CancelRunning, TaskService


class Management:
    """What the gRPC adapter calls. authorizer: the access control service's client; tests build
    the core over LocalStorage with the policy engine in-process and a fake cancel hook."""

    def __init__(self, storage: Storage, authorizer: Authorizer, cancel_running: CancelRunning,
                 log: Logger, clock: Callable[[], float] = time.time) -> None:
        records = Records(storage)
        rules = Rules(authorizer)
        self.functions = FunctionService(records, rules, log)
        self.files = FileService(records, rules, log)
        self.tasks = TaskService(records, self.files, rules, cancel_running, log, clock)
