"""The event loop under heavy requests: /health latency while 16 heavy requests of one kind are in
flight (one uvicorn worker, e5), kind by kind. The heavy requests accept gzip, as browsers and the
Python client do (the exports are the same file each time: a cached 7 MB answer sent 16 at a time).
The target is a worst /health under 100 ms: nothing heavy may run on the event loop, and a worker
thread holding the GIL must let go between blocks.

Usage: python bench/loop_latency.py [--seconds 8] [--kinds group,mmr,...] [--code DIR]
(`--code`: the checkout to serve, for a before/after on the same machine and artifacts.)
Prints one row per kind: the heavy requests' status codes and time, /health p50, p99 and worst.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.abuse import request  # noqa: E402
from bench.request_path import free_port, serve  # noqa: E402

E5 = "multilingual-e5-small"
M = f"/v1/models/{E5}"
# name -> the path of a GET, {i} making each request a distinct one
HEAVY: dict[str, str] = {
    "group_by=language&k=10": "/neighbors?id={i}&group_by=language&k=10",
    "mmr=0.5&k=30": "/neighbors?id={i}&mmr=0.5&k=30",
    "group_by=script&k=100&group_size=100": "/neighbors?id={i}&group_by=script&k=100&group_size=100",
    "exact=true&k=10": "/neighbors?id={i}&exact=true&k=10",
    "translations csls": "/translations?id={i}&k=10",
    "geometry centred-top 20": "/geometry?by=language&postprocess=centred-top&components=20&seed={i}",
    "export parquet (cached)": "/export",
    "export projector (cached)": "/export?format=projector",
    "encoder batch of 64 texts": "POST /neighbors",
}
GZIP = {"Accept-Encoding": "gzip"}
WORDS = ("water", "house", "river", "mountain", "city", "bread", "night", "green", "letter", "friend")


def encoder_batch(i: int) -> bytes:
    """64 distinct short texts for the encoder space (nothing cached)."""
    texts = [f"{WORDS[(i + j) % 10]} {WORDS[(i * 7 + j) % 10]} {i} {j}" for j in range(64)]
    return json.dumps({"queries": [{"text": t} for t in texts], "space": "encoder", "k": 10}).encode()


async def run_kind(port: int, path: str, seconds: float) -> dict[str, object]:
    rng = random.Random(0)
    statuses: Counter[int] = Counter()
    took: list[float] = []

    async def heavy() -> None:
        i = rng.randrange(1000, 240_000)
        started = time.perf_counter()
        if path.startswith("POST "):
            status, _ = await request(port, "POST", M + path[5:], encoder_batch(i), GZIP)
        else:
            status, _ = await request(port, "GET", M + path.format(i=i), headers=GZIP)
        took.append(time.perf_counter() - started)
        statuses[status] += 1

    async def stream() -> None:  # keep one heavy request in flight, one after another
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            await heavy()

    load = asyncio.gather(*[stream() for _ in range(16)])
    probes: list[float] = []
    await asyncio.sleep(0.2)  # the heavy requests are in flight
    while not load.done():
        status, latency = await request(port, "GET", "/health")
        statuses[-status] += 1  # negative: /health's own codes
        probes.append(latency * 1000)
        await asyncio.sleep(0.01)
    await load
    p50, p99 = np.percentile(probes, [50, 99])
    return {
        "heavy": dict(sorted((k, v) for k, v in statuses.items() if k > 0)),
        "heavy_s": float(np.median(took)),
        "p50": float(p50),
        "p99": float(p99),
        "worst": float(max(probes)),
        "probes": len(probes),
    }


async def figures(port: int, kinds: list[str], seconds: float) -> None:
    print("| heavy request (16 in flight) | their statuses | median time | /health p50 | p99 | worst |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in kinds:
        got = await run_kind(port, HEAVY[name], seconds)
        print(
            f"| {name} | {got['heavy']} | {got['heavy_s']:.2f} s | {got['p50']:.1f} ms "
            f"| {got['p99']:.1f} ms | {got['worst']:.1f} ms |"
        )


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    cli.add_argument("--seconds", type=float, default=8.0)
    cli.add_argument("--kinds", default=",".join(HEAVY))
    cli.add_argument("--artifact", default=str(ROOT / "artifacts" / E5))
    cli.add_argument("--code", default=str(ROOT), help="the checkout to serve (default: this one)")
    args = cli.parse_args()
    port = free_port()
    env = {"POLYGLOT_ARTIFACTS": str(Path(args.artifact).resolve())}
    argv = [sys.executable, "-m", "uvicorn", "--factory", "service.asgi:app", "--port", str(port)]
    argv += ["--log-level", "warning", "--no-access-log"]
    with serve(argv, env, port, "/ready", cwd=Path(args.code)):
        asyncio.run(figures(port, args.kinds.split(","), args.seconds))


if __name__ == "__main__":
    main()
