"""The one error of the transport: a `FunctionError`, so a failed transfer ends the task Failed
with a reason that names the file by its function input or output name.

The reason never quotes the URL: its query may hold a signed token and its user info a password,
and the reason is shown to every participant of the task.
"""

from __future__ import annotations

from ..executors import FunctionError


class TransportError(FunctionError):
    """A file could not be fetched or uploaded; `reason` is "<label>: <problem>"."""

    def __init__(self, label: str, problem: str) -> None:
        super().__init__(f"{label}: {problem}")
        self.label = label
        self.problem = problem
