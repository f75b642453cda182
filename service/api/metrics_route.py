"""/metrics and the request count/latency middleware (Litestar's metrics, names and labels), under the
service's metric prefix."""

from __future__ import annotations

import time
from typing import Any

from litestar.enums import ScopeType
from litestar.middleware import DefineMiddleware
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController, PrometheusMiddleware
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import Message, Receive, Scope, Send

from service.metrics import PREFIX


def prometheus_config() -> PrometheusConfig:
    return PrometheusConfig(
        app_name="polyglot-geometry",
        prefix=PREFIX,
        group_path=True,
        exclude=["/metrics", "/health", "/ready"],
    )


class RequestMetrics(PrometheusMiddleware):
    """Litestar's Prometheus middleware (the same four metrics, names and labels: method, path
    template, status code, app name) without its per-request `Request` object, label dicts and label
    lookups: each (method, path, status)'s children are found once and kept. It was a tenth of a
    cold lookup's time in the app."""

    def __init__(self, app: Any, config: PrometheusConfig) -> None:
        super().__init__(app, config)
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._progress: dict[tuple[str, str], Any] = {}

    def _labels(self, method: str, path: str, status: int) -> dict[str, str | int | float]:
        return {"method": method, "path": path, "status_code": status, "app_name": self._config.app_name}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"] if scope["type"] == ScopeType.HTTP else scope["type"]  # type: ignore[typeddict-item]
        path = scope["path_template"] if self._config.group_path else scope["path"]  # type: ignore[typeddict-item]
        progress = self._progress.get((method, path))
        if progress is None:
            labels = self._labels(method, path, 200)
            progress = self._progress[(method, path)] = self.requests_in_progress(labels).labels(
                *labels.values()
            )
        started, status = time.perf_counter(), [200, 0.0]

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body":
                status[1] = time.perf_counter() - started
            await send(message)

        progress.inc()
        try:
            await self.app(scope, receive, timed_send)
        finally:
            progress.dec()
            code = int(status[0])
            children = self._children.get((method, path, code))
            if children is None:
                labels = self._labels(method, path, code)
                values = list(labels.values())
                children = self._children[(method, path, code)] = (
                    self.request_count(labels).labels(*values),
                    self.request_time(labels).labels(*values),
                )
            if code >= HTTP_500_INTERNAL_SERVER_ERROR:  # its series appears with the first error, as before
                labels = self._labels(method, path, code)
                self.requests_error_count(labels).labels(*labels.values()).inc()
            children[0].inc()
            children[1].observe(status[1])


def request_metrics() -> DefineMiddleware:
    return DefineMiddleware(RequestMetrics, config=prometheus_config())


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False
