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


@pytest.fixture(scope="session")
def server(packaged: dict[str, Path]) -> Iterator[str]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "service",
        "--port",
        str(port),
        "--workers",
        "2",
        "--artifacts",
        *map(str, packaged.values()),
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if get(f"{base}/ready")[1].get("status") == "ready":
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        else:
            pytest.fail("service did not become ready in 60 s")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        assert process.stdout is not None
        process.stdout.close()


def replica(artifact: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """One `python -m service` worker over one artifact with extra POLYGLOT_* settings, once ready."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "service",
        "--port",
        str(port),
        "--workers",
        "1",
        "--artifacts",
        str(artifact),
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if get(f"{base}/ready")[1].get("status") == "ready":
                return process, base
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("replica did not become ready")
