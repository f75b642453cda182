"""What a user of `docker compose up` relies on, checked against the running stack (standard library
only: run by deploy/compose-smoke.sh with the system's python3).

    python3 deploy/compose_checks.py PROJECT API_URL PROMETHEUS_URL
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

MODELS = {"multilingual-e5-small", "use-multilingual-v3", "llama2-vocab-wordllama"}


def get(url: str) -> tuple[int, dict[str, str], Any]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"null")


def wait(what: str, check: Any, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        try:
            found = check()
        except OSError:
            found = None
        if found:
            print(f"ok: {what}")
            return found
        if time.monotonic() > deadline:
            raise SystemExit(f"FAILED: {what} (waited {seconds:.0f} s)")
        time.sleep(1)


def workers(api: str) -> set[int]:
    """The workers that answer /ready, asked 16 at a time (one after another, the kernel may hand
    every connection to the same idle worker): rounds until two have answered."""
    seen: set[int] = set()
    with ThreadPoolExecutor(16) as pool:
        for _ in range(20):
            seen.update(pool.map(lambda _: get(f"{api}/ready")[2]["worker"], range(16)))
            if len(seen) >= 2:
                break
    return seen


def compose(project: str, *args: str) -> str:
    command = ["docker-compose", "-p", project, *args]
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        command = ["docker", "compose", "-p", project, *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def main(project: str, api: str, prometheus: str) -> None:
    started = time.monotonic()
    container = compose(project, "ps", "-q", "api").strip()

    def healthy() -> bool:
        state = subprocess.run(
            ["docker", "inspect", "-f", "{{.State.Health.Status}}", container], capture_output=True, text=True
        )
        return state.stdout.strip() == "healthy"

    wait("the api container is healthy (its /ready answers 200)", healthy, 180)
    print(f"     {time.monotonic() - started:.0f} s after up")
    status, _, listed = get(f"{api}/v1/models")
    names = {model["name"] for model in listed["models"]}
    assert status == 200 and names == MODELS, (status, names)
    print(f"ok: /v1/models lists {sorted(names)}")

    # the same answer asked again and again, on new connections: both workers answer, all but the
    # first from the cache, which holds it in Redis
    path = f"{api}/v1/models/use-multilingual-v3/neighbors?token=%E2%96%81water&k=5"
    outcomes = []
    for _ in range(12):
        status, headers, _ = get(path)
        assert status == 200, status
        outcomes.append(headers.get("X-Cache") or headers.get("x-cache"))
    answering = workers(api)
    keys = compose(project, "exec", "-T", "redis", "redis-cli", "--scan", "--pattern", "pg:*").split()
    assert outcomes[1:] == ["hit"] * 11 and keys and len(answering) == 2, (outcomes, keys, answering)
    print(f"ok: a repeated query is a cache hit ({len(keys)} answer keys in Redis, 2 workers answering)")

    # an analysis job: started by one request, polled on new connections (either worker) until done
    # (e5's script separability, 12 folds: ~15 s of work, so the request answers 202 with a job)
    status, _, job = get(f"{api}/v1/models/multilingual-e5-small/separability?scheme=unicode&folds=12")
    assert status == 202, (status, job)
    polls: list[int] = []

    def poll() -> int:
        return get(api + job["url"])[0]

    def done() -> bool:  # polled 8 at a time: both workers answer polls
        with ThreadPoolExecutor(8) as pool:
            polls.extend(pool.map(lambda _: poll(), range(8)))
        return get(api + job["url"])[2]["status"] == "done"

    wait("an analysis job started on one worker finished, polled on both", done, 240)
    records = compose(project, "exec", "-T", "redis-jobs", "redis-cli", "--scan", "--pattern", "job:*")
    assert set(polls) == {200} and job["id"] in records, (polls, records)
    print(f"     {len(polls)} polls, all 200; its record is in the jobs' Redis")

    def scraped() -> bool:
        targets = get(f"{prometheus}/api/v1/targets")[2]["data"]["activeTargets"]
        return any(t["health"] == "up" and t["labels"]["job"] == "polyglot-geometry" for t in targets)

    wait("Prometheus scrapes the api (target up)", scraped, 90)
    print(f"compose checks: passed in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main(*sys.argv[1:4])
