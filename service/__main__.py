"""`python -m service [--host H] [--port P] [--workers N] [--artifacts DIR ...] [--build-missing CACHE]`:
run under uvicorn. With --build-missing (what `make run` does), the packaged models whose artifacts
are missing or out of date are built in the background, smallest first, into the first artifacts
folder (cached in CACHE), and each is served as soon as it is built; then the encoder spaces of the
models that ship their encoder (every lexicon word encoded, at a lower priority than serving), each
picked up by the running service when it lands."""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import shutil
import signal
import subprocess
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
    cli.add_argument(
        "--build-missing",
        metavar="CACHE",
        type=Path,
        help="build the packaged models' missing artifacts in the background (cached in CACHE), "
        "serving each as soon as it is ready",
    )
    args = cli.parse_args(argv)
    # The app factory reads settings from the environment in each worker: pass CLI choices through it.
    if args.artifacts:
        os.environ[PREFIX + "ARTIFACTS"] = os.pathsep.join(args.artifacts)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    builder: subprocess.Popen[bytes] | None = None
    try:
        if args.build_missing:
            # uvicorn shuts down on SIGTERM, then raises it again under the handler it found: with the
            # default one the process ended there, before the `finally` below stopped the builds. Set
            # before the builds start, inside the `try`: a SIGTERM while the imports below run (slow on
            # a fresh clone) also ends in the `finally`.
            signal.signal(signal.SIGTERM, lambda signum, _: sys.exit(128 + signum))
            builder = start_builds(Settings.from_env().artifacts[0], args.build_missing)
        settings = Settings.from_env()
        workers = args.workers or settings.workers
        from loaders.artifact import ArtifactError
        from service.registry import check_artifacts

        try:
            check_artifacts(settings)
            return serve(args, settings, workers)
        except ArtifactError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    finally:
        if builder is not None and builder.poll() is None:
            os.killpg(builder.pid, signal.SIGTERM)  # the shell and the build it runs
            builder.wait(timeout=30)


def start_builds(folder: Path, cache: Path) -> subprocess.Popen[bytes] | None:
    """Start building the packaged artifacts `folder` lacks (or holds out of date) in a child process;
    name them in the environment (POLYGLOT_BUILDING) so that every worker serves each as soon as its
    artifact is in place. First each one's first build (rows, vocabulary, labels and tokenizer: a
    minute or less, served from exact scans), smallest first, unless the cache holds its full build;
    then the full builds, which replace them; then the encoder spaces (a no-op for those that are
    current), niced: serving comes first. None when there is nothing to build."""
    from loaders.artifact import EncoderSpec, NoEncoder, missing_package
    from loaders.build import BuildOptions, current_build, in_cache, serves_early
    from loaders.build.sources.packaged import BUILD_ORDER, WHOLE_ORDER

    pending = []
    for name in BUILD_ORDER:
        key, current = current_build(f"packaged:{name}", folder / name, BuildOptions())
        if not current:
            pending.append((name, key))
    encoded = []
    for name in BUILD_ORDER:
        try:
            if missing_package(EncoderSpec.of("packaged", name)) is None:
                encoded.append(name)
        except NoEncoder:  # a static table
            continue
    encoders = [name for name in encoded if pending or not _encoder_space_current(folder / name)]
    if not pending and not encoders:
        return None
    os.environ[PREFIX + "BUILDING"] = ",".join(f"{name}:{key}" for name, key in pending)
    logging.getLogger("service").info(
        "building %s in the background; each is served as soon as it is ready",
        ", ".join([*(n for n, _ in pending), *(f"{n}'s encoder space" for n in encoders)]),
    )
    python = [sys.executable, "-m", "loaders"]
    builds = {
        n: [*python, "build", f"packaged:{n}", "--out", str(folder / n), "--cache", str(cache)]
        for n, _ in pending
    }
    keys = dict(pending)
    # no first build where the cache holds the whole one, or `folder` serves a stopped build's early one
    first = [
        [*builds[n], "--first"]
        for n in builds
        if not in_cache(f"packaged:{n}", cache, BuildOptions()) and not serves_early(folder / n, keys[n])
    ]
    # the whole build, once in, drops the cache's older builds of its model (the first one's too)
    steps = first + [[*builds[n], "--drop-older"] for n in WHOLE_ORDER if n in builds]
    steps += [["nice", "-n", "10", *python, "encoder-space", str(folder / n), "--quiet"] for n in encoders]
    script = " && ".join(" ".join(shlex.quote(part) for part in step) for step in steps)
    return subprocess.Popen(["sh", "-c", script], start_new_session=True)  # its own group: stopped whole


def _encoder_space_current(artifact_dir: Path) -> bool:
    from loaders.artifact import ArtifactError, read_encoder_manifest, read_manifest
    from loaders.build.encoder_rows import PER_LANGUAGE

    try:
        built = read_encoder_manifest(artifact_dir)
        key = read_manifest(artifact_dir).build_key
    except ArtifactError:
        return False
    return built is not None and built.artifact_build_key == key and built.per_language == PER_LANGUAGE


def serve(args: argparse.Namespace, settings: Settings, workers: int) -> int:
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Each worker writes its metrics to files here; a scrape of any worker sums them. Set before
        # any worker imports prometheus_client, and emptied so a previous run's counts do not leak in.
        directory = Path(tempfile.gettempdir()) / f"polyglot-metrics-{os.getpid()}"
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    import uvicorn

    from service.http_parser import BoundedHttpToolsProtocol

    uvicorn.run(
        "service.asgi:app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=workers,
        log_level="info",
        http=BoundedHttpToolsProtocol,  # httptools (never the slower h11), heads bounded as h11 did
        access_log=False,
        limit_concurrency=settings.max_connections,  # connections and tasks at once: 503 beyond
        timeout_keep_alive=5,
        server_header=False,  # no banner
        # the peer is the client: X-Forwarded-For counts only from POLYGLOT_TRUSTED_PROXIES
        # (service/api/access.py), never uvicorn's default trust of 127.0.0.1
        proxy_headers=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
