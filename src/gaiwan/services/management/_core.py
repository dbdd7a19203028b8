"""The management core: function, file and task operations over one storage, without gRPC."""

from __future__ import annotations

import time
from collections.abc import Callable

from ...logs import Logger
from ._files import FileService
from ._functions import FunctionService
from ._store import Records, Storage
from ._task_service import CancelRunning, TaskService


class Management:
    """What the gRPC adapter calls; tests build it over LocalStorage with a fake cancel hook."""

    def __init__(self, storage: Storage, cancel_running: CancelRunning, log: Logger,
                 clock: Callable[[], float] = time.time) -> None:
        records = Records(storage)
        self.functions = FunctionService(records, log)
        self.files = FileService(records, log)
        self.tasks = TaskService(records, self.files, cancel_running, log, clock)
