"""create_app(settings): routers, exception handlers, OpenAPI, lifespan. Nothing is loaded at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

from service.api import analyses as analyses_api
from service.api import models as models_api
from service.api import neighbors as neighbors_api
from service.cache import MemoryStore
from service.errors import EXCEPTION_HANDLERS
from service.jobs import Jobs
from service.models import Registry, load_registry
from service.settings import Settings

log = logging.getLogger("service")
API_VERSION = "0.1.0"


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
        app.state.jobs = Jobs(MemoryStore(settings.cache_max_entries), settings.cache_ttl_seconds)
        try:
            yield
        finally:
            app.state.jobs.close()

    @get("/health", summary="The process is alive", tags=["health"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @get("/ready", summary="Artifacts are loaded", tags=["health"])
    async def ready(state: State) -> dict[str, object]:
        reg: Registry | None = getattr(state, "registry", None)
        return {"status": "ready" if reg else "loading", "models": sorted(reg.models) if reg else []}

    return Litestar(
        route_handlers=[models_api.router, neighbors_api.router, analyses_api.router, health, ready],
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
