"""Where a platform's files live: one data directory, laid out the same on every host.

The directory is `$GAIWAN_HOME`, else `.gaiwan/` in the working directory. Keys that stand in for
hardware (the simulated TEE key, the platform sealing secret) are kept apart under `keys/` so that
a deployment on real TEEs simply does not have them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

SERVICES: tuple[str, ...] = (
    "attestation",
    "storage",
    "authentication",
    "access_control",
    "management",
    "scheduler",
    "execution",
    "frontend",
)
"""Every service, in start order: each one's dependencies come before it."""


def default_home() -> Path:
    env = os.environ.get("GAIWAN_HOME")
    return Path(env) if env else Path.cwd() / ".gaiwan"


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def at(cls, path: str | os.PathLike[str] | None = None) -> "Home":
        return cls(Path(path).resolve() if path else default_home().resolve())

    @property
    def config(self) -> Path:
        return self.root / "gaiwan.toml"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def client(self) -> Path:
        """Everything a client needs, safe to hand out: root CA, enclave_info, auditor material."""
        return self.root / "client"

    @property
    def as_root_ca_cert(self) -> Path:
        return self.client / "as_root_ca_cert.pem"

    @property
    def enclave_info(self) -> Path:
        return self.client / "enclave_info.toml"

    @property
    def auditors(self) -> Path:
        return self.client / "auditors"

    @property
    def storage(self) -> Path:
        return self.root / "storage"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"

    def exists(self) -> bool:
        return self.config.is_file()

    def log_file(self, service: str) -> Path:
        return self.logs / f"{service}.log"
