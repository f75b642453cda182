"""`python -m service [--host H] [--port P] [--workers N] [--artifacts DIR ...]`: run under uvicorn."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from service.settings import PREFIX, Settings


def main(argv: list[str] | None = None) -> int:
    cli = argparse.ArgumentParser(prog="python -m service", description=__doc__)
    cli.add_argument("--host", default="127.0.0.1")
    cli.add_argument("--port", type=int, default=8000)
    cli.add_argument("--workers", type=int, default=None, help=f"worker processes (env {PREFIX}WORKERS)")
    cli.add_argument("--artifacts", nargs="+", help=f"artifact directories (env {PREFIX}ARTIFACTS)")
    args = cli.parse_args(argv)
    # The app factory reads settings from the environment in each worker: pass CLI choices through it.
    if args.artifacts:
        os.environ[PREFIX + "ARTIFACTS"] = os.pathsep.join(args.artifacts)
    settings = Settings.from_env()
    workers = args.workers or settings.workers
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from loaders.errors import ArtifactError
    from service.registry import check_artifacts

    try:
        check_artifacts(settings)
    except ArtifactError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Each worker writes its metrics to files here; a scrape of any worker sums them. Set before
        # any worker imports prometheus_client, and emptied so a previous run's counts do not leak in.
        directory = Path(tempfile.gettempdir()) / f"polyglot-metrics-{os.getpid()}"
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    import uvicorn

    uvicorn.run(
        "service.asgi:app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=workers,
        log_level="info",
        access_log=False,
        limit_concurrency=settings.max_connections,  # connections and tasks at once: 503 beyond
        timeout_keep_alive=5,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
