"""The explorer page, liveness and readiness."""

from __future__ import annotations

import uuid
from pathlib import Path

from litestar import Response, get
from litestar.datastructures import State
from litestar.enums import HttpMethod
from litestar.handlers import route
from litestar.response import File

from service.registry import Registry
from service.stores import ResilientRedis

STATIC = Path(__file__).parents[1] / "static"  # the explorer page: plain HTML/JS/CSS, no CDN
GET_HEAD = [HttpMethod.GET, HttpMethod.HEAD]


@get("/", include_in_schema=False, media_type="text/html")
async def explorer() -> File:
    return File(STATIC / "index.html", content_disposition_type="inline")


WORKER = uuid.uuid4().hex[:12]  # this worker process, opaque (set at import: one per process)


@route("/health", http_method=GET_HEAD, summary="The process is alive", tags=["health"])
async def health() -> dict[str, str]:
    return {"status": "ok"}


@route(
    "/ready",
    http_method=GET_HEAD,
    summary="Ready once the artifacts are loaded and their tables paged in (503 'warming' before), and "
    "at least one model is served ('building' lists those whose artifacts are still being built, "
    "'stages_building' the stages still building of each model served from its first build); Redis is "
    "reported, never fails readiness",
    tags=["health"],
)
async def ready(state: State) -> Response[dict[str, object]]:
    registry: Registry = state.registry
    redis: list[ResilientRedis] = state.redis  # the cache's, then the jobs' when that is another instance
    states = ["up" if await client.ping() else "down" for client in redis]
    redis_state = "not configured" if not redis else "up" if all(x == "up" for x in states) else "down"
    warm = state.warm.is_set() and bool(registry.models)  # ready to answer for at least one model
    body: dict[str, object] = {
        "status": "ready" if warm else "building" if registry.building else "warming",
        "models": sorted(registry.models),
        "building": sorted(registry.building),  # served as each artifact is built (make run)
        # served from a first build: the stages still being built, by model
        "stages_building": {
            m.name: m.manifest.stages_left for m in registry.models.values() if m.first_build
        },
        "redis": redis_state,
        "worker": WORKER,  # which of several workers answered (each warms up on its own): no PID
    }
    return Response(body, status_code=200 if warm else 503)
