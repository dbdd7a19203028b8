"""The argv block: Teaclave's flattening order and the pointer-table layout in module memory."""

from __future__ import annotations

import struct

from gaiwan.executors.wasm._argv import flatten, layout, pages_for


def test_flatten_orders_by_key() -> None:
    """Keys sort as Teaclave's JSON map does, each followed by its value."""
    assert flatten({"output_file_id": "o", "input_file_id2": "b", "input_file_id1": "a"}) == [
        "input_file_id1", "a", "input_file_id2", "b", "output_file_id", "o"]


def test_layout_places_pointers_then_nul_terminated_strings() -> None:
    """argv[i] points at the i-th NUL-terminated UTF-8 string right after the pointer table."""
    block = layout(["k", "vé"], base=0x10000)
    assert struct.unpack("<2I", block[:8]) == (0x10008, 0x1000A)
    assert block[8:] == b"k\0v\xc3\xa9\0"
    assert pages_for(len(block)) == 1 and pages_for(65537) == 2
