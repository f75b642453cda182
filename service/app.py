"""create_app(settings): routers, exception handlers, OpenAPI, lifespan. Nothing is loaded at import."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp

from service.admission import Gate
from service.api import analyses as analyses_api
from service.api import catalog as models_api
from service.api import maps as maps_api
from service.api import neighbors as neighbors_api
from service.api import translations as translations_api
from service.api import vocabulary_health as vocabulary_api
from service.api.access import configured_keys, identify_clients, require_keys, trusted_networks
from service.api.compression import gzip_answers
from service.api.files import NoSymlinks
from service.api.metrics_route import MetricsController, request_metrics
from service.api.middleware import (
    allow_every_method,
    body_timeout,
    head_without_body,
    require_json,
    security_headers,
)
from service.api.params import Services
from service.api.probes import STATIC, explorer, health, ready
from service.api.problems import EXCEPTION_HANDLERS
from service.cache import ResponseCache
from service.jobs import Jobs
from service.metrics import metrics
from service.registry import LoadedModel, Registry, built_artifact, load_model, load_registry
from service.settings import Settings
from service.stores import (
    AnswerStore,
    FallbackAnswers,
    FallbackJobRecords,
    JobRecords,
    MemoryAnswers,
    RedisAnswers,
    RedisJobRecords,
    ResilientRedis,
    SqliteJobRecords,
    warn_if_evicting,
)

log = logging.getLogger("service")
API_VERSION = "0.1.0"


def record_models(registry: Registry) -> None:
    gauges = metrics()
    gauges.models_loaded.set(len(registry.models))
    for model in registry.models.values():
        gauges.model_bytes.labels(model.name).set(sum(f.size for f in model.manifest.files.values()))
        gauges.load_seconds.labels(model.name).set(model.load_seconds)


def warm_up(registry: Registry, done: threading.Event) -> None:
    """Page in every model's matrix and exact neighbor table: one byte read per page, since a pass
    over the values themselves (a float16 max) costs seconds at 256k x 4,096 beyond the page-in."""
    for model in registry.models.values():
        space = model.space
        for table in (space.matrix, space.knn_ids, space.knn_sims):
            if table is not None:
                touch_pages(table)
    done.set()


PAGE = 4096


def touch_pages(table: np.ndarray) -> int:
    """Read one byte of every page of a (mapped, C-contiguous) array; returns their sum."""
    raw = np.asarray(table).reshape(-1).view(np.uint8)
    return sum(int(raw[lo : lo + (1 << 30) : PAGE].sum()) for lo in range(0, len(raw), 1 << 30))


def loaded_registry(settings: Settings, registry: Registry | None) -> Registry:
    """The artifacts (unless handed in), logged and recorded, then hidden from the garbage collector."""
    registry = registry if registry is not None else load_registry(settings)
    for model in registry.models.values():
        log.info(
            "loaded %s (%d x %d) in %.2f s",
            model.name,
            model.manifest.vocab_size,
            model.manifest.dim,
            model.load_seconds,
        )
    record_models(registry)
    # Millions of long-lived objects (vocabularies, lookup tables) would otherwise be traversed by
    # every full garbage collection: tens of ms that land on whichever request triggers it.
    gc.collect()
    gc.freeze()
    return registry


def start_warm_up(registry: Registry) -> threading.Event:
    """Readiness waits for the memory-mapped tables to be read once: the first requests on cold pages
    would otherwise pay the disk (seconds on a fresh node) instead of microseconds."""
    done = threading.Event()
    threading.Thread(target=warm_up, args=(registry, done), name="warm-up", daemon=True).start()
    return done


BUILD_POLL = 2.0  # seconds between looks for the artifacts still being built


async def watch_encoder_spaces(registry: Registry, every: float) -> None:
    """Each model's encoder space as it lands (`make run` builds them behind serving): word lookups
    switch to it without a restart, and a rebuilt one replaces the old. Every worker looks on its own;
    opening a space (its words' index) runs off the event loop."""
    while True:
        await asyncio.sleep(every)
        for model in list(registry.models.values()):
            if await asyncio.to_thread(model.refresh_encoder_space):
                state = (
                    "serves its encoder space" if model.encoder_space is not None else "has no encoder space"
                )
                log.info("%s now %s (%s)", model.name, state, model.encoder_missing or "word lookups use it")


async def serve_as_built(settings: Settings, registry: Registry) -> None:
    """Load each model still being built as soon as its artifact is in place (its pages read once,
    off the event loop), then serve it: `make run` answers from each model's first build (rows,
    vocabulary, labels: exact scans) while it builds the rest, and from the whole artifact, without a
    restart, when that lands."""
    while registry.building:
        await asyncio.sleep(BUILD_POLL)
        for name, key in list(registry.building.items()):
            found = built_artifact(settings, name, key)
            served = registry.models.get(name)
            if found is None or (served is not None and served.manifest.build_key == found[1].build_key):
                continue
            model = await asyncio.to_thread(_loaded_and_warm, found[0], settings.verify_checksums)
            registry.add(model)
            record_models(registry)
            log.info(
                "loaded %s in %.2f s%s; still building: %s",
                name,
                model.load_seconds,
                f" from its first build (building its {', '.join(model.manifest.stages_left)})"
                if model.first_build
                else "",
                ", ".join(sorted(registry.building)) or "none",
            )


def _loaded_and_warm(folder: Path, verify: bool) -> LoadedModel:
    model = load_model(folder, verify)
    for table in (model.space.matrix, model.space.knn_ids, model.space.knn_sims):
        if table is not None:
            touch_pages(table)
    gc.collect()
    gc.freeze()
    return model


def build_services(settings: Settings, registry: Registry) -> tuple[Services, list[ResilientRedis]]:
    """The response cache and the jobs, on Redis (with a local fallback) when configured."""
    count = metrics().cache.labels
    local = MemoryAnswers(settings.cache_max_entries, settings.cache_max_bytes)
    redis: list[ResilientRedis] = []
    store: AnswerStore = local
    if settings.redis_url:
        redis.append(ResilientRedis(settings.redis_url, on_error=lambda: count("redis", "error").inc()))
        store = FallbackAnswers(RedisAnswers(redis[0]), local)
    cache = ResponseCache(
        store,
        settings.cache_ttl_seconds,
        lambda e, o: count(e, o).inc(),
        max_value_bytes=settings.cache_max_bytes // 16,
        gate=Gate(
            settings.limits.max_running,
            settings.limits.max_waiting,
            settings.limits.max_waiting_per_client,
            min(settings.limits.max_wait_seconds, settings.compute_deadline_seconds),
        ),
        deadline=settings.compute_deadline_seconds,
    )
    return Services(registry, settings, cache, _jobs(settings, store, redis)), redis


def _jobs(settings: Settings, results: AnswerStore, redis: list[ResilientRedis]) -> Jobs:
    """Job records of their own, never among cached answers: a SQLite file shared by this machine's
    workers, behind a Redis that does not evict when one is configured."""
    local = SqliteJobRecords(settings.jobs_db)
    records: JobRecords = local
    url = settings.jobs_redis_url or settings.redis_url
    if url:
        if not (url == settings.redis_url and redis):  # an instance of their own
            redis.append(ResilientRedis(url, on_error=lambda: metrics().cache.labels("redis", "error").inc()))
        records = FallbackJobRecords(RedisJobRecords(redis[-1]), local)
    limits = settings.limits
    return Jobs(
        records,
        results,
        settings.cache_ttl_seconds,
        count=lambda e, o: metrics().cache.labels(e, o).inc(),
        max_queued=limits.max_queued_jobs,
        workers=limits.job_workers,
        sync_wait=limits.job_sync_wait_seconds,
        lease=settings.job_lease_seconds,
        deadline=limits.job_deadline_seconds,
        per_client=limits.max_jobs_per_client,
    )


def keys_required(settings: Settings) -> list[Callable[[ASGIApp], ASGIApp]]:
    """The API-key middleware when keys are configured (a key file that cannot be read stops the
    start-up with the reason)."""
    keys = configured_keys(settings.api_keys or "", settings.api_keys_file or "")
    if keys:
        log.info("API keys required: %d configured", len(keys))
    return [require_keys(keys)] if keys else []


def create_app(settings: Settings, registry: Registry | None = None) -> Litestar:
    """Build the app. The artifacts are loaded in the lifespan unless a registry is handed in."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        loaded = loaded_registry(settings, registry)
        services, redis = build_services(settings, loaded)
        for client in redis:  # a refused password stops the start-up with the reason
            await client.check_password()
        await warn_if_evicting(services.jobs.records)
        app.state.update(
            settings=settings,
            registry=loaded,
            warm=start_warm_up(loaded),
            services=services,
            redis=redis,
            jobs=services.jobs,
        )
        arrivals = asyncio.ensure_future(serve_as_built(settings, loaded)) if loaded.building else None
        spaces = asyncio.ensure_future(watch_encoder_spaces(loaded, settings.encoder_poll_seconds))
        try:
            yield
        finally:
            spaces.cancel()
            if arrivals is not None:
                arrivals.cancel()
            services.jobs.close()
            for client in redis:
                await client.close()

    return Litestar(
        before_request=require_json,
        route_handlers=[
            explorer,
            create_static_files_router("/static", directories=[STATIC], include_in_schema=False),
            create_static_files_router(
                "/reports",
                directories=[settings.reports],
                html_mode=True,
                include_in_schema=False,
                file_system=NoSymlinks(),
            ),
            models_api.router,
            neighbors_api.router,
            translations_api.router,
            vocabulary_api.router,
            analyses_api.router,
            maps_api.router,
            health,
            ready,
            MetricsController,
        ],
        middleware=[
            allow_every_method,
            head_without_body,
            gzip_answers,
            security_headers,
            *keys_required(settings),
            identify_clients(trusted_networks(settings.trusted_proxies or "")),
            body_timeout(settings.body_timeout_seconds),
            request_metrics(),
        ],
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.limits.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="polyglot-geometry",
            version=API_VERSION,
            description="Geometry of multilingual input embeddings: neighbors, scripts, translations "
            "(after Wen-Yi & Mimno, EMNLP 2023). Errors are RFC 9457 problem details.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
        ),
        debug=False,
    )
