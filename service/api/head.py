"""HEAD wherever GET is served: the GET's status and headers (Content-Length included), no body.

Routes accept HEAD next to GET and answer it like GET; this outermost middleware drops the body
bytes on the way out, after compression, so every header is the one a GET would carry.
"""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send


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
