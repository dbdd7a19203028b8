"""The sandboxed Python executor (`python`, Teaclave's `mesapy`): payloads define
`entrypoint(argv)` and read and write the task's files with `teaclave_open`."""

from ._executor import PythonExecutor
from ._limits import Limits

__all__ = ["Limits", "PythonExecutor"]
