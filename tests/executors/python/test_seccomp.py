"""The seccomp program: well-formed BPF whose jumps stay inside it, for every supported ABI."""

from __future__ import annotations

import pytest

from gaiwan.executors.python import _seccomp


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_program_is_well_formed(machine: str) -> None:
    """Every jump lands inside the program, which ends in a return and fits the kernel's limit."""
    code = _seccomp.program(machine)
    assert len(code) < 4096
    assert code[-1][0] == 0x06
    for i, (op, jt, jf, _) in enumerate(code):
        if op & 0x07 == 0x05:  # BPF_JMP
            assert i + 1 + max(jt, jf) < len(code)


def test_foreign_abi_is_killed_first() -> None:
    """The filter checks the architecture before anything else and kills on a mismatch."""
    code = _seccomp.program("x86_64")
    assert code[0] == (0x20, 0, 0, 4) and code[1][3] == 0xC000003E and code[2][3] == 0x80000000
