"""Latency of GET /neighbors (k=50, random tokens) against a running service, sequential requests.

Start the service first (`make run`), then: python bench/http_latency.py [base-url] [model] [requests]
Prints p50/p90/p99, requests/s over one connection and how many answers were cache hits (X-Cache);
for load against the anchor app see bench/request_path.py.
"""

from __future__ import annotations

import http.client
import json
import sys
import time
from urllib.parse import quote, urlparse

import numpy as np


def main() -> None:
    base = urlparse(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
    model = sys.argv[2] if len(sys.argv) > 2 else "multilingual-e5-small"
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    conn = http.client.HTTPConnection(base.hostname or "127.0.0.1", base.port or 80, timeout=30)
    conn.request("GET", f"/v1/models/{model}")
    size = json.loads(conn.getresponse().read())["vocab_size"]
    ids = np.random.default_rng(0).integers(5, size, count)
    latencies = []
    hits = 0
    started = time.perf_counter()
    for ident in ids:
        t = time.perf_counter()
        conn.request("GET", f"/v1/models/{quote(model)}/neighbors?id={int(ident)}&k=50")
        response = conn.getresponse()
        response.read()
        latencies.append(time.perf_counter() - t)
        hits += response.getheader("X-Cache") == "hit"
    total = time.perf_counter() - started
    ms = np.array(latencies) * 1000
    print(f"{model}: {count} sequential k=50 neighbor requests by id over one connection")
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    print(f"  p50 {p50:.2f} ms, p90 {p90:.2f} ms, p99 {p99:.2f} ms, {count / total:.0f} requests/s")
    print(f"  answered from the service's cache: {hits} of {count} (X-Cache: hit)")


if __name__ == "__main__":
    main()
