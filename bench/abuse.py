"""Bounded and right under abuse: memory, latency under heavy load, and filtered recall, in one run.

1. Recall (in-process, e5): filtered neighbors against exact cosine over the allowed rows, per
   script and language filter (12 random queries of other scripts each), with mean latency; random
   vectors at recall@10, by default (exact) and with approximate=true.
2. Over HTTP, one uvicorn worker, in-process cache bounded to --cache-mb:
   - RSS after --requests distinct maximal batches (250 token queries x k=100: the answer budget);
   - p50/p99 of a cheap request (a table lookup) alone, then while 16 heavy requests run at once
     (exact batches at the brute-force budget);
   - the status codes of all of it (no 5xx expected; 503 is admission control saying "busy").
3. The peak memory of a dictionary evaluation of 500 and of 2,000 pairs against a Latin + Cyrillic pool.
4. Valid requests that must be bounded up front (issue 26): each one's status and time, refused
   ones in milliseconds; the loop's latency under heavy requests is bench/loop_latency.py.
Usage: python bench/abuse.py [--requests 300] [--cache-mb 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.request_path import free_port, serve  # noqa: E402
from geometry.neighbors import exact_search, normalize, search  # noqa: E402
from service.queries.filters import filter_mask  # noqa: E402
from service.registry import load_model  # noqa: E402

E5 = "multilingual-e5-small"


def recall_table(artifact: Path) -> None:
    model = load_model(artifact, verify_checksums=False)
    space = model.space
    rng = np.random.default_rng(0)
    print("| filter | allowed rows | recall@50 (mean, min) | ms per query | methods |")
    print("| --- | --- | --- | --- | --- |")
    filters: list[tuple[str, list[str] | None, list[str] | None]] = [
        ("scripts=Latin", ["Latin"], None),
        ("scripts=Cyrillic", ["Cyrillic"], None),
        ("scripts=Han", ["Han"], None),
        ("scripts=Arabic", ["Arabic"], None),
        ("scripts=Greek", ["Greek"], None),
        ("languages=fr", None, ["fr"]),
        ("languages=ru", None, ["ru"]),
    ]
    for name, scripts, languages in filters:
        mask = filter_mask(model, "unicode", scripts, None, languages)
        assert mask is not None
        own = model.label_mask("unicode", scripts) if scripts else np.zeros(len(mask), dtype=bool)
        pool = np.flatnonzero((space.norms > 0) & ~own & ~mask)
        recalls, methods, took = [], Counter(), 0.0
        for token in rng.choice(pool, 12, replace=False):
            query = space.unit(np.array([token]))[0]
            started = time.perf_counter()
            hits = search(space, query, 50, token=int(token), mask=mask)
            took += time.perf_counter() - started
            allowed = np.flatnonzero(mask)
            truth = exact_search(space, query, 50, allowed[allowed != token])
            recalls.append(len(set(hits.ids.tolist()) & set(truth.ids.tolist())) / 50)
            methods[hits.method] += 1
        print(
            f"| {name} | {int(mask.sum()):,} | {np.mean(recalls):.3f}, {min(recalls):.3f} "
            f"| {1000 * took / 12:.1f} | {dict(methods)} |"
        )
    for approximate in (False, True):
        recalls, took = [], 0.0
        for _ in range(12):
            query = normalize(rng.standard_normal(space.matrix.shape[1]).astype(np.float32))
            started = time.perf_counter()
            hits = search(space, query, 10, approximate=approximate)
            took += time.perf_counter() - started
            truth = exact_search(space, query, 10, None)
            recalls.append(len(set(hits.ids.tolist()) & set(truth.ids.tolist())) / 10)
        label = "approximate=true" if approximate else "default (exact)"
        print(
            f"random vectors, {label}: recall@10 {np.mean(recalls):.3f}, {1000 * took / 12:.1f} ms per query"
        )


EVALUATION = """
import sys, time, tracemalloc
import numpy as np
from pathlib import Path
from service.registry import load_model
from service.request_types import EvaluateRequest
from service.queries.evaluation import evaluate_dictionary
model = load_model(Path(sys.argv[1]), verify_checksums=False)
rng = np.random.default_rng(0)
words = [t for t in model.raw if t.startswith("\u2581") and t[1:].isalpha() and t[1:].isascii()]
cyrillic = [model.raw[i] for i in model.label_ids("unicode", ["Cyrillic"])]
cyrillic = [t for t in cyrillic if t.startswith("\u2581")]
for size in (500, 2000):
    pairs = [[str(a), str(b)] for a, b in zip(rng.choice(words, size), rng.choice(cyrillic, size))]
    request = EvaluateRequest(pairs=pairs, target_scripts=["Latin", "Cyrillic"])
    tracemalloc.start()  # numpy reports its buffers to tracemalloc: the request's own allocations
    started = time.perf_counter()
    out = evaluate_dictionary(model, request)
    took = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"dictionary evaluation, {out.queries} sources x {out.candidates:,} candidates (Latin + Cyrillic): "
          f"{took:.1f} s, peak allocations {peak:.0f} MB (tracemalloc)")
"""


def evaluation_memory(artifact: Path) -> None:
    """Peak memory of one large dictionary evaluation, in a process of its own."""
    done = subprocess.run(
        [sys.executable, "-c", EVALUATION, str(artifact)], capture_output=True, text=True, cwd=ROOT
    )
    print(done.stdout.strip() or done.stderr.strip()[-2000:])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def request(
    port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, float]:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    writer.write(head.encode() + b"\r\n" + body)
    await writer.drain()
    data = await reader.read()
    writer.close()
    return int(data.split(b" ", 2)[1]), time.perf_counter() - started


async def http_figures(port: int, pid: int, tokens: list[str], requests: int, cache_mb: int) -> None:
    rng = random.Random(1)
    statuses: Counter[int] = Counter()
    print(f"\nRSS at start: {rss_mb(pid):.0f} MB (cache bound {cache_mb} MB)")
    for i in range(requests):
        batch = {"queries": [{"token": t} for t in rng.sample(tokens, 250)], "k": 100}
        status, _ = await request(port, "POST", f"/v1/models/{E5}/neighbors", json.dumps(batch).encode())
        statuses[status] += 1
        if (i + 1) % max(1, requests // 3) == 0:
            print(f"  after {i + 1} distinct maximal batches (25,000 rows each): RSS {rss_mb(pid):.0f} MB")

    async def cheap(count: int) -> list[float]:
        out = []
        for _ in range(count):
            status, took = await request(
                port, "GET", f"/v1/models/{E5}/neighbors?k=10&id={rng.randrange(5, 250_000)}"
            )
            statuses[status] += 1
            out.append(took * 1000)
        return out

    alone = await cheap(200)
    vectors = [[rng.uniform(-1, 1) for _ in range(384)] for _ in range(100)]
    heavy_body = json.dumps({"queries": [{"vector": v} for v in vectors], "k": 10}).encode()

    async def heavy() -> None:
        status, _ = await request(port, "POST", f"/v1/models/{E5}/neighbors", heavy_body)
        statuses[status] += 1

    loaded: list[float] = []

    async def heavy_load() -> None:
        for _ in range(3):
            await asyncio.gather(*[heavy() for _ in range(16)])

    load = asyncio.ensure_future(heavy_load())
    while not load.done():
        loaded.extend(await cheap(10))
    for name, values in (("alone", alone), ("with 16 heavy requests in flight", loaded)):
        p50, p99 = np.percentile(values, [50, 99])
        print(f"cheap request {name}: p50 {p50:.1f} ms, p99 {p99:.1f} ms ({len(values)} requests)")
    print(f"status codes over the run: {dict(sorted(statuses.items()))}")


async def bounded_cases(port: int) -> None:
    """Requests that used to run long before (or instead of) being refused."""
    rng = random.Random(2)
    m = f"/v1/models/{E5}"
    long_word = "w" * 1_000_000
    many_pairs = "\n".join(f"water{i} вода{i}" for i in range(100_000))
    vectors = [[rng.uniform(-1, 1) for _ in range(384)] for _ in range(1024)]
    texts = " ".join(rng.choice(["water", "house", "river"]) for _ in range(200))[:1000]
    cases: list[tuple[str, str, str, object]] = [
        ("a 1,000,000-character word in list form", "POST", f"{m}/translations/evaluate",
         {"pairs": [[long_word, "вода"]]}),
        ("100,000 dictionary pairs, no target scripts", "POST", f"{m}/translations/evaluate",
         {"dictionary": many_pairs}),
        ("1,024 exact vectors, k=24", "POST", f"{m}/neighbors",
         {"queries": [{"vector": v} for v in vectors], "k": 24}),
        ("512 exact vectors, k=24", "POST", f"{m}/neighbors",
         {"queries": [{"vector": v} for v in vectors[:512]], "k": 24}),
        ("1,024 texts of 1,000 characters", "POST", f"{m}/neighbors",
         {"queries": [{"text": texts}] * 1024, "k": 10}),
        ("1,024 CSLS translations", "POST", f"{m}/translations",
         {"queries": [{"id": 1000 + i} for i in range(1024)], "k": 10}),
        ("compare sample=1, k=1000", "GET", f"/v1/compare?models={E5},use-multilingual-v3&sample=1&k=1000",
         None),
    ]  # fmt: skip
    print("\n| valid request | status | time |")
    print("| --- | --- | --- |")
    for name, method, path, body in cases:
        encoded = b"" if body is None else json.dumps(body).encode()
        status, took = await request(port, method, path, encoded)
        print(f"| {name} | {status} | {took * 1000:,.0f} ms |")


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    cli.add_argument("--requests", type=int, default=300)
    cli.add_argument("--cache-mb", type=int, default=64)
    cli.add_argument("--artifact", default=str(ROOT / "artifacts" / E5))
    args = cli.parse_args()
    artifact = Path(args.artifact).resolve()
    recall_table(artifact)
    evaluation_memory(artifact)
    raw = json.loads((artifact / "vocab.json").read_text())["raw"]
    tokens = [t for t in raw if t.startswith("\u2581") and len(t) > 1]
    port = free_port()
    served = f"{artifact}:{ROOT / 'artifacts' / 'use-multilingual-v3'}"  # compare needs a second model
    env = {"POLYGLOT_ARTIFACTS": served, "POLYGLOT_CACHE_MAX_BYTES": str(args.cache_mb << 20)}
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "service.asgi:app",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with serve(argv, env, port, "/health") as server:
        asyncio.run(http_figures(port, server.pid, tokens, args.requests, args.cache_mb))
        asyncio.run(bounded_cases(port))


if __name__ == "__main__":
    main()
