"""Prometheus metrics beyond Litestar's request count/latency (which its plugin records: the HTTP side
is `service/api/metrics_route.py`).

Created once per process on first use (not at import). With several uvicorn workers,
`PROMETHEUS_MULTIPROC_DIR` is set by `python -m service` before prometheus_client is imported, and a
scrape of /metrics sums over the workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from prometheus_client import PLATFORM_COLLECTOR, REGISTRY, Counter, Gauge, Histogram

PREFIX = "polyglot"


@dataclass(frozen=True)
class Metrics:
    cache: Counter  # labels: endpoint (or 'redis'), outcome = hit | miss | corrupt | error
    analysis_seconds: Histogram  # labels: kind
    search_seconds: Histogram  # labels: method = table | exact | ann
    models_loaded: Gauge
    model_bytes: Gauge  # labels: model
    load_seconds: Gauge  # labels: model


@lru_cache(maxsize=1)
def metrics() -> Metrics:
    # no interpreter version in /metrics (prometheus_client's python_info): nothing an answer need not say
    if PLATFORM_COLLECTOR in REGISTRY._collector_to_names:
        REGISTRY.unregister(PLATFORM_COLLECTOR)
    return Metrics(
        cache=Counter(
            f"{PREFIX}_cache_total", "Cache lookups by endpoint and outcome", ["endpoint", "outcome"]
        ),
        analysis_seconds=Histogram(
            f"{PREFIX}_analysis_seconds",
            "Analysis computation time",
            ["kind"],
            buckets=(0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600),
        ),
        search_seconds=Histogram(
            f"{PREFIX}_search_seconds",
            "Neighbor search latency",
            ["method"],
            buckets=(0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5),
        ),
        models_loaded=Gauge(f"{PREFIX}_models_loaded", "Models loaded", multiprocess_mode="max"),
        model_bytes=Gauge(
            f"{PREFIX}_model_bytes", "Artifact size on disk", ["model"], multiprocess_mode="max"
        ),
        load_seconds=Gauge(
            f"{PREFIX}_artifact_load_seconds",
            "Artifact load time at start-up",
            ["model"],
            multiprocess_mode="max",
        ),
    )
