"""Turning what wasmtime raises into the reasons a task's participants read.

Reasons name the kind of failure and nothing of the host: wasmtime's messages carry a wasm
backtrace (module offsets and function names from the payload itself, never host paths), so at
most their first line is kept.
"""

from __future__ import annotations

import re

import wasmtime

FUEL_EXHAUSTED = "fuel exhausted"
MEMORY_EXCEEDED = "memory limit exceeded"


def first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "unknown error"


def trap_reason(exc: wasmtime.Trap) -> str:
    """"wasm trap: <kind>" for a trap; "fuel exhausted" when the CPU bound ran out."""
    code = exc.trap_code
    if code is wasmtime.TrapCode.OUT_OF_FUEL:
        return FUEL_EXHAUSTED
    if code is not None:
        return f"wasm trap: {code.name.lower().replace('_', ' ')}"
    return f"wasm trap: {first_line(exc.message)}"


def error_reason(exc: wasmtime.WasmtimeError) -> str:
    """The reason for a wasmtime error that is neither a trap nor one of our own interrupts:
    the first cause wasmtime lists (its first line is only "error while executing at ...")."""
    message = str(exc)
    _, marker, causes = message.partition("Caused by:")
    cause = first_line(causes) if marker else first_line(message)
    return f"wasm error: {re.sub(r'^[0-9]+: ', '', cause)}"
