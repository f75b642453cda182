"""The analyses through the API (in-process test client, lifespan running), one run, both models:
diversity on a 1% sample and on the whole vocabulary (paper scheme), distinct languages among 50
neighbors (scheme=language, count=scripts-only), and separability cold (computed) vs cached repeat.
With `redis-server` on the PATH the cache is a real Redis on loopback, else the in-process store.

Usage: python bench/analyses.py [--artifacts artifacts]
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from litestar.testing import TestClient  # noqa: E402

from service.app import create_app  # noqa: E402
from service.settings import Settings  # noqa: E402

MODELS = ("multilingual-e5-small", "use-multilingual-v3")


def result(client: TestClient[Any], path: str, params: dict[str, Any]) -> tuple[dict[str, Any], float]:
    """The analysis result (polling its job) and the seconds it took."""
    started = time.perf_counter()
    response = client.get(path, params=params)
    if response.status_code == 202:
        url = response.json()["url"]
        while (job := client.get(url).json())["status"] == "running":
            time.sleep(0.2)
        assert job["status"] == "done", job
        return job["result"], time.perf_counter() - started
    assert response.status_code == 200, response.text
    return response.json(), time.perf_counter() - started


def redis_url() -> tuple[str | None, subprocess.Popen[bytes] | None]:
    if shutil.which("redis-server") is None:
        return None, None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            tempfile.mkdtemp(),
        ],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):  # until it answers
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    return f"redis://127.0.0.1:{port}/0", process


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    cli.add_argument("--artifacts", default=str(ROOT / "artifacts"))
    args = cli.parse_args()
    url, redis = redis_url()
    settings = Settings(artifacts=tuple(Path(args.artifacts) / m for m in MODELS), redis_url=url)
    try:
        with TestClient(create_app(settings)) as client:
            print("| model | 1% sample (paper) | whole vocabulary | time (1% / whole) |")
            print("| --- | --- | --- | --- |")
            for model in MODELS:
                path = f"/v1/models/{model}/diversity"
                small, small_s = result(client, path, {"seed": 0})
                whole, whole_s = result(client, path, {"seed": 0, "sample": 1.0})
                print(
                    f"| {model} | {small['mean']:.2f} (sd {small['sd']:.2f}), {small['queries']:,} queries "
                    f"| {whole['mean']:.2f} (sd {whole['sd']:.2f}) | {small_s:.3f} s / {whole_s:.2f} s |"
                )
            for model in MODELS:
                params = {"scheme": "language", "count": "scripts-only", "seed": 0}
                body, _ = result(client, f"/v1/models/{model}/diversity", params)
                print(
                    f"{model}: {body['mean']:.2f} distinct languages among 50 neighbors "
                    f"({body['queries']} language-labelled queries, seed 0)"
                )
            store = "Redis on loopback" if url else "the in-process store"
            print(f"\nseparability, paper protocol defaults, cache: {store}")
            print("| model | cold (computed; 202, then polled) | cached repeat, p50 of 20 |")
            print("| --- | --- | --- |")
            for model in reversed(MODELS):
                path = f"/v1/models/{model}/separability"
                cold, cold_s = result(client, path, {})
                repeats = []
                for _ in range(20):
                    started = time.perf_counter()
                    assert client.get(path).json()["cached"]
                    repeats.append(time.perf_counter() - started)
                print(
                    f"| {model} | {cold_s:.1f} s (mean accuracy {cold['mean']:.4f}) "
                    f"| {np.median(repeats) * 1000:.1f} ms |"
                )
    finally:
        if redis is not None:
            redis.terminate()


if __name__ == "__main__":
    main()
