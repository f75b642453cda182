"""bench/llm_scale.py on a small shape: the same code as the 256k x 4,096 run (issue 17), end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from litestar.testing import TestClient

from service.app import create_app
from service.settings import Settings
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e


def test_llm_scale_bench_builds_serves_and_analyses_a_small_shape(tmp_path: Path) -> None:
    command = [sys.executable, "bench/llm_scale.py", "--rows", "6000", "--dim", "64", "--table", "hnsw"]
    command += ["--work", str(tmp_path), "--requests", "8", "--sample", "50"]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=True).stdout
    for line in ("| rows |", "| index |", "| neighbor table (hnsw) |", "| lexicon |", "| **total** |"):
        assert line in out, out
    assert "2 worker(s): ready" in out and "| batch of 16 ids (k=10) |" in out and "| i8 |" in out
    art = tmp_path / "artifacts" / "llm"
    manifest = msgspec.json.decode((art / "manifest.json").read_bytes())
    table = manifest["table"]
    assert (table["method"], table["backend"], table["candidates"], table["sample"]) == (
        "hnsw",
        "usearch",
        200,
        1000,
    )
    assert f"recall@100 {table['recall']:.4f} on 1000 rows" in out
    again = [sys.executable, "bench/llm_scale.py", "--work", str(tmp_path), "--table-again", "--table"]
    out = subprocess.run(
        [*again, "hnsw"], cwd=ROOT, capture_output=True, text=True, timeout=600, check=True
    ).stdout
    assert "| neighbor table (hnsw, 2 threads), alone |" in out and "on 1000 rows |" in out
    out = subprocess.run(
        [*again, "exact"], cwd=ROOT, capture_output=True, text=True, timeout=600, check=True
    ).stdout
    assert "| neighbor table (exact, 2 threads), alone |" in out and "| 1.0000 on 200 rows |" in out
    check = [sys.executable, "bench/llm_scale.py", "--work", str(tmp_path), "--recall"]
    out = subprocess.run(check, cwd=ROOT, capture_output=True, text=True, timeout=600, check=True).stdout
    assert "| stored rows (f16), float32 cosine |" in out and "| the index's f16 vectors |" in out
    with TestClient(create_app(Settings(artifacts=(art,)))) as client:
        shown = client.get(f"/v1/models/{manifest['name']}").json()["neighbor_table"]
    assert shown == {k: table[k] for k in ("method", "backend", "candidates", "recall", "sample")} | {
        "k": 100
    }
