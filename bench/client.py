"""What the Python client costs to install and what a batch saves (issue 31).

1. Install size: a fresh virtual environment, `pip install .` (the client alone: no extra), its
   site-packages against an empty environment's, the packages it pulled in, and whether `polyglot`
   runs there.
2. A 100-query batch against a loop of 100 single calls, through the client, against a real
   `python -m service` (one worker, in-process cache off so every call computes): neighbors (k=10)
   and translations (k=10, into de), two disjoint sets of 100 e5 tokens so neither run warms the other.
Usage: python bench/client.py [--skip-install]
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from polyglot_client import Client  # noqa: E402

MODEL = "multilingual-e5-small"


def size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def site_packages(env: Path) -> Path:
    return next((env / "lib").glob("python3*/site-packages"))


def install_size() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        empty, client = Path(tmp) / "empty", Path(tmp) / "client"
        for folder in (empty, client):
            venv.EnvBuilder(with_pip=True).create(folder)
        pip = [str(client / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, str(ROOT)], check=True, capture_output=True)
        listing = [str(client / "bin" / "python"), "-m", "pip", "list", "--format=freeze"]
        listed = subprocess.run(listing, check=True, capture_output=True, text=True).stdout.split()
        base = {line.split("==")[0] for line in listed} - {"pip", "setuptools"}
        added = size(site_packages(client)) - size(site_packages(empty))
        print(f"client install (pip install ., no extra): {added / 1e6:.1f} MB over an empty venv;")
        print(f"  packages: {', '.join(sorted(base))}")
        check = subprocess.run(
            [str(client / "bin" / "polyglot"), "--help"], capture_output=True, text=True, check=False
        )
        print(f"  `polyglot --help` in that venv: exit {check.returncode}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def batch_against_loop() -> None:
    port = free_port()
    env = {**os.environ, "POLYGLOT_CACHE_MAX_BYTES": "0"}
    command = [sys.executable, "-m", "service", "--port", str(port), "--workers", "1",
               "--artifacts", str(ROOT / "artifacts" / MODEL)]  # fmt: skip
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        with Client(f"http://127.0.0.1:{port}", timeout=120) as client:
            for _ in range(600):
                try:
                    client.ready()
                    break
                except Exception:
                    time.sleep(0.1)
            loop_ids, batch_ids = list(range(5000, 5100)), list(range(6000, 6100))
            for name, options in (
                ("neighbors", {"k": 10}),
                ("translations", {"k": 10, "target_languages": ["de"]}),
            ):
                one = client.neighbors if name == "neighbors" else client.translations
                many = client.neighbors_batch if name == "neighbors" else client.translations_batch
                one(MODEL, id=4000, **options)  # connection and code warm
                started = time.perf_counter()
                for token in loop_ids:
                    one(MODEL, id=token, **options)
                looped = time.perf_counter() - started
                started = time.perf_counter()
                answer = many(MODEL, batch_ids, **options)
                batched = time.perf_counter() - started
                assert len(answer.results) == 100
                print(
                    f"{name}: 100 single calls {looped * 1000:.0f} ms, one batch of 100 "
                    f"{batched * 1000:.0f} ms: the batch takes {batched / looped:.2f}x the loop's time "
                    f"({looped / batched:.1f}x faster)"
                )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    if "--skip-install" not in sys.argv:
        install_size()
    batch_against_loop()
