"""Slow and vanishing clients against a real uvicorn process: a stalled body is a 408, and work for a
client that disconnected stops within a block instead of running to the end."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import E5
from tests.e2e.conftest import replica

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def service(packaged: dict[str, Path]) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    process, base = replica(packaged[E5], {"POLYGLOT_BODY_TIMEOUT": "1"})
    yield process, base
    process.terminate()
    process.wait(timeout=30)


def connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def read_answer(sock: socket.socket) -> str:
    """One whole HTTP answer: the head, then as many body bytes as Content-Length says."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return (head + b"\r\n\r\n" + body).decode()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 1/100 s


def test_a_stalled_body_is_a_408(service: tuple[subprocess.Popen[bytes], str]) -> None:
    _, base = service
    with connect(base) as sock:
        head = f"POST /v1/models/{E5}/neighbors HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        sock.sendall((head + 'Content-Length: 100\r\n\r\n{"queries": [').encode())
        started = time.monotonic()
        answer = read_answer(sock)
    assert answer.startswith("HTTP/1.1 408") and '"field":"body"' in answer
    assert time.monotonic() - started < 5


def test_work_for_a_client_that_left_stops(service: tuple[subprocess.Popen[bytes], str]) -> None:
    process, base = service
    # 600 exact queries: ~2 s of blocked brute force here, within the work budget (1,000 are over it)
    vectors = [[((i * 7 + j * 13) % 17) - 8.0 for j in range(384)] for i in range(600)]
    body = json.dumps({"queries": [{"vector": v} for v in vectors], "k": 20, "exact": True}).encode()
    head = f"POST /v1/models/{E5}/neighbors HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    before = cpu_seconds(process.pid)
    with connect(base) as sock:
        sock.sendall(head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        time.sleep(0.5)  # the blocked brute force over 250k rows for 600 queries is under way
    time.sleep(0.5)
    stopped = cpu_seconds(process.pid)
    time.sleep(1.5)
    after = cpu_seconds(process.pid)
    assert stopped - before > 0.3  # it was working
    assert after - stopped < 0.3, (before, stopped, after)  # and it stopped once the client left
