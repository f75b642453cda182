"""Who may ask, and who is asking.

With API keys configured (`POLYGLOT_API_KEYS`, comma-separated, or `POLYGLOT_API_KEYS_FILE`, one per
line), every request carries one, as `Authorization: Bearer KEY` or `X-API-Key: KEY`, except the
probes (`/health`, `/ready`), the metrics (`/metrics`: Prometheus scrapes the replicas inside the
deployment's network; the compose proxy does not forward it) and the explorer's page and files (its
API calls need a key like any other). No key: 401 with `WWW-Authenticate: Bearer`; a key that is none
of them: 403; both problem details. A key is compared with every configured key in constant time
(`hmac.compare_digest`, all of them each time) and is never logged, echoed or stored: a client is
known by the first 12 hex digits of its key's SHA-256.

The client a request counts against (its line at the admission gate, the per-client job limit): its
key when keys are configured, else its address; `X-Forwarded-For` is believed only from a configured
proxy (`POLYGLOT_TRUSTED_PROXIES`: addresses or networks), and then its last hop, the one the proxy
saw. `identify_clients` leaves it in the request's scope; `client_of` reads it there.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

OPEN_PATHS = frozenset(("/", "/health", "/ready", "/metrics", "/favicon.ico"))
OPEN_PREFIXES = ("/static/",)
CLIENT = "polyglot_client"  # the scope key the middleware leaves the client's id under
Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


def configured_keys(listed: str, file: str) -> tuple[bytes, ...]:
    """The API keys: comma-separated, and one per line of `file` (blank lines and #-comments skipped)."""
    keys = [key.strip() for key in listed.split(",")]
    if file:
        lines = Path(file).read_text(encoding="utf-8").splitlines()
        keys += [line.strip() for line in lines if not line.lstrip().startswith("#")]
    return tuple(sorted({key.encode() for key in keys if key}))


def key_id(key: bytes) -> str:
    return "key:" + hashlib.sha256(key).hexdigest()[:12]


def _problem(status: int, title: str, detail: str) -> bytes:
    return (
        f'{{"type":"about:blank","title":"{title}","status":{status},"detail":"{detail}","field":"authorization"}}'
    ).encode()


UNAUTHORIZED = _problem(401, "Authentication required", "send an API key: Authorization: Bearer KEY")
FORBIDDEN = _problem(403, "Forbidden", "this API key is not one of the service's")


def _offered(scope: Scope) -> bytes | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            return bytes(value[7:].strip())
        if name == b"x-api-key":
            return bytes(value.strip())
    return None


def _known(offered: bytes, keys: Sequence[bytes]) -> bool:
    found = False
    for key in keys:  # every key, every time: the time taken says nothing of which or how close
        found |= hmac.compare_digest(offered, key)
    return found


def require_keys(keys: Sequence[bytes]) -> Callable[[ASGIApp], ASGIApp]:
    """The middleware that lets through only requests carrying one of `keys` (open paths aside)."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            path = str(scope.get("path", ""))
            if scope["type"] != ScopeType.HTTP or path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
                await app(scope, receive, send)
                return
            offered = _offered(scope)
            if offered is None or not _known(offered, keys):
                status, body = (401, UNAUTHORIZED) if offered is None else (403, FORBIDDEN)
                headers = [(b"content-type", b"application/problem+json")]
                if status == 401:
                    headers.append((b"www-authenticate", b'Bearer realm="polyglot-geometry"'))
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body, "more_body": False})
                return
            scope.setdefault("state", {})[CLIENT] = key_id(offered)
            await app(scope, receive, send)

        return middleware

    return wrap


@lru_cache(maxsize=4)
def trusted_networks(listed: str) -> Networks:
    return tuple(
        ipaddress.ip_network(item.strip(), strict=False) for item in listed.split(",") if item.strip()
    )


def address_of(host: str, forwarded: str | None, trusted: Networks) -> str:
    """The client's address: the peer's, or the last hop of X-Forwarded-For when the peer is a
    trusted proxy."""
    if forwarded and trusted and _within(host, trusted):
        return forwarded.split(",")[-1].strip() or host
    return host


def identify_clients(trusted: Networks) -> Callable[[ASGIApp], ASGIApp]:
    """The middleware that names each request's client in its scope (after `require_keys`, which
    names it by its key)."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == ScopeType.HTTP:
                state = scope.setdefault("state", {})
                if not state.get(CLIENT):
                    peer = scope.get("client")
                    forwarded = [v for k, v in scope.get("headers", []) if k == b"x-forwarded-for"]
                    xff = b",".join(forwarded).decode("latin-1") if forwarded else None
                    state[CLIENT] = address_of(peer[0] if peer else "", xff, trusted)
            await app(scope, receive, send)

        return middleware

    return wrap


def client_of(scope: Any) -> str:
    """The client a request counts against, as `identify_clients` named it."""
    return str((scope.get("state") or {}).get(CLIENT, ""))


def _within(host: str, trusted: Networks) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in trusted)
