"""Stopping `make run` stops the builds it runs behind serving (they run in a process group of
their own, so that a build can be stopped whole)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import free_port

pytestmark = pytest.mark.e2e


def _running(marker: str) -> list[int]:
    """Processes whose command line names `marker` (a temporary folder of this test)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _waited(check: Callable[[], object], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_sigterm_to_the_service_stops_the_builds_behind_it(tmp_path: Path) -> None:
    folder, cache = tmp_path / "artifacts", tmp_path / "cache"
    command = [sys.executable, "-m", "service", "--port", str(free_port()), "--workers", "1"]
    service = subprocess.Popen(
        [*command, "--artifacts", str(folder), "--build-missing", str(cache)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        builds = lambda: [p for p in _running(str(cache)) if p != service.pid]  # noqa: E731
        assert _waited(builds, 60), "no build started behind the service"
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=60)
        assert _waited(lambda: not builds(), 15), "the builds outlived the service"
    finally:
        service.kill()
        for pid in _running(str(cache)):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
