"""Shared end-to-end fixtures: a real `python -m service` under uvicorn with two workers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@contextmanager
def serving(artifacts: list[Path], workers: int = 2) -> Iterator[str]:
    """A uvicorn process with `workers` workers serving `artifacts`: its base URL, stopped after."""
    process, base = replica(artifacts, {}, workers=workers)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def server(packaged: dict[str, Path]) -> Iterator[str]:
    """The packaged models under two workers."""
    with serving(list(packaged.values())) as base:
        yield base


def answering_workers(base: str) -> set[str]:
    """The workers that answer /ready, asked 16 at a time (asked one after another, the kernel may
    hand every connection to the same idle worker), in rounds until two have answered."""
    seen: set[str] = set()
    with ThreadPoolExecutor(16) as pool:
        for _ in range(20):
            seen.update(pool.map(lambda _: str(get(f"{base}/ready")[1]["worker"]), range(16)))
            if len(seen) >= 2:
                break
    return seen


def replica(
    artifacts: Path | list[Path], env: dict[str, str], workers: int = 1
) -> tuple[subprocess.Popen[bytes], str]:
    """A real `python -m service` with extra POLYGLOT_* settings, once every worker's /ready says
    ready (workers warm up independently; /ready names the worker that answered)."""
    port = free_port()
    paths = [artifacts] if isinstance(artifacts, Path) else artifacts
    command = [sys.executable, "-m", "service", "--port", str(port), "--workers", str(workers), "--artifacts"]
    command += [str(p) for p in paths]
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    ready: set[str] = set()
    while time.monotonic() < deadline:
        try:
            body = get(f"{base}/ready")[1]
            if body.get("status") == "ready":
                ready.add(str(body["worker"]))
            if len(ready) == workers:
                return process, base
        except OSError:
            pass
        time.sleep(0.05)
    process.kill()
    pytest.fail("the service did not become ready in 60 s")
