"""Two real replicas sharing a real redis-server: a job whose replica is killed (-9) is finished by
the other, restarted by a poll once the dead replica's lease lapses."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import E5
from tests.e2e.conftest import get, replica
from tests.e2e.test_redis_cache import RedisServer

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server"),
]
LEASE = 2  # seconds


@pytest.fixture()
def replicas(packaged: dict[str, Path], tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, str]]:
    redis = RedisServer(tmp_path)
    redis.start()
    env = {"POLYGLOT_REDIS_URL": redis.url, "POLYGLOT_JOB_LEASE": str(LEASE)}
    first, first_url = replica(packaged[E5], env)
    second, second_url = replica(packaged[E5], env)
    try:
        yield first, first_url, second_url
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        redis.stop()


def test_a_killed_owners_job_finishes_on_the_other_replica(
    replicas: tuple[subprocess.Popen[bytes], str, str],
) -> None:
    owner, owner_url, other_url = replicas
    path = f"/v1/models/{E5}/separability?seed=4242&folds=20"  # ~20 s of work: a 202, not a result
    status, started = get(owner_url + path)
    assert status == 202, started
    owner.send_signal(signal.SIGKILL)
    owner.wait(timeout=10)
    killed = time.monotonic()
    status, polled = get(other_url + started["url"])
    assert status == 200 and polled["status"] == "running"  # the lease has not lapsed yet
    while time.monotonic() - killed < 60:
        time.sleep(1)
        status, polled = get(other_url + started["url"])
        if polled.get("status") == "done":
            break
    assert polled["status"] == "done", polled
    assert polled["result"]["seed"] == 4242 and polled["result"]["folds"] == 20
