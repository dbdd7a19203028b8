"""Input and output file records (the data plane reads and writes the bytes they describe).

Records are immutable from a caller's point of view: an update registers a new record under a
new id, so a task already holding the old id keeps the file it was approved with.
"""

from __future__ import annotations

import dataclasses
import secrets
import uuid

from ...errors import FailedPrecondition, InvalidArgument
from ...logs import Logger
from ...records import CryptoInfo, DataFile, data_key, new_id
from ._rules import Caller, Rules
from ._store import Records
from ._validation import check_cmac, check_crypto_info, check_tags, check_url

FUSION_SCHEMA = "teaclave-file-128"


class FileService:
    def __init__(self, records: Records, rules: Rules, log: Logger) -> None:
        self._records = records
        self._rules = rules
        self._log = log

    def load(self, data_id: str, kind: str) -> DataFile:
        """The record of an `input-…` or `output-…` id; a wrong kind is an unknown id."""
        if not data_id.startswith(f"{kind}-"):
            raise InvalidArgument(f"not an {kind} file id")
        file = self._records.load(DataFile, data_key(data_id), f"{kind} file").record
        if file.kind != kind:
            raise InvalidArgument(f"not an {kind} file id")
        return file

    def _create(self, caller: Caller, file: DataFile) -> DataFile:
        self._records.create(data_key(file.data_id), file)
        self._log.info("file registered", data_id=file.data_id, schema=file.crypto_info.schema,
                       user=caller.user_id)
        return file

    def register_input(self, caller: Caller, url: str, cmac: bytes, crypto: CryptoInfo) -> DataFile:
        check_url(url, "input")
        check_crypto_info(crypto, "input")
        check_cmac(cmac, crypto)
        return self._create(caller, DataFile(new_id("input"), "input", url, (caller.user_id,),
                                             crypto, cmac))

    def register_output(self, caller: Caller, url: str, crypto: CryptoInfo) -> DataFile:
        check_url(url, "output")
        check_crypto_info(crypto, "output")
        return self._create(caller, DataFile(new_id("output"), "output", url, (caller.user_id,),
                                             crypto))

    def update(self, caller: Caller, data_id: str, url: str, kind: str) -> DataFile:
        """A new record at a new URL with the old crypto info; an output starts unwritten again."""
        old = self.load(data_id, kind)
        self._rules.require_data(caller, old, "user_update_data", f"update {kind} file")
        check_url(url, kind)
        new = dataclasses.replace(old, data_id=new_id(kind), url=url,
                                  cmac=old.cmac if kind == "input" else b"")
        return self._create(caller, new)

    def register_fusion_output(self, caller: Caller, owners: list[str]) -> DataFile:
        """An output shared by several owners, stored where only the platform reads it back."""
        if any(not uid for uid in owners):
            raise InvalidArgument("owner_list: empty user id")
        unique = tuple(dict.fromkeys(owners))
        crypto = CryptoInfo(FUSION_SCHEMA, secrets.token_bytes(16), b"")
        url = f"fusion:///{uuid.uuid4()}.fusion"
        file = DataFile(new_id("output"), "output", url, unique, crypto, fusion=True)
        self._rules.require_data(caller, file, "user_register_fusion", "register fusion output")
        return self._create(caller, file)

    def register_input_from_output(self, caller: Caller, data_id: str) -> DataFile:
        """The written output becomes an input of the same owners, checked against its cmac."""
        output = self.load(data_id, "output")
        self._rules.require_data(caller, output, "user_access_data", "register input from output")
        if not output.cmac:
            raise FailedPrecondition("output has not been written yet")
        return self._create(caller, dataclasses.replace(output, data_id=new_id("input"), kind="input"))

    def get(self, caller: Caller, data_id: str, kind: str) -> DataFile:
        file = self.load(data_id, kind)
        self._rules.require_data(caller, file, "user_access_data", f"get {kind} file")
        return file

    def set_tags(self, caller: Caller, data_id: str, tags: list[str]) -> DataFile:
        """Replaces the tags of a file in place: tags change who may use it, not its bytes, and
        a task already approved is checked against them again before it runs."""
        kind = data_id.split("-", 1)[0]
        if kind not in ("input", "output"):
            raise InvalidArgument("not an input or output file id")
        unique = tuple(sorted(set(tags)))
        check_tags(unique)

        def step(current: DataFile) -> DataFile:
            self._rules.require_data(caller, current, "user_tag_data", f"tag {kind} file")
            return dataclasses.replace(current, tags=unique)

        file = self._records.update(DataFile, data_key(data_id), f"{kind} file", step)
        self._log.info("file tagged", data_id=data_id, tags=len(unique), user=caller.user_id)
        return file
