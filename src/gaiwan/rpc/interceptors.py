"""The edge of every server: who may call, what the bytes mean, and what an error looks like.

One interceptor per server does three things for every method:
1. on internal endpoints, checks the caller's mesh role (the CN of its mesh certificate, which
   the TLS layer already verified against the mesh CA) against the service's inbound rules, and
   outside development mode the evidence its certificate was issued on: a service attested on
   simulated evidence (or on none) is refused by every service, not only by the attestation
   service that should never have certified it;
2. parses the request itself, so undecodable bytes become INVALID_ARGUMENT (grpcio would say
   INTERNAL) and the service stays up;
3. maps `GaiwanError` to its status and anything unexpected to INTERNAL with a correlation id;
   the details of an unexpected error go to the log only, as exception type and code location,
   never as a message (messages can carry data).
"""

from __future__ import annotations

import re
import secrets
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from ..errors import GaiwanError, InvalidArgument, PermissionDenied, from_rpc_error
from ..logs import Logger
from .identity import EVIDENCE_URI_PREFIX

HEALTH_PREFIX = "/grpc.health.v1.Health/"
OPERATOR_ROLE = "operator"
# grpcio's texts for a call that never reached its peer, or lost it (they carry addresses).
_TRANSPORT_TEXT = re.compile(r"ipv4:|ipv6:|unix:|failed to connect|deadline exceeded|socket closed|"
                             r"connection reset|broken pipe|goaway|rst_stream|stream removed",
                             re.IGNORECASE)
_UNREACHABLE = {
    grpc.StatusCode.UNAVAILABLE: "a platform service is unreachable; try again",
    grpc.StatusCode.DEADLINE_EXCEEDED: "a platform service did not answer in time; try again",
}


def peer_role(context: grpc.ServicerContext) -> str | None:
    """The mesh role of the caller, from its verified client certificate; None without one."""
    names = context.auth_context().get("x509_common_name") or []
    if len(names) != 1:
        return None
    return names[0].decode("utf-8", "replace")


def peer_evidence_type(context: grpc.ServicerContext) -> str:
    """The evidence type named in the caller's verified mesh certificate; "" without one."""
    prefix = EVIDENCE_URI_PREFIX.encode()
    for uri in context.auth_context().get("peer_uri") or ():
        if uri.startswith(prefix):
            return uri[len(prefix):].decode("utf-8", "replace")
    return ""


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)[-4:]
    return " <- ".join(f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno} {f.name}" for f in reversed(frames))


class ServerInterceptor(grpc.ServerInterceptor):
    def __init__(self, log: Logger, allowed_roles: frozenset[str] | None,
                 refused_evidence: frozenset[str] = frozenset()) -> None:
        """allowed_roles None: a public endpoint (no mesh role check; callers authenticate by
        token). refused_evidence: evidence types ("" = none named) whose mesh certificates are
        refused (production mode: simulated and none)."""
        self._log = log
        self._allowed = allowed_roles
        self._refused = refused_evidence

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        if handler.request_streaming:
            # Gaiwan serves no client-streaming methods; refuse rather than leave them unchecked.
            return None
        deserialize = handler.request_deserializer or (lambda raw: raw)
        if handler.unary_unary is not None:
            return handler._replace(
                request_deserializer=None,
                unary_unary=self._wrap_unary(method, handler.unary_unary, deserialize),
            )
        if handler.unary_stream is not None:
            return handler._replace(
                request_deserializer=None,
                unary_stream=self._wrap_stream(method, handler.unary_stream, deserialize),
            )
        return None

    def _admit(self, method: str, context: grpc.ServicerContext) -> None:
        if self._allowed is None:
            return
        role = peer_role(context)
        if role is None:
            raise PermissionDenied("caller has no mesh identity")
        if method.startswith(HEALTH_PREFIX):
            return
        if role not in self._allowed:
            raise PermissionDenied(f"role {role!r} may not call {method}")
        if self._refused:
            evidence = peer_evidence_type(context)
            if evidence in self._refused:
                raise PermissionDenied(
                    f"caller {role!r} was attested on {evidence or 'no'} evidence, refused "
                    "outside development mode")

    def _public_message(self, method: str, exc: GaiwanError) -> str:
        """The message as the caller may see it. grpcio's own text for a peer it could not reach
        names internal addresses; a public endpoint says what happened instead (the log keeps
        the text)."""
        generic = _UNREACHABLE.get(exc.code)
        if self._allowed is not None or generic is None or not _TRANSPORT_TEXT.search(exc.message):
            return exc.message
        self._log.warning("a platform service is unreachable", method=method,
                          status=exc.code.name, detail=exc.message[:300])
        return generic

    def _parse(self, deserialize: Callable[[bytes], Any], raw: bytes) -> Any:
        try:
            return deserialize(raw)
        except Exception:
            raise InvalidArgument("malformed request message") from None

    def _fail(self, method: str, context: grpc.ServicerContext, exc: BaseException) -> None:
        if isinstance(exc, grpc.RpcError) and hasattr(exc, "code"):
            exc = from_rpc_error(exc)  # a dependency failed; pass its status on
        if isinstance(exc, GaiwanError):
            if exc.code == grpc.StatusCode.INTERNAL:
                self._log.warning("internal error", method=method, error=type(exc).__name__)
            context.abort(exc.code, self._public_message(method, exc))
        ref = secrets.token_hex(4)
        self._log.error(
            "unexpected error", method=method, ref=ref,
            error=type(exc).__name__, where=_where(exc),
        )
        context.abort(grpc.StatusCode.INTERNAL, f"internal error (ref {ref})")

    def _wrap_unary(
        self, method: str, behavior: Callable[[Any, grpc.ServicerContext], Any],
        deserialize: Callable[[bytes], Any],
    ) -> Callable[[bytes, grpc.ServicerContext], Any]:
        def unary(raw: bytes, context: grpc.ServicerContext) -> Any:
            try:
                self._admit(method, context)
                return behavior(self._parse(deserialize, raw), context)
            except Exception as exc:  # noqa: BLE001 - this is the one place errors are mapped
                if _is_abort(exc, context):
                    raise
                self._fail(method, context, exc)
                raise  # unreachable: abort raises

        return unary

    def _wrap_stream(
        self, method: str, behavior: Callable[[Any, grpc.ServicerContext], Iterator[Any]],
        deserialize: Callable[[bytes], Any],
    ) -> Callable[[bytes, grpc.ServicerContext], Iterator[Any]]:
        def stream(raw: bytes, context: grpc.ServicerContext) -> Iterator[Any]:
            try:
                self._admit(method, context)
                yield from behavior(self._parse(deserialize, raw), context)
            except Exception as exc:  # noqa: BLE001
                if _is_abort(exc, context):
                    raise
                self._fail(method, context, exc)
                raise

        return stream


def _is_abort(exc: BaseException, context: grpc.ServicerContext) -> bool:
    """context.abort() raises a bare Exception after setting the status; let it pass through."""
    code = getattr(context, "code", lambda: None)()
    return type(exc) is Exception and code not in (None, grpc.StatusCode.OK)
