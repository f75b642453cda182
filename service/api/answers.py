"""Cached JSON answers with HTTP validators: ETag, 304, Cache-Control, X-Cache.

The ETag is the digest of the artifact checksums, the endpoint and the canonical request (the same
digest keys the response cache), so it changes exactly when the answer can: artifacts are immutable
while loaded. `compression.gzip_answers` gzips bodies for clients that accept it (never the media
that are compressed already); such a representation has its own strong tag (`"<digest>-gzip"`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.datastructures import ResponseHeader
from litestar.openapi import ResponseSpec

from service.api.access import client_of
from service.api.compression import compressed
from service.cache import ResponseCache, cache_key
from service.errors import InvalidInput

CACHE_HEADER = "X-Cache"
JSON = "application/json"


async def disconnected(request: Request[Any, Any, Any]) -> None:
    """Returns when the client goes away (the body, if any, has been read by then)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _held(request: Request[Any, Any, Any], tag: str) -> str | None:
    """The client's matching entity tag from If-None-Match (either representation), if any."""
    wanted = request.headers.get("if-none-match")
    if not wanted:
        return None
    held = {t.strip().removeprefix("W/") for t in wanted.split(",")}
    return next((t for t in (f'"{tag}"', f'"{tag}-gzip"') if t in held or "*" in held), None)


def validators(
    request: Request[Any, Any, Any], tag: str, size: int, max_age: int, media_type: str = JSON
) -> dict[str, str]:
    headers = {"Cache-Control": f"public, max-age={max_age}"}
    if compressed(media_type, size, request.headers.get("accept-encoding", "")):
        headers["ETag"] = f'"{tag}-gzip"'  # the compression middleware adds Vary: Accept-Encoding
    else:
        headers.update(ETag=f'"{tag}"', Vary="Accept-Encoding")
    return headers


async def cached_json(
    request: Request[Any, Any, Any],
    cache: ResponseCache,
    checksums: list[str],
    endpoint: str,
    query: msgspec.Struct,
    compute: Callable[[], msgspec.Struct],
    *,
    inline: bool,
    max_age: int,
    cost: float = 0.0,
) -> Response[bytes]:
    """The encoded answer to `query` from the cache or `compute` (304 when the client holds it);
    `cost`: its predicted seconds, where the work budget has them (the admission gate's wait)."""
    return await cached_bytes(
        request, cache, checksums, endpoint, query, lambda: ENCODER.encode(compute()),
        media_type=JSON, inline=inline, max_age=max_age, cost=cost,
    )  # fmt: skip


async def cached_bytes(
    request: Request[Any, Any, Any],
    cache: ResponseCache,
    checksums: list[str],
    endpoint: str,
    query: msgspec.Struct,
    compute: Callable[[], bytes],
    *,
    media_type: str,
    inline: bool,
    max_age: int,
    headers: dict[str, str] | None = None,
    cost: float = 0.0,
) -> Response[bytes]:
    """A body of any media type from the cache or `compute`, with the validators of `cached_json`."""
    try:
        key = cache_key(checksums, endpoint, query)
    except UnicodeEncodeError as exc:  # JSON may carry lone surrogates ("\udcff"): not text
        raise InvalidInput(
            "strings must be valid Unicode text (a lone surrogate was sent)", field="body"
        ) from exc
    # The whole key: the request's digest alone would give two endpoints (or two builds of an artifact)
    # that take the same parameters one tag, and a client a 304 for an answer it does not hold.
    tag = hashlib.blake2b(key.encode(), digest_size=12).hexdigest()
    held = _held(request, tag)
    if held is not None:  # 304 with the ETag of the representation the client holds
        headers_304 = {**validators(request, tag, 0, max_age, media_type), "ETag": held}
        return Response(b"", status_code=304, headers=headers_304)
    gone = lambda: disconnected(request)  # noqa: E731
    body, hit = await cache.get_or_compute(
        endpoint, key, compute, inline, gone, client_of(request.scope), cost
    )
    sent = {**(headers or {}), **validators(request, tag, len(body), max_age, media_type)}
    sent[CACHE_HEADER] = "hit" if hit else "miss"
    return Response(body, media_type=media_type, headers=sent)


ENCODER = msgspec.json.Encoder()

# The OpenAPI description of what `cached_json` adds (documentation only: the handler sets them).
CACHED_HEADERS = [
    ResponseHeader(
        name="ETag",
        documentation_only=True,
        description="strong tag of the artifact and the canonical request (`-gzip`: the gzip representation)",
    ),
    ResponseHeader(name="Cache-Control", documentation_only=True, description="public, max-age=<seconds>"),
    ResponseHeader(name="X-Cache", documentation_only=True, description="hit or miss (the service's cache)"),
]


def json_answer(out: Any) -> dict[int, ResponseSpec]:
    """The 200 of a route whose handler returns the encoded bytes of `out` (a response Struct, or a
    union of them): the handler says `Response[bytes]`, the spec says what the bytes hold."""
    return {
        200: ResponseSpec(out, description="Request fulfilled, document follows", generate_examples=False)
    }


CACHED = tuple((h.name, h.description or "") for h in CACHED_HEADERS)  # for documented.operation
NOT_MODIFIED = {
    304: ResponseSpec(None, description="Not Modified: If-None-Match holds the answer's ETag; no body"),
}
