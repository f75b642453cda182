"""What a user of `docker compose up --scale api=2` relies on, checked against the running stack
(standard library only: run by deploy/compose-smoke.sh with the system's python3).

    python3 deploy/compose_checks.py PROJECT API_URL PROMETHEUS_URL ENV_FILE
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

MODELS = {"multilingual-e5-small", "use-multilingual-v3", "llama2-vocab-wordllama"}
REPLICAS = 2
# inside a replica: its own answer (not the proxy's choice), with the key, as JSON on one line
FETCH = (
    "import json, sys, urllib.request, urllib.error\n"
    "ask = urllib.request.Request('http://127.0.0.1:8000' + sys.argv[1],"
    " headers={'Authorization': 'Bearer ' + sys.argv[2]})\n"
    "try:\n    r = urllib.request.urlopen(ask, timeout=60)\n"
    "except urllib.error.HTTPError as e:\n    r = e\n"
    "print(json.dumps([r.status, dict(r.headers), json.loads(r.read())]))"
)


def get(url: str, key: str | None = None) -> tuple[int, dict[str, str], Any]:
    """(status, headers, the body: decoded JSON, or the text of another media type)."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
            return response.status, dict(response.headers), _body(response)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), _body(error)


def _body(response: Any) -> Any:
    content = response.read()
    return (
        json.loads(content or b"null")
        if "json" in response.headers.get("content-type", "")
        else content.decode()
    )


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


def compose(project: str, *args: str) -> str:
    command = ["docker-compose", "-p", project, *args]
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        command = ["docker", "compose", "-p", project, *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def inside(project: str, replica: int, path: str, key: str) -> tuple[int, dict[str, str], Any]:
    """GET `path` from API replica `replica` itself (1-based), as a client on its machine would."""
    out = compose(project, "exec", "-T", "--index", str(replica), "api", "python", "-c", FETCH, path, key)
    status, headers, body = json.loads(out)
    return status, {k.lower(): v for k, v in headers.items()}, body


def settings(env_file: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in open(env_file, encoding="utf-8") if "=" in line)
    return {name.strip(): value.strip() for name, value in pairs}


def redis(project: str, service: str, password: str, *command: str) -> str:
    return compose(project, "exec", "-T", service, "redis-cli", "--no-auth-warning", "-a", password, *command)


def main(project: str, api: str, prometheus: str, env_file: str) -> None:
    started = time.monotonic()
    env = settings(env_file)
    key, password = env["POLYGLOT_API_KEYS"].split(",")[0], env["REDIS_PASSWORD"]
    containers = compose(project, "ps", "-q", "api").split()
    assert len(containers) == REPLICAS, containers

    def healthy() -> bool:
        states = [
            subprocess.run(
                ["docker", "inspect", "-f", "{{.State.Health.Status}}", c], capture_output=True, text=True
            )
            for c in containers
        ]
        return all(state.stdout.strip() == "healthy" for state in states)

    wait(f"the {REPLICAS} api replicas are healthy (their /ready answers 200)", healthy, 240)
    print(f"     {time.monotonic() - started:.0f} s after up")

    published = [
        compose(project, "port", service, port).strip()
        for service, port in (("proxy", "8080"), ("prometheus", "9090"))
    ]
    assert all(p.startswith("127.0.0.1:") for p in published), published
    users = {
        service: compose(project, "exec", "-T", service, "id", "-u").strip()
        for service in ("redis", "prometheus")
    }
    assert "0" not in users.values(), users  # Redis and Prometheus run as users of their own
    print(f"ok: published on 127.0.0.1 only ({', '.join(published)}); the api replicas and Redis on none")
    print(f"ok: Redis and Prometheus run as uid {users['redis']} and {users['prometheus']}, not root")

    assert get(f"{api}/v1/models")[0] == 401 and get(f"{api}/v1/models", "wrong")[0] == 403
    status, _, listed = get(f"{api}/v1/models", key)
    names = {model["name"] for model in listed["models"]}
    assert status == 200 and names == MODELS, (status, names)
    assert get(f"{api}/health")[0] == 200 and get(f"{api}/metrics")[0] == 404  # metrics: inside only
    print(f"ok: through the proxy, no key 401, another key 403, the key 200: {sorted(names)}")

    # the same answer from each replica itself: computed by the first, a hit on the second (through Redis)
    path = "/v1/models/use-multilingual-v3/neighbors?token=%E2%96%81water&k=5"
    first, second = inside(project, 1, path, key), inside(project, 2, path, key)
    assert (first[0], second[0]) == (200, 200) and first[2] == second[2], (first[0], second[0])
    assert (first[1].get("x-cache"), second[1].get("x-cache")) == ("miss", "hit"), (first[1], second[1])
    keys = redis(project, "redis", password, "--scan", "--pattern", "pg:*").split()
    assert keys, "no answer in the cache's Redis"
    refused = redis(project, "redis", password, "FLUSHALL")
    assert "unknown command" in refused.lower(), refused
    print(f"ok: an answer computed on one replica is a hit on the other ({len(keys)} keys; FLUSHALL refused)")

    # a job started on replica 1, which is killed: replica 2 takes it over under the same id
    status, _, job = inside(
        project, 1, "/v1/models/multilingual-e5-small/separability?scheme=unicode&folds=12", key
    )
    assert status == 202, (status, job)
    labels = [f"label=com.docker.compose.{k}={v}" for k, v in (("project", project), ("service", "api"))]
    first = subprocess.run(  # replica 1 itself: it claimed the job's lease when it started it
        ["docker", "ps", "-q", *(f for label in labels for f in ("--filter", label)),
         "--filter", "label=com.docker.compose.container-number=1"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert len(first) == 1, first
    subprocess.run(["docker", "kill", first[0]], check=True, capture_output=True)
    killed = time.monotonic()

    def finished() -> bool:
        answer = get(api + job["url"], key)
        return answer[0] == 200 and answer[2]["status"] == "done"

    wait(f"job {job['id']} started on the killed replica finished on the other", finished, 300)
    print(f"     {time.monotonic() - killed:.0f} s after the kill (the lease lapses in 30 s)")
    records = redis(project, "redis-jobs", password, "--scan", "--pattern", "job:*")
    assert job["id"] in records, records
    compose(project, "restart", "redis-jobs")

    def kept() -> bool:
        return job["id"] in redis(project, "redis-jobs", password, "--scan", "--pattern", "job:*")

    wait("the job record survived a restart of the jobs' Redis (append-only file)", kept, 60)

    def scraped() -> bool:
        targets = get(f"{prometheus}/api/v1/targets")[2]["data"]["activeTargets"]
        return any(t["health"] == "up" and t["labels"]["job"] == "polyglot-geometry" for t in targets)

    wait("Prometheus scrapes the api replicas (a target up)", scraped, 90)
    print(f"compose checks: passed in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main(*sys.argv[1:5])
