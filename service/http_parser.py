"""The HTTP/1.1 parser the service runs under: uvicorn's C parser (httptools), with a bound on a
request's head like the one h11, uvicorn's pure-Python default, had. httptools has none: a client could
make a worker hold megabytes of headers (20 MB sent in one request were accepted and answered)."""

from __future__ import annotations

import json

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

MAX_HEAD_BYTES = 16 * 1024  # h11's default bound on an incomplete event: the service's limit until now
TOO_LARGE = f"the request head (request line and headers) is over {MAX_HEAD_BYTES} bytes"


class HeadTooLarge(Exception):
    """Raised in a parser callback: httptools stops, uvicorn answers 400 and closes the connection."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """httptools, refusing (400, connection closed) a request whose head (request line and headers)
    passes MAX_HEAD_BYTES: counted as parsed, and as received while it is incomplete (httptools
    buffers a header until its end). A body is never counted."""

    _parsed = 0  # the current head's request target and headers, as parsed
    _received = 0  # bytes received while a head is incomplete (since the previous one ended)
    _in_head = True

    @property
    def _over(self) -> bool:
        return self._parsed > MAX_HEAD_BYTES or self._received > MAX_HEAD_BYTES

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._received += len(data)
        super().data_received(data)
        if self._in_head and self._received > MAX_HEAD_BYTES and not self.transport.is_closing():
            self.send_400_response(TOO_LARGE)

    def send_400_response(self, msg: str) -> None:
        """uvicorn's plain-text 400 for a request it cannot parse; problem details, as every other
        400 of the API, for a head over the bound (the request line was parsed: it has a path)."""
        if not self._over:
            super().send_400_response(msg)
            return
        path = self.url.split(b"?", 1)[0][:200].decode("ascii", "replace") if self.url else ""
        body = json.dumps(  # the shape of service/api/problems.py's bodies (no `field`: no request field)
            {
                "type": "about:blank",
                "title": "Request head too large",
                "status": 400,
                "detail": TOO_LARGE,
                "instance": path,
            }  # fmt: skip
        ).encode()
        head = [STATUS_LINE[400]]
        for name, value in self.server_state.default_headers:
            head.extend([name, b": ", value, b"\r\n"])
        head.extend(
            [
                b"content-type: application/problem+json\r\n",
                b"x-content-type-options: nosniff\r\n",
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                b"connection: close\r\n\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(head))
        self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._parsed = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head, self._received = False, 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True  # what the connection sends next is the next request's head

    def _count(self, size: int) -> None:
        self._parsed += size
        if self._parsed > MAX_HEAD_BYTES:
            raise HeadTooLarge(TOO_LARGE)
