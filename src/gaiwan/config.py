"""The platform configuration: one TOML file, written by `gaiwan init`, read by every service.

Only `security_view()` enters the services' measurements: the settings that change what a service
trusts (mode, attestation, inbound rules). Ports and paths may differ between hosts without
changing a measurement.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from typing import Any

import tomli_w

from .errors import ConfigError
from .home import SERVICES, Home

PUBLIC_ENDPOINTS = ("authentication_api", "frontend_api")

DEFAULT_PORTS: dict[str, int] = {
    "authentication_api": 7776,
    "frontend_api": 7777,
    "attestation": 7780,
    "storage": 7781,
    "authentication": 7782,
    "access_control": 7783,
    "management": 7784,
    "scheduler": 7785,
    "execution": 7786,
    "frontend": 7787,
}

# Who may call whom. Enforced by every internal server on every call (gaiwan.rpc.interceptors).
# Attestation is absent: it authenticates each caller by its evidence, not by a mesh certificate.
DEFAULT_INBOUND: dict[str, list[str]] = {
    "storage": ["authentication", "execution", "frontend", "management", "scheduler"],
    "authentication": ["frontend"],
    "access_control": ["frontend", "management", "scheduler"],
    "management": ["frontend"],
    "scheduler": ["execution", "management"],
    "execution": [],
    "frontend": [],
}


def default_document(ports: dict[str, int] | None = None, mode: str = "development") -> dict[str, Any]:
    ports = {**DEFAULT_PORTS, **(ports or {})}
    endpoints = {
        name: (f"0.0.0.0:{port}" if name in PUBLIC_ENDPOINTS else f"127.0.0.1:{port}")
        for name, port in ports.items()
    }
    return {
        "platform": {"mode": mode},
        "attestation": {
            "backend": "simulated",
            "auditor_threshold": 1,
            "mesh_cert_ttl_s": 86400,
            "report_max_age_s": 86400,
        },
        "endpoints": endpoints,
        "inbound": DEFAULT_INBOUND,
        "storage": {"engine": "lmdb", "map_size_mb": 1024},
        "authentication": {"token_ttl_s": 86400},
        "execution": {
            "slots": 2,
            "lease_ms": 10000,
            "builtin_memory_mb": 256,
            "executors": ["builtin", "python", "wamr", "wasm"],
            # Per-task limits; gaiwan.services.execution._settings reads them (same defaults).
            "python": {"time_s": 60.0, "max_time_s": 600.0, "memory_mb": 1024, "processes": 16,
                       "open_files": 64, "file_size_mb": 8192, "result_bytes": 1 << 20},
            "wasm": {"time_s": 300.0, "fuel": 0, "memory_mb": 256, "module_mb": 32,
                     "output_mb": 4096, "cached_modules": 64},
        },
        "rpc": {"max_message_bytes": 4 * 1024 * 1024, "workers": 32},
    }


@dataclass(frozen=True)
class Config:
    home: Home
    doc: dict[str, Any] = field(repr=False)

    @classmethod
    def load(cls, home: Home) -> "Config":
        if not home.exists():
            raise ConfigError(f"no Gaiwan platform at {home.root}: run `gaiwan init` first")
        try:
            doc = tomllib.loads(home.config.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{home.config}: {exc}") from None
        return cls(home, doc)

    def save(self) -> None:
        self.home.config.write_text(tomli_w.dumps(self.doc))

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.doc.get(name, {}))

    @property
    def mode(self) -> str:
        return str(self.doc["platform"]["mode"])

    @property
    def development(self) -> bool:
        return self.mode == "development"

    def listen_address(self, endpoint: str) -> str:
        try:
            return str(self.doc["endpoints"][endpoint])
        except KeyError:
            raise ConfigError(f"no endpoint {endpoint!r} in {self.home.config}") from None

    def target(self, endpoint: str) -> str:
        """The address to connect to: a wildcard listen address means this host."""
        host, _, port = self.listen_address(endpoint).rpartition(":")
        if host in ("0.0.0.0", "::", "[::]", ""):
            host = "127.0.0.1"
        return f"{host}:{port}"

    def inbound(self, service: str) -> list[str]:
        return list(self.doc.get("inbound", {}).get(service, []))

    @property
    def max_message_bytes(self) -> int:
        return int(self.doc.get("rpc", {}).get("max_message_bytes", 4 * 1024 * 1024))

    @property
    def rpc_workers(self) -> int:
        return int(self.doc.get("rpc", {}).get("workers", 32))

    def security_view(self, service: str) -> bytes:
        """Canonical bytes of the settings that decide what `service` trusts; part of its measurement.

        Every service trusts the backend, the auditor threshold and the inbound rules; the
        attestation service also enforces the rest of `[attestation]` (accepted TCB statuses,
        refused advisories, report age, certificate lifetime), so all of it is in its view.
        """
        if service not in SERVICES:
            raise ConfigError(f"unknown service {service!r}")
        attestation = self.doc.get("attestation", {})
        view = {
            "service": service,
            "mode": self.mode,
            "attestation": attestation if service == "attestation" else {
                k: attestation.get(k) for k in ("backend", "auditor_threshold")},
            "inbound": self.doc.get("inbound", {}),
        }
        return json.dumps(view, sort_keys=True, separators=(",", ":")).encode()
