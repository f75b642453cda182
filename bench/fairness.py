"""Two clients, one flooding: the other's latency, and whether the flood's waits are bounded.

One uvicorn worker serves e5 and USE with two API keys (a client is its key). Client A keeps
`--flood` heavy requests in flight for `--seconds`: USE encoder-space word lookups of 256 texts each
(distinct texts each time, so nothing is cached), waiting a second after a 429 or 503 as its
Retry-After asks. Client B meanwhile asks, one after another, plain
lookups (e5 neighbors by id: the exact table, answered on the event loop) and filtered lookups
(`scripts=Latin`: a search in a worker thread, admitted by the gate). Prints B's p50, p99 and worst
per kind, A's answers by status and the longest time one of them took, and the same for B's
filtered lookups alone (no flood) as the floor.

Usage: python bench/fairness.py [--seconds 20] [--flood 64] [--code DIR]
(`--code`: the checkout to serve, for a before/after on the same machine and artifacts.)
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

E5, USE = "multilingual-e5-small", "use-multilingual-v3"
KEYS = {"A": "flooding-client-key", "B": "light-client-key"}


def auth(client: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[client]}"}


async def light(port: int, seconds: float, rng: random.Random) -> dict[str, list[float]]:
    took: dict[str, list[float]] = {"plain": [], "filtered": []}
    statuses: Counter[int] = Counter()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        i = rng.randrange(1000, 240_000)
        for kind, path in (
            ("plain", f"/v1/models/{E5}/neighbors?id={i}&k=10"),
            ("filtered", f"/v1/models/{E5}/neighbors?id={i}&k=10&scripts=Latin"),
        ):
            status, latency = await request(port, "GET", path, headers=auth("B"))
            statuses[status] += 1
            took[kind].append(latency * 1000)
        await asyncio.sleep(0.02)
    took["statuses"] = [float(k) for k in statuses.elements()]
    return took


async def flood(port: int, seconds: float, width: int, words: list[str]) -> tuple[Counter[int], float]:
    rng = random.Random(1)
    statuses: Counter[int] = Counter()
    longest = 0.0
    end = time.monotonic() + seconds

    async def one() -> None:
        nonlocal longest
        while time.monotonic() < end:
            texts = rng.sample(words, 256)
            body = {"queries": [{"text": t} for t in texts], "pool": "words", "space": "encoder", "k": 5}
            body["target_languages"] = ["de"]
            path = f"/v1/models/{USE}/translations"
            status, latency = await request(port, "POST", path, json.dumps(body).encode(), auth("A"))
            statuses[status] += 1
            longest = max(longest, latency)
            if status in (429, 503):  # as the Python client does: wait as Retry-After (1 s) asks
                await asyncio.sleep(1.0)

    await asyncio.gather(*[one() for _ in range(width)])
    return statuses, longest


def row(name: str, values: list[float]) -> str:
    p50, p99 = np.percentile(values, [50, 99])
    return f"| {name} | {len(values)} | {p50:.1f} ms | {p99:.1f} ms | {max(values):.1f} ms |"


async def figures(port: int, seconds: float, width: int, words: list[str]) -> None:
    rng = random.Random(0)
    alone = await light(port, min(seconds, 5.0), rng)
    floods = asyncio.ensure_future(flood(port, seconds, width, words))
    await asyncio.sleep(1.0)  # the flood is in flight
    loaded = await light(port, seconds - 1.0, rng)
    statuses, longest = await floods
    print("| B's requests | count | p50 | p99 | worst |")
    print("| --- | --- | --- | --- | --- |")
    print(row("plain, no flood", alone["plain"]))
    print(row("filtered, no flood", alone["filtered"]))
    print(row(f"plain, A floods {width} encoder batches", loaded["plain"]))
    print(row(f"filtered, A floods {width} encoder batches", loaded["filtered"]))
    print(f"\nB's statuses under the flood: {dict(Counter(int(s) for s in loaded['statuses']))}")
    print(f"A's statuses: {dict(sorted(statuses.items()))}; A's longest request {longest:.1f} s")


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    cli.add_argument("--seconds", type=float, default=20.0)
    cli.add_argument("--flood", type=int, default=64)
    cli.add_argument("--code", default=str(ROOT), help="the checkout to serve (default: this one)")
    args = cli.parse_args()
    artifacts = ROOT / "artifacts"
    raw = json.loads((artifacts / E5 / "vocab.json").read_text())["raw"]
    words = [t[1:] for t in raw if t.startswith("\u2581") and t[1:].isalpha() and t[1:].isascii()]
    port = free_port()
    env = {
        "POLYGLOT_ARTIFACTS": f"{(artifacts / E5).resolve()}:{(artifacts / USE).resolve()}",
        "POLYGLOT_API_KEYS": ",".join(KEYS.values()),
    }
    argv = [sys.executable, "-m", "uvicorn", "--factory", "service.asgi:app", "--port", str(port)]
    argv += ["--log-level", "warning", "--no-access-log"]
    with serve(argv, env, port, "/ready", cwd=Path(args.code)):
        asyncio.run(figures(port, args.seconds, args.flood, words))


if __name__ == "__main__":
    main()
