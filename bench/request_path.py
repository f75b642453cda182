"""The neighbors request path against the anchor app (../shared/anchors/thin_app.py), same run.

Starts the anchor and the project (one uvicorn worker each, same e5 artifact, in-process cache),
then with wrk and the anchor's Lua script prints, as ratios project / anchor:
1. cache-missing random word-initial tokens, k=50, at 1, 4 and 16 connections (req/s, p50, p99);
2. a warm hot set of 5,000 tokens at 4 connections (req/s);
3. body sizes of a k=50 answer: plain, gzip, and lean (`fields=token,similarity`) gzip;
4. a POST batch of 256 token queries against 256 single GET requests over one connection;
5. the framework's floor: the project's /health req/s at 4 connections, and a cold lookup's share of it
   and a cache hit's (the ceiling of a cold lookup's: a hit is a lookup without the answer's computation).
Every wrk run's status counts are checked (a broken script silently requests `/`).

Usage: python bench/request_path.py [--seconds 15] [--artifact artifacts/multilingual-e5-small]
    [--code DIR]  (the checkout the project is served from, for a before/after)
Needs wrk (`apt-get install wrk`) and ../shared/anchors/ beside the project.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
ANCHORS = ROOT.parent / "shared" / "anchors"
PYTHON = sys.executable
E5 = "multilingual-e5-small"
BATCH_K = 49  # not 50: none of these answers is in the cache from the wrk runs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(port: int, path: str, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"port {port} did not answer {path}")


@contextmanager
def serve(
    argv: list[str], env: dict[str, str], port: int, ready: str, cwd: Path = ROOT
) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(argv, env={**os.environ, **env}, cwd=cwd, stdout=subprocess.DEVNULL)
    try:
        wait_ready(port, ready)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=20)


def wrk(port: int, prefix: str, tokens: Path | None, connections: int, seconds: int) -> dict[str, float]:
    """wrk's figures for random tokens after `prefix`, or (tokens None) for the path `prefix`."""
    script = ["-s", str(ANCHORS / "wrk_tokens.lua")] if tokens is not None else []
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            *script,
            f"http://127.0.0.1:{port}" + ("" if tokens is not None else prefix),
        ],
        env={**os.environ, "TOKENS": str(tokens), "PREFIX": prefix},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")

    def latency(name: str) -> float:
        value, unit = re.search(rf"^\s+{name}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return {"rps": rate, "p50": latency("50%"), "p99": latency("99%")}


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    return response.status, response.read(), {k.lower(): v for k, v in response.getheaders()}


def batch_vs_singles(port: int, tokens: list[str]) -> tuple[float, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    for token in tokens:
        conn.request("GET", f"/v1/models/{E5}/neighbors?k={BATCH_K}&token={quote(token)}")
        response = conn.getresponse()
        response.read()
        assert response.status == 200
    singles = time.perf_counter() - started
    body = json.dumps({"queries": [{"token": t} for t in tokens], "k": BATCH_K}).encode()
    started = time.perf_counter()
    conn.request("POST", f"/v1/models/{E5}/neighbors", body, {"content-type": "application/json"})
    response = conn.getresponse()
    response.read()
    assert response.status == 200
    return singles, time.perf_counter() - started


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    cli.add_argument("--seconds", type=int, default=15)
    cli.add_argument("--artifact", default=str(ROOT / "artifacts" / E5))
    cli.add_argument("--code", default=str(ROOT), help="the checkout the project is served from")
    args = cli.parse_args()
    artifact = Path(args.artifact).resolve()
    raw = json.loads((artifact / "vocab.json").read_text())["raw"]
    words = [t for t in raw if t.startswith("\u2581") and len(t) > 1 and "\n" not in t]
    rng = random.Random(0)
    work = Path(tempfile.mkdtemp(prefix="request-path-"))
    everything, hot = work / "tokens.txt", work / "hot.txt"
    everything.write_text("\n".join(words) + "\n")
    hot_set = rng.sample(words, 5000)
    hot.write_text("\n".join(hot_set) + "\n")
    thin, ours = free_port(), free_port()
    anchor = [
        PYTHON,
        "-m",
        "uvicorn",
        "--app-dir",
        str(ANCHORS),
        "thin_app:app",
        "--port",
        str(thin),
        "--log-level",
        "warning",
    ]
    project = [
        PYTHON,
        "-m",
        "uvicorn",
        "--factory",
        "service.asgi:app",
        "--port",
        str(ours),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    ours_prefix = f"/v1/models/{E5}/neighbors?k=50&token="
    print(f"{len(words):,} word-initial e5 tokens; wrk {args.seconds} s per run; one uvicorn worker each")
    with (
        serve(anchor, {"ARTIFACT": str(artifact)}, thin, "/hello"),
        serve(
            project,
            {"POLYGLOT_ARTIFACTS": str(artifact), "POLYGLOT_CACHE_MAX_ENTRIES": "8192"},
            ours,
            "/health",
            cwd=Path(args.code),
        ),
    ):
        # warm both (first touches of the memory-mapped files)
        wrk(thin, "/neighbors?k=50&token=", hot, 4, 3)
        print(
            "\n| connections | anchor req/s, p50, p99 | project req/s, p50, p99 | req/s ratio | p99 ratio |"
        )
        print("| --- | --- | --- | --- | --- |")
        for connections in (1, 4, 16):
            a = wrk(thin, "/neighbors?k=50&token=", everything, connections, args.seconds)
            b = wrk(ours, ours_prefix, everything, connections, args.seconds)
            print(
                f"| {connections} | {a['rps']:,.0f}, {a['p50']:.2f} ms, {a['p99']:.2f} ms "
                f"| {b['rps']:,.0f}, {b['p50']:.2f} ms, {b['p99']:.2f} ms "
                f"| {b['rps'] / a['rps']:.2f}x | {b['p99'] / a['p99']:.2f}x |"
            )
        floor = wrk(ours, "/health", None, 4, args.seconds)
        cold = wrk(ours, ours_prefix, everything, 4, args.seconds)
        print(
            f"\nthe framework's floor, 4 connections: /health {floor['rps']:,.0f} req/s; a cold k=50 lookup "
            f"{cold['rps']:,.0f} req/s: {cold['rps'] / floor['rps']:.2f} of the floor, "
            f"{1000 / cold['rps'] - 1000 / floor['rps']:.3f} ms more of the worker per request"
        )
        wrk(ours, ours_prefix, hot, 4, args.seconds)  # fills the cache with the hot set
        a = wrk(thin, "/neighbors?k=50&token=", hot, 4, args.seconds)
        b = wrk(ours, ours_prefix, hot, 4, args.seconds)
        print(
            f"\nwarm hot set of 5,000 tokens, 4 connections: anchor {a['rps']:,.0f} req/s, project "
            f"{b['rps']:,.0f} req/s: {b['rps'] / a['rps']:.2f}x"
        )
        # A hit does all a cold lookup does but compute and encode the answer: a cold lookup's share
        # of the floor cannot pass it.
        print(
            f"a cache hit: {b['rps'] / floor['rps']:.2f} of the floor "
            f"(a cold lookup: {cold['rps'] / floor['rps']:.2f})"
        )
        path = ours_prefix + quote("\u2581water")
        _, plain, _ = get(ours, path)
        _, zipped, headers = get(ours, path, {"Accept-Encoding": "gzip"})
        _, lean, _ = get(ours, path + "&fields=token,similarity", {"Accept-Encoding": "gzip"})
        _, anchor_body, _ = get(thin, "/neighbors?k=50&token=" + quote("\u2581water"))
        assert headers.get("content-encoding") == "gzip"
        print(
            f"\nk=50 answer for ▁water: {len(plain):,} B plain, {len(zipped):,} B gzip, "
            f"{len(lean):,} B lean gzip (fields=token,similarity); anchor {len(anchor_body):,} B plain"
        )
        sample = rng.sample(words, 256)
        batch_vs_singles(ours, rng.sample(words, 256))  # warm-up on other tokens
        singles, batch = batch_vs_singles(ours, sample)
        print(
            f"256 token queries, k={BATCH_K}, not cached: 256 GETs {singles * 1000:.0f} ms, one POST batch "
            f"{batch * 1000:.0f} ms: batch {singles / batch:.1f}x faster"
        )


if __name__ == "__main__":
    main()
