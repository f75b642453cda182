"""Job records across real processes: two replicas sharing real redis-servers run as the deployment
files run them, and two uvicorn workers without Redis sharing the machine's SQLite records."""

from __future__ import annotations

import contextlib
import re
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from tests.conftest import E5, ROOT
from tests.e2e.conftest import answering_workers, get, replica
from tests.e2e.test_redis_cache import RedisServer

pytestmark = pytest.mark.e2e
needs_redis = pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server")
LONG_JOB = f"/v1/models/{E5}/separability?scheme=unicode&folds=20&seed="  # ~20 s of work: a 202


PASSWORD = "compose-test-password"
VARIABLES = {"REDIS_PASSWORD": PASSWORD}  # what deploy/env.sh writes into .env


def compose() -> dict[str, Any]:
    """docker-compose.yml with its variables filled in as compose fills them (${X:-d}, ${X:?m})."""
    text = (ROOT / "docker-compose.yml").read_text()
    filled = re.sub(r"\$\{(\w+)(?::[-?][^}]*)?\}", lambda m: VARIABLES.get(m.group(1), ""), text)
    return yaml.safe_load(filled)  # type: ignore[no-any-return]


def redis_options(service: str) -> list[str]:
    """The redis-server arguments docker-compose.yml gives a service (its password and data folder
    aside: RedisServer gives its own)."""
    command = compose()["services"][service]["command"]
    assert command[0] == "redis-server"
    options = list(command[1:])
    for name in ("--requirepass", "--dir"):
        if name in options:
            del options[options.index(name) : options.index(name) + 2]
    return options


@pytest.fixture()
def stack(packaged: dict[str, Path], tmp_path: Path) -> Iterator[tuple[str, str, redis.Redis, redis.Redis]]:
    """Two replicas and the two Redis instances of docker-compose.yml (the answers' one shrunk to
    4 MB so that a test can fill it), wired by the compose file's environment."""
    answers_options = redis_options("redis")
    answers_options[answers_options.index("--maxmemory") + 1] = "4mb"
    answers = RedisServer(tmp_path / "a", answers_options, PASSWORD)
    jobs = RedisServer(tmp_path / "j", redis_options("redis-jobs"), PASSWORD)
    for server in (answers, jobs):
        server.directory.mkdir()
        server.start()
    hosts = {
        f"redis://:{PASSWORD}@redis:6379/0": answers.url,
        f"redis://:{PASSWORD}@redis-jobs:6379/0": jobs.url,
    }
    env = {k: hosts.get(v, v or "") for k, v in compose()["services"]["api"]["environment"].items()}
    env = {**env, "POLYGLOT_WORKERS": "1", "POLYGLOT_JOB_LEASE": "2"}
    first, first_url = replica(packaged[E5], env)
    second, second_url = replica(packaged[E5], env)
    try:
        yield first_url, second_url, answers.client(), jobs.client()
    finally:
        for process in (first, second):
            process.terminate()
            process.wait(timeout=30)
        answers.stop()
        jobs.stop()


def _cancel(base: str, url: str) -> None:
    with contextlib.suppress(urllib.error.HTTPError):  # 400 when it has finished already
        urllib.request.urlopen(urllib.request.Request(base + url, method="DELETE"), timeout=10).close()


@needs_redis
def test_a_lost_lease_leaves_one_owner_and_never_running_after_done(
    stack: tuple[str, str, redis.Redis, redis.Redis],
) -> None:
    """The lease is evicted (deleted here) while replica A computes; B restarts the job on a poll.
    From then on one owner: A's renewal fails and A stops (before: A re-set the lease, both computed,
    the owner flipped, progress went backwards and "running" followed "done")."""
    first, second, _, jobs = stack
    status, started = get(first + LONG_JOB + "501")
    assert status == 202, started
    ident, url = started["id"], started["url"]
    time.sleep(1.0)
    jobs.delete(f"lease:{ident}")
    owners: list[bytes] = []
    states: list[tuple[str, float]] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        polled = get(second + url)[1]
        states.append((polled["status"], polled["progress"]))
        owner = jobs.get(f"lease:{ident}")
        if owner is not None and (not owners or owners[-1] != owner):
            owners.append(owner)
        if polled["status"] == "done" and len(states) > 3 and states[-3][0] == "done":
            break
        time.sleep(0.3)
    assert states[-1][0] == "done", states[-5:]
    assert len(owners) == 1, owners  # B took the lease over and kept it
    first_done = [s for s, _ in states].index("done")
    assert all(s == "done" for s, _ in states[first_done:])
    after_takeover = [p for s, p in states[2:first_done]]
    assert after_takeover == sorted(after_takeover)


@needs_redis
def test_a_burst_of_answers_does_not_evict_a_running_job(
    stack: tuple[str, str, redis.Redis, redis.Redis],
) -> None:
    """More answers than the answers' Redis holds (4 MB here): it evicts answers, and the job's
    record, in the other instance, stays (before: one allkeys-lru keyspace evicted the record and
    polls answered 404)."""
    first, second, answers, jobs = stack
    status, started = get(first + LONG_JOB + "502")
    assert status == 202, started
    for token_id in range(3000, 3400):  # ~16 KB each: ~6 MB of answers
        assert get(f"{first}/v1/models/{E5}/neighbors?id={token_id}&k=50")[0] == 200
    assert int(answers.info("stats")["evicted_keys"]) > 0
    assert jobs.exists(f"job:{started['id']}")
    status, polled = get(second + started["url"])
    assert status == 200 and polled["status"] in ("running", "done")
    _cancel(first, started["url"])


def test_two_workers_without_redis_share_their_jobs(server: str) -> None:
    """Two uvicorn workers, no Redis: a job started by one is polled on either (before: each worker
    held its own job state, and about half the polls answered 404)."""
    status, started = get(server + LONG_JOB + "503")
    assert status == 202, started
    with ThreadPoolExecutor(8) as pool:  # 8 at a time: both workers answer polls
        answers = list(pool.map(lambda _: get(server + started["url"])[0], range(40)))
    workers = answering_workers(server)
    _cancel(server, started["url"])
    assert len(workers) == 2  # both workers answered
    assert answers == [200] * 40
