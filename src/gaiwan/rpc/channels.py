"""Client channels between services: mutual TLS with the caller's mesh certificate, and the
target's role pinned by name, so a channel to "storage" only ever reaches a service that the
attestation service certified as storage."""

from __future__ import annotations

import threading

import grpc

from .identity import ServiceIdentity, mesh_hostname
from .server import message_options


def mesh_channel(identity: ServiceIdentity, target: str, target_role: str,
                 max_message_bytes: int = 4 * 1024 * 1024) -> grpc.Channel:
    creds = grpc.ssl_channel_credentials(
        root_certificates=identity.mesh_ca_pem,
        private_key=identity.key_pem,
        certificate_chain=identity.mesh_cert_pem,
    )
    options = message_options(max_message_bytes) + [
        ("grpc.ssl_target_name_override", mesh_hostname(target_role)),
        ("grpc.default_authority", mesh_hostname(target_role)),
    ]
    return grpc.secure_channel(target, creds, options=options)


class ChannelPool:
    """One long-lived channel per target role: channels are opened once and reused (ARCH §8)."""

    def __init__(self, identity: ServiceIdentity, targets: dict[str, str],
                 max_message_bytes: int = 4 * 1024 * 1024) -> None:
        self._identity = identity
        self._targets = targets
        self._max = max_message_bytes
        self._channels: dict[str, grpc.Channel] = {}
        self._lock = threading.Lock()

    def get(self, role: str) -> grpc.Channel:
        with self._lock:
            ch = self._channels.get(role)
            if ch is None:
                ch = mesh_channel(self._identity, self._targets[role], role, self._max)
                self._channels[role] = ch
            return ch

    def close(self) -> None:
        with self._lock:
            for ch in self._channels.values():
                ch.close()
            self._channels.clear()
