"""Client channels between services: mutual TLS with the caller's mesh certificate, and the
target's role pinned by name, so a channel to "storage" only ever reaches a service that the
attestation service certified as storage.

Mesh certificates rotate, but grpcio's channel credentials are fixed at creation, and services
build their stubs once at start. So `ChannelPool.get` hands out a `RotatingChannel`: a stub
built on it looks up the pool's current channel on every call. `ChannelPool.update` swaps in
channels made with the new certificate; the previous channels stay open until the next update,
so calls already running on them finish (a rotation period is far longer than any call).

A call with a deadline waits within it for its peer (`_waiting`), and a channel retries a peer
that was down every two seconds at most (`RECONNECT_OPTIONS`)."""

from __future__ import annotations

import threading
from typing import Any

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
        *RECONNECT_OPTIONS,
    ]
    return grpc.secure_channel(target, creds, options=options)


# grpcio backs off up to two minutes between attempts to reach a peer that was down; inside one
# platform a peer that restarts is back within seconds, so it is retried every two at most.
RECONNECT_OPTIONS = (("grpc.initial_reconnect_backoff_ms", 100),
                     ("grpc.min_reconnect_backoff_ms", 100),
                     ("grpc.max_reconnect_backoff_ms", 2000))


def _waiting(kwargs: dict[str, Any]) -> dict[str, Any]:
    """A call with a deadline waits, within it, for its peer to be reachable: a peer that starts
    a moment later than its caller (services start together) or restarts is not an error to
    report, though grpcio would fail the call at once while it backs off between attempts."""
    if kwargs.get("timeout") is not None and "wait_for_ready" not in kwargs:
        return {**kwargs, "wait_for_ready": True}
    return kwargs


class _Rebound:
    """A multi-callable that resolves to the pool's current channel at each call."""

    def __init__(self, pool: "ChannelPool", role: str, kind: str, method: str,
                 kwargs: dict[str, Any]) -> None:
        self._pool, self._role, self._kind, self._method, self._kwargs = pool, role, kind, method, kwargs
        self._bound: tuple[grpc.Channel, Any] | None = None

    def _target(self) -> Any:
        channel = self._pool.current(self._role)
        bound = self._bound
        if bound is None or bound[0] is not channel:
            bound = (channel, getattr(channel, self._kind)(self._method, **self._kwargs))
            self._bound = bound
        return bound[1]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._target()(*args, **_waiting(kwargs))

    def __getattr__(self, name: str) -> Any:  # with_call, future
        attr = getattr(self._target(), name)
        if not callable(attr):
            return attr
        return lambda *args, **kwargs: attr(*args, **_waiting(kwargs))


class RotatingChannel(grpc.Channel):
    """A channel to one role that always uses the pool's current mesh credentials."""

    def __init__(self, pool: "ChannelPool", role: str) -> None:
        self._pool, self._role = pool, role

    def _rebound(kind: str) -> Any:  # noqa: N805 - builds the four methods below
        def method(self: "RotatingChannel", method: str, *args: Any, **kwargs: Any) -> _Rebound:
            if args:
                raise TypeError("pass serializers by keyword")
            return _Rebound(self._pool, self._role, kind, method, kwargs)
        return method

    unary_unary = _rebound("unary_unary")
    unary_stream = _rebound("unary_stream")
    stream_unary = _rebound("stream_unary")
    stream_stream = _rebound("stream_stream")
    del _rebound

    def subscribe(self, callback: Any, try_to_connect: bool = False) -> None:
        self._pool.current(self._role).subscribe(callback, try_to_connect)

    def unsubscribe(self, callback: Any) -> None:
        self._pool.current(self._role).unsubscribe(callback)

    def close(self) -> None:
        """The pool owns the underlying channels; closing a handle is a no-op."""

    def __enter__(self) -> "RotatingChannel":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ChannelPool:
    """One long-lived channel per target role: channels are opened once and reused (ARCH §8)."""

    def __init__(self, identity: ServiceIdentity, targets: dict[str, str],
                 max_message_bytes: int = 4 * 1024 * 1024) -> None:
        self._identity = identity
        self._targets = targets
        self._max = max_message_bytes
        self._channels: dict[str, grpc.Channel] = {}
        self._retired: list[grpc.Channel] = []
        self._handles: dict[str, RotatingChannel] = {}
        self._lock = threading.Lock()

    def get(self, role: str) -> grpc.Channel:
        """A long-lived handle to `role`; it follows certificate rotations by itself."""
        if role not in self._targets:
            raise KeyError(role)
        with self._lock:
            return self._handles.setdefault(role, RotatingChannel(self, role))

    def current(self, role: str) -> grpc.Channel:
        """The channel made with the current certificate (opened on first use)."""
        with self._lock:
            ch = self._channels.get(role)
            if ch is None:
                ch = mesh_channel(self._identity, self._targets[role], role, self._max)
                self._channels[role] = ch
            return ch

    def update(self, identity: ServiceIdentity) -> None:
        """Uses `identity` for new calls; closes the channels retired by the previous update."""
        with self._lock:
            old, self._retired = self._retired, list(self._channels.values())
            self._channels.clear()
            self._identity = identity
        for ch in old:
            ch.close()

    def close(self) -> None:
        with self._lock:
            for ch in [*self._channels.values(), *self._retired]:
                ch.close()
            self._channels.clear()
            self._retired.clear()
