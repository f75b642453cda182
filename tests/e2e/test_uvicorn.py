"""End to end: the real `python -m service` process under uvicorn, over HTTP."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import E5, LLAMA, ROOT, USE
from tests.e2e.conftest import answering_workers, free_port, get

pytestmark = pytest.mark.e2e


def test_ready_lists_the_packaged_models(server: str) -> None:
    status, body = get(f"{server}/ready")
    assert status == 200 and body["models"] == sorted([E5, USE, LLAMA])


def test_neighbors_over_http(server: str) -> None:
    status, body = get(f"{server}/v1/models/{E5}/neighbors?token=water&k=10&scripts=Cyrillic")
    assert status == 200 and len(body["neighbors"]) == 10
    status, body = get(f"{server}/v1/models/{E5}/neighbors?token=water&k=100000")
    assert status == 400 and body["field"] == "k"


def test_openapi_is_served_and_matches_the_committed_spec(server: str) -> None:
    status, body = get(f"{server}/schema/openapi.json")
    committed = json.loads((ROOT / "openapi" / "openapi.json").read_text())
    assert status == 200 and body["paths"].keys() == committed["paths"].keys()


def truncate_matrix(matrix: Path) -> str:
    with open(matrix, "r+b") as fh:
        fh.truncate(matrix.stat().st_size - 100)
    return "matrix.npy has"


def flip_index_byte(index: Path) -> str:
    with open(index, "r+b") as fh:
        fh.seek(index.stat().st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 0xFF]))
    return "index.usearch fails its sha256 check"


def newer_format(manifest: Path) -> str:
    data = json.loads(manifest.read_text())
    data["format_version"] += 1
    manifest.write_text(json.dumps(data))
    return "this program reads version 1"


def damaged_copy(source: Path, broken: Path, name: str) -> Path:
    """`source` as symbolic links but for `name`, a copy of its own to damage: a whole copy is 600 MB,
    and CI's disk is not large."""
    broken.mkdir()
    for item in source.iterdir():
        (broken / item.name).symlink_to(item.resolve())
    (broken / name).unlink()
    shutil.copyfile(source / name, broken / name)
    return broken / name


@pytest.mark.parametrize(
    ("name", "damage"),
    [("matrix.npy", truncate_matrix), ("index.usearch", flip_index_byte), ("manifest.json", newer_format)],
)
def test_broken_artifact_refuses_to_start_with_one_line(
    packaged: dict[str, Path], tmp_path: Path, name: str, damage: Any
) -> None:
    broken = tmp_path / "broken"
    expected = damage(damaged_copy(packaged[USE], broken, name))
    command = [sys.executable, "-m", "service", "--port", str(free_port()), "--artifacts", str(broken)]
    env = {**os.environ, "POLYGLOT_VERIFY_CHECKSUMS": "1"}  # a flipped byte keeps the size: needs sha256
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert expected in done.stderr and str(broken) in done.stderr


def raw_exchange(base: str, head: bytes, body: bytes = b"") -> bytes:
    """What the server sends back for the bytes of one request, read until it closes or answers."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        try:
            sock.sendall(head + body)
        except OSError:  # closed while sending: read what it answered
            pass
        return sock.recv(65536)


def test_a_request_head_is_bounded_as_h11_bounded_it(server: str) -> None:
    """httptools parses requests; a head past 16 KiB is refused as h11 refused it, and a head under
    the bound or a body of any allowed size is not counted against it."""
    lines = [b"X-Pad-%d: %s\r\n" % (i, b"a" * 100) for i in range(200)]
    padding = b"".join(lines)  # ~21 KB
    refused = raw_exchange(server, b"GET /health HTTP/1.1\r\nHost: x\r\n" + padding + b"\r\n")
    assert refused.startswith(b"HTTP/1.1 400") and b"content-type: application/problem+json" in refused
    problem = json.loads(refused.split(b"\r\n\r\n", 1)[1])
    assert problem == {
        "type": "about:blank",
        "title": "Request head too large",
        "status": 400,
        "detail": "the request head (request line and headers) is over 16384 bytes",
        "instance": "/health",
    }
    unfinished = raw_exchange(server, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 20_000)
    assert unfinished.startswith(b"HTTP/1.1 400") and b"is over 16384 bytes" in unfinished
    under = raw_exchange(
        server, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + b"".join(lines[:100]) + b"\r\n"
    )
    assert under.startswith(b"HTTP/1.1 200")
    queries = json.dumps({"queries": [{"token": "▁water"}] * 1_000, "k": 1}).encode()
    assert len(queries) > 16 * 1024
    head = (
        f"POST /v1/models/{E5}/neighbors HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(queries)}\r\n\r\n"
    ).encode()
    assert raw_exchange(server, head, queries).startswith(b"HTTP/1.1 200")


def test_schemathesis_finds_no_server_errors(server: str, tmp_path: Path) -> None:
    """CI-sized fuzzing of the served spec: no 5xx, documented status codes, bodies match the schemas."""
    checks = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{server}/schema/openapi.json",
        "-c",
        f"{checks},unsupported_method",
        "-n",
        "3",
        "--seed",
        "1",
        "--phases",
        "examples,fuzzing",
        "--request-timeout",
        "60",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)  # its cache dir
    assert done.returncode == 0, done.stdout[-4000:]


def token_requests_counted(server: str) -> float:
    with urllib.request.urlopen(f"{server}/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("polyglot_requests_total{")
        and "tokens/{token_id" in line
        and 'status_code="200"' in line
    )


def test_two_workers_metrics_add_up(server: str) -> None:
    before = token_requests_counted(server)
    with ThreadPoolExecutor(8) as pool:  # 8 at a time: the kernel spreads them over both workers
        statuses = list(pool.map(lambda _: get(f"{server}/v1/models/{USE}/tokens/5")[0], range(40)))
    assert statuses == [200] * 40
    assert len(answering_workers(server)) == 2  # two workers answer (one alone: any sum is trivially right)
    # both workers served some; a scrape sums them. A worker counts a request once its response is
    # sent, so the last increment may land just after the client has its answer: wait for it briefly.
    deadline = time.monotonic() + 5
    while token_requests_counted(server) - before < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert token_requests_counted(server) - before == 40
