"""`entrypoint(argc, argv)` as Teaclave's WAMR executor calls it.

Teaclave flattens the task's arguments, ordered by key (its `FunctionArguments` is a JSON map,
kept sorted), into `[k1, v1, k2, v2, ...]`, copies each as a NUL-terminated string into the
module's memory and passes argc = the number of strings and argv = an array of i32 pointers to
them. So for `{"input_file_id1": "pf_in_a", ...}` argv[0] is "input_file_id1" and argv[1] is
"pf_in_a" (the millionaire example reads argv[1], argv[3], argv[5]).

WAMR copied them into an app heap it manages; wasmtime has none, and calling a `malloc` export
would trust the module's allocator before it has run. Instead the memory is grown by the pages
needed and the block is placed in them: pages past the old end belong to nobody yet, and a
module allocator that later grows memory gets fresh pages after them.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

from ._limits import WASM_PAGE


def flatten(arguments: Mapping[str, str]) -> list[str]:
    """[k1, v1, k2, v2, ...] in key order, as Teaclave's `FunctionArguments::into_vec`."""
    return [item for key in sorted(arguments) for item in (key, arguments[key])]


def layout(strings: list[str], base: int) -> bytes:
    """The argv block placed at `base`: the pointer array, then the NUL-terminated strings."""
    table_size = 4 * len(strings)
    encoded = [s.encode("utf-8") + b"\0" for s in strings]
    pointers, offset = [], base + table_size
    for item in encoded:
        pointers.append(offset)
        offset += len(item)
    return struct.pack(f"<{len(strings)}I", *pointers) + b"".join(encoded)


def pages_for(size: int) -> int:
    return -(-size // WASM_PAGE)
