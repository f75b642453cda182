"""create_app(settings): routers, exception handlers, OpenAPI, lifespan. Nothing is loaded at import."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
from litestar import Litestar, Request, Response, get
from litestar.datastructures import State
from litestar.enums import HttpMethod
from litestar.exceptions import HTTPException
from litestar.handlers import route
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.response import File
from litestar.static_files import create_static_files_router

from service.api import analyses as analyses_api
from service.api import models as models_api
from service.api import neighbors as neighbors_api
from service.api.answers import COMPRESSION
from service.api.middleware import body_timeout, head_without_body, security_headers
from service.api.params import Services
from service.api.problems import EXCEPTION_HANDLERS
from service.cache import Gate, MemoryStore, ResponseCache, Store
from service.jobs import Jobs
from service.metrics import MetricsController, metrics, prometheus_config
from service.redis_store import FallbackStore, RedisStore
from service.registry import Registry, load_registry
from service.settings import Settings

log = logging.getLogger("service")
STATIC = Path(__file__).parent / "static"  # the explorer page: plain HTML/JS/CSS, no CDN
API_VERSION = "0.1.0"
GET_HEAD = [HttpMethod.GET, HttpMethod.HEAD]


def record_models(registry: Registry) -> None:
    gauges = metrics()
    gauges.models_loaded.set(len(registry.models))
    for model in registry.models.values():
        gauges.model_bytes.labels(model.name).set(sum(f.size for f in model.manifest.files.values()))
        gauges.load_seconds.labels(model.name).set(model.load_seconds)


def warm_up(registry: Registry, done: threading.Event) -> None:
    """Page in every model's matrix and exact neighbour table (a read of each block)."""
    for model in registry.models.values():
        space = model.space
        for table in (space.matrix, space.knn_ids, space.knn_sims):
            if table is None:
                continue
            for start in range(0, len(table), WARM_ROWS):
                np.asarray(table[start : start + WARM_ROWS]).max()
    done.set()


WARM_ROWS = 65_536


def create_app(settings: Settings, registry: Registry | None = None) -> Litestar:
    """Build the app. The artifacts are loaded in the lifespan unless a registry is handed in."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.registry = registry if registry is not None else load_registry(settings)
        for model in app.state.registry.models.values():
            log.info(
                "loaded %s (%d x %d) in %.2f s",
                model.name,
                model.manifest.vocab_size,
                model.manifest.dim,
                model.load_seconds,
            )
        record_models(app.state.registry)
        # Readiness waits for the memory-mapped tables to be read once: the first requests on cold
        # pages would otherwise pay the disk (seconds on a fresh node) instead of microseconds.
        app.state.warm = threading.Event()
        threading.Thread(
            target=warm_up, args=(app.state.registry, app.state.warm), name="warm-up", daemon=True
        ).start()
        # Millions of long-lived objects (vocabularies, lookup tables) would otherwise be traversed by
        # every full garbage collection: tens of ms that land on whichever request triggers it.
        gc.collect()
        gc.freeze()
        count = metrics().cache.labels
        local = MemoryStore(settings.cache_max_entries, settings.cache_max_bytes)
        redis = None
        store: Store = local
        if settings.redis_url:
            redis = RedisStore(settings.redis_url, on_error=lambda: count("redis", "error").inc())
            store = FallbackStore(redis, local)
        app.state.redis = redis
        app.state.cache = ResponseCache(
            store,
            settings.cache_ttl_seconds,
            lambda e, o: count(e, o).inc(),
            max_value_bytes=settings.cache_max_bytes // 16,
            gate=Gate(settings.limits.max_running, settings.limits.max_waiting),
            deadline=settings.compute_deadline_seconds,
        )
        # job state and leases in a store of their own: no burst of cached answers can evict them
        jobs_local = MemoryStore(max_entries=100_000, max_bytes=settings.cache_max_bytes // 4)
        job_store: Store = jobs_local if redis is None else FallbackStore(redis, jobs_local)
        app.state.jobs = Jobs(
            job_store,
            store,
            settings.cache_ttl_seconds,
            count=lambda e, o: count(e, o).inc(),
            max_queued=settings.limits.max_queued_jobs,
            workers=settings.limits.job_workers,
            sync_wait=settings.limits.job_sync_wait_seconds,
            lease=settings.job_lease_seconds,
        )
        app.state.services = Services(app.state.registry, settings, app.state.cache, app.state.jobs)
        try:
            yield
        finally:
            app.state.jobs.close()
            if redis is not None:
                await redis.close()

    @get("/", include_in_schema=False, media_type="text/html")
    async def explorer() -> File:
        return File(STATIC / "index.html", content_disposition_type="inline")

    @route("/health", http_method=GET_HEAD, summary="The process is alive", tags=["health"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @route(
        "/ready",
        http_method=GET_HEAD,
        summary="Ready once the artifacts are loaded and their tables paged in (503 'warming' before); "
        "Redis is reported, never fails readiness",
        tags=["health"],
    )
    async def ready(state: State) -> Response[dict[str, object]]:
        reg: Registry = state.registry
        redis: RedisStore | None = getattr(state, "redis", None)
        redis_state = "not configured" if redis is None else "up" if await redis.ping() else "down"
        warm = state.warm.is_set()
        body: dict[str, object] = {
            "status": "ready" if warm else "warming",
            "models": sorted(reg.models),
            "redis": redis_state,
        }
        return Response(body, status_code=200 if warm else 503)

    async def require_json(request: Request[Any, Any, Any]) -> None:
        """Bodies are JSON: anything else is 415, not decoded on a guess."""
        if request.method in {"POST", "PUT", "PATCH"}:
            media = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if media != "application/json" and not media.endswith("+json"):
                raise HTTPException(
                    status_code=415, detail=f"send application/json, not {media or 'no type'}"
                )

    return Litestar(
        before_request=require_json,
        route_handlers=[
            explorer,
            create_static_files_router("/static", directories=[STATIC], include_in_schema=False),
            create_static_files_router(
                "/reports", directories=[settings.reports], html_mode=True, include_in_schema=False
            ),
            models_api.router,
            neighbors_api.router,
            analyses_api.router,
            health,
            ready,
            MetricsController,
        ],
        middleware=[
            head_without_body,
            security_headers,
            body_timeout(settings.body_timeout_seconds),
            prometheus_config().middleware,
        ],
        compression_config=COMPRESSION,
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.limits.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="polyglot-geometry",
            version=API_VERSION,
            description="Geometry of multilingual input embeddings: neighbours, scripts, translations "
            "(after Wen-Yi & Mimno, EMNLP 2023). Errors are RFC 9457 problem details.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
        ),
        debug=False,
    )
