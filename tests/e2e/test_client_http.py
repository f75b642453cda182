"""The client and the `polyglot` command against a real uvicorn server (two workers): a batch, a job
polled over HTTP, the command line as a user runs it, and the client importing without the server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from polyglot_client import Client
from tests.conftest import E5, LLAMA, ROOT, USE

pytestmark = pytest.mark.e2e


def test_the_client_over_http(server: str) -> None:
    with Client(server, timeout=60) as client:
        batch = client.translations_batch(USE, ["water", "fire", "house"], target_languages=["es"], k=1)
        assert [a.candidates[0].token for a in batch.results] == ["▁agua", "▁fuego", "▁casas"]
        diversity = client.diversity(LLAMA, sample=0.02, seed=5)
        assert diversity.queries == 640 and diversity.model == LLAMA
        again = client.neighbors(E5, token="▁water", k=5)  # the second is revalidated: 304, same answer
        assert client.neighbors(E5, token="▁water", k=5) == again


def test_the_command_line_over_http(server: str, tmp_path: Path) -> None:
    env = {**os.environ, "POLYGLOT_URL": server}
    polyglot = [sys.executable, "-m", "polyglot_client.cli"]

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*polyglot, *argv], env=env, capture_output=True, text=True, timeout=120)

    shown = run("neighbors", "▁water", "--model", E5, "--k", "3")
    assert shown.returncode == 0, shown.stderr
    assert [line.split()[1] for line in shown.stdout.splitlines()[2:]] == ["▁Water", "water", "▁água"]
    as_json = json.loads(
        run(
            "--json", "translate", "hospital", "--to", "ru", "--pool", "words", "--model", USE, "--k", "1"
        ).stdout
    )
    assert as_json["candidates"][0]["token"] == "больнице"
    bad = run("neighbors", "▁water", "--k", "0")
    assert bad.returncode == 2 and "(field k)" in bad.stderr


def test_the_client_imports_without_the_server_dependencies() -> None:
    """What `pip install .` (no extra) provides: msgspec and httpx, none of the server's libraries."""
    blocked = ["numpy", "litestar", "usearch", "redis", "langcodes", "uvicorn", "prometheus_client"]
    code = (
        "import sys\n"
        f"for name in {blocked!r}: sys.modules[name] = None  # importing it raises ImportError\n"
        "import polyglot_client, polyglot_client.cli\n"
        "print(polyglot_client.Client.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "Client", done.stderr
