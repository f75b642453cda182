"""Load and fault benchmark over HTTP on loopback (the service and this generator share 2 cores).

Starts `python -m service` (and a redis-server), then:
1. start-up: seconds from process start to /ready, resident memory of each worker vs the matrix;
2. neighbors k=50 by random id: latency at 1 and 4 connections, throughput at 16, for 1 and 2 workers;
3. a 60 s mixed load at 50 connections with Redis killed at 20 s and restarted at 35 s.
Usage: python bench/load.py [--seconds 60] [--connections 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
E5, USE = "multilingual-e5-small", "use-multilingual-v3"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def neighbor_request(rng: random.Random) -> tuple[str, str, bytes]:
    return "GET", f"/v1/models/{E5}/neighbors?id={rng.randrange(5, 250_000)}&k=50", b""


def mixed_request(rng: random.Random) -> tuple[str, str, bytes]:
    roll = rng.random()
    model = E5 if rng.random() < 0.6 else USE
    size = 250_000 if model == E5 else 128_000
    ident = rng.randrange(5, size)
    if roll < 0.55:
        return "GET", f"/v1/models/{model}/neighbors?id={ident}&k=50", b""
    if roll < 0.70:
        return "GET", f"/v1/models/{model}/neighbors?id={ident}&k=20&scripts=Cyrillic,Greek", b""
    if roll < 0.80:
        return "GET", f"/v1/models/{model}/translations?id={ident}&k=10&method=csls", b""
    if roll < 0.90:
        return (
            "GET",
            f"/v1/models/{model}/tokens?q={rng.choice(['wat', 'hou', 'ma', 'the', 'bro'])}&limit=20",
            b"",
        )
    if roll < 0.99:
        body = json.dumps({"queries": [{"id": rng.randrange(5, size)} for _ in range(8)], "k": 10}).encode()
        return "POST", f"/v1/models/{model}/neighbors", body
    return "GET", f"/v1/models/{model}/diversity?seed={rng.randrange(4)}", b""


async def connection(
    port: int, deadline: float, make: object, seed: int, out: list[tuple[int, float]]
) -> None:
    rng = random.Random(seed)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    while time.monotonic() < deadline:
        method, path, body = make(rng)  # type: ignore[operator]
        head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: {len(body)}\r\n"
        if body:
            head += "Content-Type: application/json\r\n"
        started = time.perf_counter()
        try:
            writer.write(head.encode() + b"\r\n" + body)
            await writer.drain()
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            out.append((-1, time.perf_counter() - started))
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            continue
        out.append((status, time.perf_counter() - started))
    writer.close()


def run_load(port: int, connections: int, seconds: float, make: object) -> list[tuple[int, float]]:
    out: list[tuple[int, float]] = []
    deadline = time.monotonic() + seconds

    async def main() -> None:
        await asyncio.gather(*(connection(port, deadline, make, i, out) for i in range(connections)))

    asyncio.run(main())
    return out


def summary(label: str, results: list[tuple[int, float]], seconds: float) -> None:
    ms = np.array([lat for _, lat in results]) * 1000
    errors = sum(1 for status, _ in results if status < 200 or status >= 500 or status == -1)
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    print(
        f"  {label:<44} {len(results) / seconds:7.0f} req/s  p50 {p50:6.2f}  p90 {p90:6.2f}  p99 {p99:7.2f}"
        f"  max {ms.max():7.1f} ms  errors {errors}/{len(results)}"
    )


class Service:
    def __init__(
        self, workers: int, redis_url: str | None = None, artifacts: Path = ROOT / "artifacts"
    ) -> None:
        self.port = free_port()
        env = {**os.environ, "POLYGLOT_ARTIFACTS": str(artifacts)}
        if redis_url:
            env["POLYGLOT_REDIS_URL"] = redis_url
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service", "--port", str(self.port), "--workers", str(workers)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ready", timeout=1) as response:
                    if json.loads(response.read())["status"] == "ready":
                        break
            except OSError:
                time.sleep(0.05)
        self.ready_seconds = time.perf_counter() - self.started

    def worker_pids(self) -> list[str]:
        """The worker processes (children of the uvicorn parent; the parent itself with one worker)."""
        children = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        ).stdout.split()
        return [p for p in children if Path(f"/proc/{p}/status").exists()] or [str(self.process.pid)]

    def worker_memory(self) -> list[tuple[int, int]]:
        """(RSS, RssFile) in bytes of each worker process."""
        out = []
        for pid in self.worker_pids():
            fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
            if "RssFile" in fields:
                out.append((int(fields["VmRSS"].split()[0]) * 1024, int(fields["RssFile"].split()[0]) * 1024))
        return out

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def main() -> None:
    cli = argparse.ArgumentParser()
    cli.add_argument("--seconds", type=float, default=60)
    cli.add_argument("--connections", type=int, default=50)
    args = cli.parse_args()
    matrix_bytes = sum((ROOT / "artifacts" / m / "matrix.npy").stat().st_size for m in (E5, USE))

    for workers in (1, 2):
        service = Service(workers)
        print(f"{workers} worker(s): ready in {service.ready_seconds:.2f} s after process start")
        for i, (rss, file_backed) in enumerate(service.worker_memory()):
            shared, private = file_backed / 1e6, (rss - file_backed) / matrix_bytes
            print(
                f"  worker {i}: RSS {rss / 1e6:.0f} MB, file-backed (shared mmap) {shared:.0f} MB;"
                f" anonymous {private:.0%} of the matrices' {matrix_bytes / 1e6:.0f} MB"
            )
        for connections, seconds in ((1, 5.0), (4, 5.0), (16, 8.0)):
            results = run_load(service.port, connections, seconds, neighbor_request)
            summary(f"neighbors k=50, {connections} connection(s)", results, seconds)
        service.stop()

    redis_port = free_port()
    redis_cmd = ["redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no"]
    redis = subprocess.Popen(redis_cmd, stdout=subprocess.DEVNULL)
    time.sleep(0.3)
    service = Service(2, f"redis://127.0.0.1:{redis_port}/0")
    print(
        f"mixed load, {args.connections} connections, {args.seconds:.0f} s, 2 workers + Redis "
        f"(Redis killed at {args.seconds / 3:.0f} s, restarted at {args.seconds * 7 / 12:.0f} s)"
    )

    def chaos() -> None:
        nonlocal redis
        time.sleep(args.seconds / 3)
        redis.kill()
        redis.wait()
        time.sleep(args.seconds / 4)
        redis = subprocess.Popen(redis_cmd, stdout=subprocess.DEVNULL)

    import threading

    thread = threading.Thread(target=chaos)
    thread.start()
    results = run_load(service.port, args.connections, args.seconds, mixed_request)
    thread.join()
    summary("mixed (all requests)", results, args.seconds)
    statuses: dict[int, int] = {}
    for status, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    print(f"  status codes: {dict(sorted(statuses.items()))}")
    with urllib.request.urlopen(f"http://127.0.0.1:{service.port}/metrics", timeout=5) as response:
        errors = [
            line
            for line in response.read().decode().splitlines()
            if line.startswith("polyglot_cache_total{") and 'outcome="error"' in line
        ]
    print(f"  redis errors counted: {errors}")
    service.stop()
    redis.terminate()


if __name__ == "__main__":
    main()
