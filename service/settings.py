"""Settings: a frozen dataclass read once from POLYGLOT_* environment variables (tests build it directly)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "POLYGLOT_"


@dataclass(frozen=True)
class Limits:
    """What one request may ask for, checked before any work starts (a 400 naming the budget)."""

    max_k: int = 1000
    max_batch: int = 1024
    max_dictionary_pairs: int = 100_000
    max_body_bytes: int = 16 * 1024 * 1024
    # result rows of one answer (queries x k): ~300 bytes each encoded, so ~8 MB at most
    max_answer_rows: int = 25_000
    # brute-force work of one request, in rows x dimensions scanned (~1 s on 2 cores: a batch of
    # 1,000 exact queries over all of e5; a dictionary evaluation may use 4x this)
    max_scan_cells: int = 100_000_000_000
    # admission: computations running at once in worker threads, and more allowed to wait for one
    max_running: int = 4
    max_waiting: int = 64
    max_queued_jobs: int = 16  # analysis jobs not yet started (2 run at once)


@dataclass(frozen=True)
class Settings:
    # Each entry is an artifact directory or a folder whose sub-directories are artifacts.
    artifacts: tuple[Path, ...] = (Path("artifacts"),)
    redis_url: str | None = None
    verify_checksums: bool = False  # full sha256 of every file at start-up (sizes are always checked)
    cache_ttl_seconds: int = 24 * 3600
    cache_max_entries: int = 2048
    cache_max_bytes: int = 256 * 1024 * 1024  # the in-process cache's bound (answers over 1/16 are not kept)
    compute_deadline_seconds: float = 60.0  # an answer computed for longer is stopped (503)
    body_timeout_seconds: float = 10.0  # the longest wait for the next part of a request body (408)
    max_connections: int = 512  # per worker; uvicorn answers 503 beyond
    job_lease_seconds: float = 30.0  # a job whose replica stops renewing for this long is restarted
    http_max_age: int = 3600  # Cache-Control max-age of GET answers (ETags revalidate after a rebuild)
    workers: int = 1
    reports: Path = Path("reports")  # served at /reports/ (python -m service.report writes there)
    limits: Limits = field(default_factory=Limits)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str, default: str) -> str:
            return env.get(PREFIX + name, default)

        def flag(name: str) -> bool:
            return get(name, "").lower() in {"1", "true", "yes", "on"}

        limits = Limits(
            max_k=int(get("MAX_K", str(Limits.max_k))),
            max_batch=int(get("MAX_BATCH", str(Limits.max_batch))),
            max_dictionary_pairs=int(get("MAX_DICTIONARY_PAIRS", str(Limits.max_dictionary_pairs))),
            max_body_bytes=int(get("MAX_BODY_BYTES", str(Limits.max_body_bytes))),
            max_answer_rows=int(get("MAX_ANSWER_ROWS", str(Limits.max_answer_rows))),
            max_scan_cells=int(get("MAX_SCAN_CELLS", str(Limits.max_scan_cells))),
            max_running=int(get("MAX_RUNNING", str(Limits.max_running))),
            max_waiting=int(get("MAX_WAITING", str(Limits.max_waiting))),
            max_queued_jobs=int(get("MAX_QUEUED_JOBS", str(Limits.max_queued_jobs))),
        )
        paths = [p for p in get("ARTIFACTS", "artifacts").replace(",", os.pathsep).split(os.pathsep) if p]
        return cls(
            artifacts=tuple(Path(p) for p in paths),
            redis_url=get("REDIS_URL", "") or None,
            verify_checksums=flag("VERIFY_CHECKSUMS"),
            cache_ttl_seconds=int(get("CACHE_TTL", str(cls.cache_ttl_seconds))),
            cache_max_entries=int(get("CACHE_MAX_ENTRIES", str(cls.cache_max_entries))),
            cache_max_bytes=int(get("CACHE_MAX_BYTES", str(cls.cache_max_bytes))),
            http_max_age=int(get("HTTP_MAX_AGE", str(cls.http_max_age))),
            job_lease_seconds=float(get("JOB_LEASE", str(cls.job_lease_seconds))),
            compute_deadline_seconds=float(get("COMPUTE_DEADLINE", str(cls.compute_deadline_seconds))),
            body_timeout_seconds=float(get("BODY_TIMEOUT", str(cls.body_timeout_seconds))),
            max_connections=int(get("MAX_CONNECTIONS", str(cls.max_connections))),
            workers=int(get("WORKERS", "1")),
            reports=Path(get("REPORTS", "reports")),
            limits=limits,
        )
