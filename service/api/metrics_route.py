"""/metrics and Litestar's request count/latency middleware, under the service's metric prefix."""

from __future__ import annotations

from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

from service.metrics import PREFIX


def prometheus_config() -> PrometheusConfig:
    return PrometheusConfig(
        app_name="polyglot-geometry",
        prefix=PREFIX,
        group_path=True,
        exclude=["/metrics", "/health", "/ready"],
    )


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False
