"""service/api/compression.py: which answers are gzipped, and that large ones leave the event loop."""

from __future__ import annotations

import asyncio
import gzip
import threading
from typing import Any

import pytest
from litestar.types import Message, Receive, Scope, Send

from service.api import compression
from service.api.compression import accepts_gzip, compressed, gzip_answers


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.5", True),
        ("*", True),
        ("identity", False),
        ("gzip;q=0", False),
        ("gzip;q=0.0, identity", False),
        ("", False),
        ("gzip;q=nonsense", False),
    ],
)
def test_accept_encoding_is_read_with_its_weights(header: str, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted


def test_compressed_media_and_small_bodies_go_out_as_they_are() -> None:
    assert compressed("application/json", 1024, "gzip")
    assert not compressed("application/json", 1023, "gzip")
    assert not compressed("application/vnd.apache.parquet", 10_000_000, "gzip")
    assert not compressed("application/zip", 10_000_000, "gzip")
    assert compressed("text/html; charset=utf-8", 5000, "gzip")
    assert not compressed("application/json", 5000, "identity")


def run(app: Any, accept: str = "gzip") -> list[Message]:
    """The messages `app` sends through the middleware for one GET."""
    sent: list[Message] = []
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"accept-encoding", accept.encode())]}

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(gzip_answers(app)(scope, receive, send))  # type: ignore[arg-type]
    return sent


def answering(
    chunks: list[bytes], media: bytes = b"application/json", extra: list[tuple[bytes, bytes]] | None = None
) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        size = str(sum(map(len, chunks))).encode()
        headers = [(b"content-type", media), (b"content-length", size), *(extra or [])]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for i, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": i < len(chunks) - 1})

    return app


def headers_of(messages: list[Message]) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in messages[0]["headers"]}


def test_a_large_answer_is_compressed_in_a_worker_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []
    real = compression.zlib.compressobj

    class Spy:
        def __init__(self, *args: int) -> None:
            self.inner = real(*args)

        def compress(self, data: bytes) -> bytes:
            threads.append(threading.current_thread().name)
            return self.inner.compress(data)

        def flush(self) -> bytes:
            return self.inner.flush()

    monkeypatch.setattr(compression.zlib, "compressobj", Spy)
    body = b'{"tokens": [' + b'"word", ' * 100_000 + b'"end"]}'
    messages = run(answering([body]))
    headers = headers_of(messages)
    assert headers["content-encoding"] == "gzip" and headers["vary"] == "Accept-Encoding"
    assert int(headers["content-length"]) == len(messages[1]["body"])
    assert gzip.decompress(messages[1]["body"]) == body
    assert threads == [threads[0]] and threads[0] != threading.main_thread().name


def test_a_small_answer_is_compressed_on_the_loop_and_a_tiny_one_not_at_all() -> None:
    small = b"x" * 2000
    messages = run(answering([small]))
    assert headers_of(messages)["content-encoding"] == "gzip"
    assert gzip.decompress(messages[1]["body"]) == small
    tiny = run(answering([b"{}"]))
    assert "content-encoding" not in headers_of(tiny) and tiny[1]["body"] == b"{}"


def test_parquet_encoded_answers_and_clients_without_gzip_get_the_bytes_unchanged() -> None:
    body = b"PAR1" + b"\0" * 100_000
    for app, accept in [
        (answering([body], media=b"application/vnd.apache.parquet"), "gzip"),
        (answering([body], extra=[(b"content-encoding", b"br")]), "gzip"),
        (answering([body]), "identity"),
    ]:
        messages = run(app, accept)
        assert headers_of(messages)["content-length"] == str(len(body))
        assert messages[1]["body"] == body


def test_a_streamed_answer_is_compressed_chunk_by_chunk() -> None:
    chunks = [b"a" * 50_000, b"b" * 10, b"c" * 70_000]
    messages = run(answering(chunks, media=b"text/plain"))
    headers = headers_of(messages)
    assert headers["content-encoding"] == "gzip" and "content-length" not in headers
    assert [m["more_body"] for m in messages[1:]] == [True, True, False]
    assert gzip.decompress(b"".join(m["body"] for m in messages[1:])) == b"".join(chunks)
