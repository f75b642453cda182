"""gzip of answers, never on the event loop when it costs anything.

Bodies of `MINIMUM_SIZE` bytes or more are gzipped for clients that accept it. A body of
`THREAD_SIZE` bytes or more is compressed in a worker thread (zlib lets go of the GIL while it
works), so a 1 MB grouped answer costs the loop an await, not 100 ms of compression. Media that are
already compressed (Parquet, zip, gzip, PNG) go out as they are: gzip would spend CPU to gain
nothing. `answers.validators` asks `compressed` the same question, so a cached answer's ETag names
the representation this middleware sends.
"""

from __future__ import annotations

import zlib
from typing import Any

import anyio.to_thread
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

MINIMUM_SIZE = 1024
THREAD_SIZE = 32 * 1024
LEVEL = 6
# Parquet pages and zip members are compressed inside the file; the rest are compressed formats.
COMPRESSED_MEDIA = frozenset(
    {
        "application/vnd.apache.parquet",
        "application/zip",
        "application/gzip",
        "application/x-gzip",
        "image/png",
        "image/jpeg",
        "image/webp",
        "font/woff2",
    }
)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header value allows gzip (`gzip;q=0` refuses it)."""
    for item in accept_encoding.lower().split(","):
        name, _, params = item.strip().partition(";")
        if name.strip() in ("gzip", "*"):
            q = params.strip().removeprefix("q=")
            try:
                return not params.strip().startswith("q=") or float(q) > 0
            except ValueError:
                return False
    return False


def compressed(media_type: str | None, size: int, accept_encoding: str) -> bool:
    """Whether an answer of this media type and size goes out gzipped to this client."""
    base = (media_type or "").split(";")[0].strip().lower()
    return size >= MINIMUM_SIZE and base not in COMPRESSED_MEDIA and accepts_gzip(accept_encoding)


async def _deflate(stream: Any, data: bytes, last: bool) -> bytes:
    def work() -> bytes:
        out: bytes = stream.compress(data) + (stream.flush() if last else b"")
        return out

    return await anyio.to_thread.run_sync(work) if len(data) >= THREAD_SIZE else work()


def gzip_answers(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        accept_encoding = ",".join(
            v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"accept-encoding"
        )
        if not accepts_gzip(accept_encoding):
            await app(scope, receive, send)
            return
        start: Message | None = None
        stream: Any = None  # the gzip stream once this answer is being compressed
        passing = False

        async def send_gzipped(message: Message) -> None:
            nonlocal start, stream, passing
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or passing:
                await send(message)
                return
            body: bytes = message.get("body", b"")
            more: bool = message.get("more_body", False)
            if start is not None:  # the first body message decides, for the whole answer
                headers = MutableScopeHeaders.from_message(start)
                size = len(body) if not more else MINIMUM_SIZE
                if "content-encoding" in headers or not compressed(
                    headers.get("content-type"), size, accept_encoding
                ):
                    passing = True
                    await send(start)
                    await send(message)
                    return
                stream = zlib.compressobj(LEVEL, zlib.DEFLATED, 31)  # 31: gzip framing
                data = await _deflate(stream, body, not more)
                headers["Content-Encoding"] = "gzip"
                vary = headers.get("vary")
                if vary is None:
                    headers["Vary"] = "Accept-Encoding"
                elif "accept-encoding" not in vary.lower():
                    headers["Vary"] = f"{vary}, Accept-Encoding"
                if more:
                    del headers["content-length"]
                else:
                    headers["Content-Length"] = str(len(data))
                await send(start)
                start = None
            else:
                data = await _deflate(stream, body, not more)
            await send({"type": "http.response.body", "body": data, "more_body": more})

        await app(scope, receive, send_gzipped)

    return middleware
