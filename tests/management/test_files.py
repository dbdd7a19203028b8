"""File records: registration, updates as new records, fusion outputs, input from output."""

from __future__ import annotations

import dataclasses

import pytest

from gaiwan.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from gaiwan.records import CryptoInfo, DataFile, data_key, dumps
from gaiwan.services.management import Management
from gaiwan.storage.local import LocalStorage

from .conftest import AES128, ALICE, BOB, CAROL, CMAC


def _write_cmac(storage: LocalStorage, file: DataFile) -> None:
    """What the scheduler does once a task wrote the output."""
    storage.transact(writes={data_key(file.data_id): dumps(dataclasses.replace(file, cmac=CMAC))})


def test_register_and_get_input(core: Management) -> None:
    """An input is owned by its registrant, who reads back owners and cmac."""
    file = core.files.register_input(ALICE, "https://h/a.enc", CMAC, AES128)
    assert file.data_id.startswith("input-")
    got = core.files.get(ALICE, file.data_id, "input")
    assert (got.owners, got.cmac) == (("alice",), CMAC)


def test_register_output_starts_unwritten(core: Management) -> None:
    """An output has no cmac until a task writes it."""
    file = core.files.register_output(ALICE, "file:///out/a.enc", AES128)
    assert file.data_id.startswith("output-") and core.files.get(ALICE, file.data_id, "output").cmac == b""


def test_register_rejections(core: Management) -> None:
    """Bad schemas, URLs and cmacs are INVALID_ARGUMENT."""
    with pytest.raises(InvalidArgument):
        core.files.register_input(ALICE, "ftp://h/a", CMAC, AES128)
    with pytest.raises(InvalidArgument):
        core.files.register_input(ALICE, "https://h/a", b"", AES128)
    with pytest.raises(InvalidArgument):
        core.files.register_output(ALICE, "data:,x", AES128)
    with pytest.raises(InvalidArgument):
        core.files.register_output(ALICE, "file:///o", CryptoInfo("raw", b"", b""))


def test_get_owners_only_and_by_kind(core: Management) -> None:
    """Non-owners are denied; an input id is unknown to GetOutputFile and vice versa."""
    file = core.files.register_input(ALICE, "https://h/a.enc", CMAC, AES128)
    with pytest.raises(PermissionDenied):
        core.files.get(BOB, file.data_id, "input")
    with pytest.raises(InvalidArgument):
        core.files.get(ALICE, file.data_id, "output")
    with pytest.raises(NotFound):
        core.files.get(ALICE, "input-nope", "input")


def test_update_makes_a_new_record(core: Management) -> None:
    """Update keeps the old record and registers a new id at the new URL."""
    old = core.files.register_input(ALICE, "https://h/a.enc", CMAC, AES128)
    new = core.files.update(ALICE, old.data_id, "https://h/b.enc", "input")
    assert new.data_id != old.data_id and new.url == "https://h/b.enc" and new.cmac == CMAC
    assert core.files.get(ALICE, old.data_id, "input").url == "https://h/a.enc"
    out = core.files.register_output(ALICE, "file:///o1", AES128)
    assert core.files.update(ALICE, out.data_id, "file:///o2", "output").url == "file:///o2"


def test_update_sole_owner_only(core: Management) -> None:
    """Non-owners and co-owners of a shared output cannot update it; bad URLs are refused."""
    file = core.files.register_input(ALICE, "https://h/a.enc", CMAC, AES128)
    with pytest.raises(PermissionDenied):
        core.files.update(BOB, file.data_id, "https://h/b", "input")
    fusion = core.files.register_fusion_output(ALICE, ["alice", "bob"])
    with pytest.raises(PermissionDenied):
        core.files.update(ALICE, fusion.data_id, "file:///x", "output")
    with pytest.raises(InvalidArgument):
        core.files.update(ALICE, file.data_id, "fusion:///x", "input")


def test_fusion_output(core: Management) -> None:
    """A fusion output has every listed owner, a platform key and a fusion:// location."""
    fusion = core.files.register_fusion_output(ALICE, ["alice", "bob", "bob"])
    assert fusion.owners == ("alice", "bob") and fusion.fusion
    assert fusion.url.startswith("fusion://") and len(fusion.crypto_info.key) == 16
    other = core.files.register_fusion_output(BOB, ["alice", "bob"])
    assert other.crypto_info.key != fusion.crypto_info.key
    assert core.files.get(BOB, fusion.data_id, "output").owners == ("alice", "bob")


@pytest.mark.parametrize("owners, error", [
    (["alice"], PermissionDenied),
    (["bob", "carol"], PermissionDenied),
    (["alice", ""], InvalidArgument),
])
def test_fusion_output_rejections(core: Management, owners: list[str], error: type) -> None:
    """Fewer than two owners, or a list without the caller, is refused."""
    with pytest.raises(error):
        core.files.register_fusion_output(ALICE, owners)


def test_input_from_written_output(core: Management, storage: LocalStorage) -> None:
    """Any owner of a written output registers it as an input with the output's cmac."""
    fusion = core.files.register_fusion_output(ALICE, ["alice", "bob"])
    with pytest.raises(FailedPrecondition):
        core.files.register_input_from_output(BOB, fusion.data_id)
    _write_cmac(storage, fusion)
    made = core.files.register_input_from_output(BOB, fusion.data_id)
    assert made.data_id.startswith("input-") and made.kind == "input"
    assert (made.owners, made.cmac, made.url) == (("alice", "bob"), CMAC, fusion.url)
    with pytest.raises(PermissionDenied):
        core.files.register_input_from_output(CAROL, fusion.data_id)
