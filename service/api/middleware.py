"""ASGI middleware at the edge of the app.

`head_without_body`: HEAD wherever GET is served. Routes accept HEAD next to GET and answer it like
GET; this outermost middleware drops the body bytes on the way out, after compression, so every
header (Content-Length included) is the one a GET would carry.

`body_timeout`: a request body that stalls is a 408, not a connection held for minutes.

`security_headers`: a path with a NUL character is a 400 before any route sees it; no MIME
sniffing on any answer; no page may be framed by another site (clickjacking), the Swagger page
included; pages (the explorer, the reports) may load only their own origin's scripts and styles
(the Swagger page under /schema loads its CDN's and keeps its own policy).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from service.errors import SlowClient


def head_without_body(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") != "HEAD":
            await app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}  # type: ignore[typeddict-item]
            await send(message)

        await app(scope, receive, send_headers_only)

    return middleware


NOSNIFF = (b"x-content-type-options", b"nosniff")
NO_FRAMES = (b"x-frame-options", b"DENY")
NUL_PROBLEM = (
    b'{"type":"about:blank","title":"Invalid request","status":400,'
    b'"detail":"the path holds a NUL character","field":"path"}'
)
# Scripts come from this server only; 'unsafe-eval' because regl (the map's WebGL layer) compiles its
# draw calls with Function(): no inline script and no other origin is allowed.
PAGE_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self' 'unsafe-eval'; img-src 'self' data:;"
        b" style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
    ),
    (b"referrer-policy", b"no-referrer"),
]


def security_headers(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        if "\x00" in str(scope.get("path", "")):  # no file or route has one; the OS would raise
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [(b"content-type", b"application/problem+json"), NOSNIFF],
                }
            )
            await send({"type": "http.response.body", "body": NUL_PROBLEM, "more_body": False})
            return
        page = not str(scope.get("path", "")).startswith("/schema")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append(NOSNIFF)
                html = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers)
                if html:
                    headers.append(NO_FRAMES)
                if html and page:
                    headers.extend(PAGE_HEADERS)
                message = {**message, "headers": headers}  # type: ignore[typeddict-item]
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware


def allow_every_method(app: ASGIApp) -> ASGIApp:
    """OPTIONS answers Allow with every method of the path. Litestar's own OPTIONS handler belongs to
    the first route registered at a path and lists only that route's methods when GET and POST (or
    GET and DELETE) are handlers of their own (it answered "GET, HEAD, OPTIONS" for /neighbors)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") != "OPTIONS" or "route_handler" not in scope:
            await app(scope, receive, send)
            return
        paths = scope["route_handler"].paths
        routes = scope["litestar_app"].routes
        methods = sorted({m for route in routes if route.path in paths for m in route.methods})

        async def send_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and methods:
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                allow = (b"allow", ", ".join(methods).encode())
                message = {**message, "headers": [*kept, allow]}  # type: ignore[typeddict-item]
            await send(message)

        await app(scope, receive, send_allow)

    return middleware


def body_timeout(seconds: float) -> Callable[[ASGIApp], ASGIApp]:
    """A request body whose next part does not arrive within `seconds` is a 408: a client that
    trickles (or never finishes) its body does not hold a connection and a handler indefinitely."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP or scope.get("method") in ("GET", "HEAD"):
                await app(scope, receive, send)
                return
            finished = False

            async def timed_receive() -> ReceiveMessage:
                nonlocal finished
                if finished:  # the body is in: what follows is the wait for a disconnect
                    return await receive()
                try:
                    message = await asyncio.wait_for(receive(), seconds)
                except TimeoutError as exc:
                    raise SlowClient(
                        f"no part of the request body arrived for {seconds:g} s", field="body"
                    ) from exc
                finished = message["type"] != "http.request" or not message.get("more_body", False)
                return message

            await app(scope, timed_receive, send)

        return middleware

    return wrap


async def require_json(request: Request[Any, Any, Any]) -> None:
    """A before-request hook: bodies are JSON; anything else is 415, not decoded on a guess."""
    if request.method in {"POST", "PUT", "PATCH"}:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            raise HTTPException(status_code=415, detail=f"send application/json, not {media or 'no type'}")
