"""A serving process's memory before and after heavy requests (one uvicorn worker, the three packaged
models): resident and anonymous memory once ready, the peak while the requests run, and again after
they finished (idle), round by round. Freed memory that stays with the C heap shows as idle growth;
the target is an idle resident size after the last round within 50 MB of that after the first.

Usage: python bench/idle_memory.py [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.abuse import request  # noqa: E402
from bench.request_path import free_port, serve  # noqa: E402

E5, USE = "multilingual-e5-small", "use-multilingual-v3"
MODELS = (E5, USE, "llama2-vocab-wordllama")
GROUPED = "group_by=script&k=100&group_size=50"


def memory_mb(pid: int) -> tuple[float, float]:
    """(resident, anonymous) MB of a process."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["RssAnon"].split()[0]) / 1024


async def until_done(port: int, path: str) -> int:
    """An analysis: its request, then its job polled until it is no longer running."""
    status, _ = await request(port, "GET", path)
    while status == 202:
        await asyncio.sleep(1.0)
        status, _ = await request(port, "GET", path)
    return status


async def heavy(port: int, round_: int) -> list[int]:
    rng = random.Random(round_)
    m = f"/v1/models/{E5}"
    words = " ".join(rng.choice(["water", "house", "river", "mountain", "city"]) for _ in range(160))
    texts = json.dumps({"queries": [{"text": words[:1000]} for _ in range(64)], "k": 10}).encode()
    pairs = "\n".join(["water вода", "house дом", "bread хлеб", "river река"] * (500 + round_))
    calls = [
        until_done(port, f"{m}/geometry?by=language&postprocess=centred-top&components=20&seed={round_}"),
        until_done(
            port, f"{m}/separability?mode=pairwise&folds=20&categories=LATIN,CYRILLIC,CJK&seed={round_}"
        ),
        until_done(port, f"/v1/compare?models={E5},{USE}&sample=0.02&seed={round_}"),
        request(port, "POST", f"{m}/neighbors", texts),
        request(port, "POST", f"{m}/translations/evaluate", json.dumps({"dictionary": pairs}).encode()),
        *(
            request(port, "GET", f"{m}/neighbors?id={1000 + i}&group_by=script&k=100&group_size=50")
            for i in range(8)
        ),
    ]
    return [r if isinstance(r, int) else r[0] for r in await asyncio.gather(*calls)]


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    cli.add_argument("--rounds", type=int, default=10, help="of the same mix with other seeds and tokens")
    rounds = cli.parse_args().rounds
    port = free_port()
    env = {"POLYGLOT_ARTIFACTS": ":".join(str(ROOT / "artifacts" / m) for m in MODELS)}
    argv = [sys.executable, "-m", "uvicorn", "--factory", "service.asgi:app", "--port", str(port)]
    with serve(argv + ["--log-level", "warning", "--no-access-log"], env, port, "/ready") as server:
        start = memory_mb(server.pid)
        peak = [start[0]]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.2):
                peak.append(memory_mb(server.pid)[0])

        watcher = threading.Thread(target=sample, daemon=True)
        watcher.start()
        statuses: list[int] = []
        idles: list[float] = []
        for round_ in range(rounds):
            statuses += asyncio.run(heavy(port, round_))
            time.sleep(3)
            idles.append(memory_mb(server.pid)[0])
        stop.set()
        idle = memory_mb(server.pid)
    print(f"statuses: {sorted(Counter(statuses).items())}")
    print("idle resident after each round (MB): " + ", ".join(f"{mb:.0f}" for mb in idles))
    print(f"idle after round {rounds} - after round 1: {idles[-1] - idles[0]:+.0f} MB")
    print(f"ready: resident {start[0]:.0f} MB, anonymous {start[1]:.0f} MB")
    print(f"peak resident while the requests ran: {max(peak):.0f} MB")
    print(f"idle after: resident {idle[0]:.0f} MB, anonymous {idle[1]:.0f} MB")
    print(f"idle / ready: resident {idle[0] / start[0]:.2f}x, anonymous {idle[1] / start[1]:.2f}x")


if __name__ == "__main__":
    main()
