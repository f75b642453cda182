"""Settings: a frozen dataclass read once from POLYGLOT_* environment variables (tests build it directly)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Set
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

from service import request_types as wire

PREFIX = "POLYGLOT_"
CACHE_DIR = Path.home() / ".cache" / "polyglot-geometry"


@dataclass(frozen=True)
class Limits:
    """What one request may ask for, checked before any work starts (a 400 naming the budget). The
    wire format's own maxima are constants of `service/request_types.py` (stated in the OpenAPI
    spec); the defaults below are those, and a deployment may set lower ones."""

    max_k: int = wire.MAX_K
    max_batch: int = wire.MAX_BATCH
    max_dictionary_pairs: int = wire.MAX_DICTIONARY_PAIRS
    max_body_bytes: int = 16 * 1024 * 1024
    # result rows of one answer (queries x k): ~300 bytes each encoded, so ~8 MB at most
    max_answer_rows: int = 25_000
    # predicted seconds of work of one request (service/budget.py): brute force, texts to
    # segment, answer rows; a dictionary evaluation and an analysis job have budgets of their own
    max_work_seconds: float = 8.0
    max_evaluation_seconds: float = 20.0
    max_job_seconds: float = 300.0
    # admission: computations running at once in worker threads, and more allowed to wait for one
    max_running: int = 4
    max_waiting: int = 64
    max_waiting_per_client: int = 16  # of those, for one client (its API key, else its address): 429 beyond
    max_wait_seconds: float = 30.0  # a computation that cannot start within this is refused (503)
    max_queued_jobs: int = 16  # analysis jobs not yet started (job_workers run at once)
    max_jobs_per_client: int = 4  # of those, running or queued for one client address
    job_workers: int = 2  # analysis jobs computed at once (each may use both cores through numpy)
    # an analysis job stops (between blocks) and fails after this many seconds of work
    job_deadline_seconds: float = 600.0
    # how long an analysis request waits for its result before answering 202 with a job to poll
    job_sync_wait_seconds: float = 3.0


def env_name(name: str) -> dict[str, str]:
    """Field metadata: the environment variable (after the prefix) when it is not the field's name."""
    return {"env": name}


@dataclass(frozen=True)
class Settings:
    # Each entry is an artifact directory or a folder whose sub-directories are artifacts.
    artifacts: tuple[Path, ...] = (Path("artifacts"),)
    redis_url: str | None = None
    # job records (state, leases) in a Redis that never evicts; default: redis_url (then run that Redis
    # with maxmemory-policy noeviction, or answers may evict running jobs)
    jobs_redis_url: str | None = None
    # without Redis: the job records of this machine's workers, shared through one SQLite file
    jobs_db: Path = field(default_factory=lambda: CACHE_DIR / "jobs.sqlite")
    verify_checksums: bool = False  # full sha256 of every file at start-up (sizes are always checked)
    cache_ttl_seconds: int = field(default=24 * 3600, metadata=env_name("CACHE_TTL"))
    cache_max_entries: int = 2048
    cache_max_bytes: int = 256 * 1024 * 1024  # the in-process cache's bound (answers over 1/16 are not kept)
    # an answer computed for longer is stopped (503)
    compute_deadline_seconds: float = field(default=60.0, metadata=env_name("COMPUTE_DEADLINE"))
    # the longest wait for the next part of a request body (408)
    body_timeout_seconds: float = field(default=10.0, metadata=env_name("BODY_TIMEOUT"))
    max_connections: int = 512  # per worker; uvicorn answers 503 beyond
    # a job whose replica stops renewing its lease for this long is restarted by another
    job_lease_seconds: float = field(default=30.0, metadata=env_name("JOB_LEASE"))
    http_max_age: int = 3600  # Cache-Control max-age of GET answers (ETags revalidate after a rebuild)
    workers: int = 1
    # models whose artifacts are being built (`python -m service --build-missing`): name:build key,
    # comma-separated; served as soon as their artifact with that key appears in the artifacts folder
    building: str = ""
    reports: Path = Path("reports")  # served at /reports/ (python -m service.report writes there)
    # API keys (service/api/access.py): comma-separated, and/or a file of one key per line; none: open
    api_keys: str | None = None
    api_keys_file: str | None = None
    # proxies whose X-Forwarded-For names the client (addresses or networks, comma-separated)
    trusted_proxies: str | None = None
    # seconds between looks for an encoder space built (or rebuilt) behind serving (each worker looks)
    encoder_poll_seconds: float = field(default=5.0, metadata=env_name("ENCODER_POLL"))
    limits: Limits = field(default_factory=Limits)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Every field from PREFIX + its name in capitals (or its `env` metadata); unset: the default."""
        env = os.environ if env is None else env
        limits = Limits(**_read(Limits, env))
        values = _read(cls, env, skip={"artifacts", "limits"})
        paths = [
            p for p in env.get(PREFIX + "ARTIFACTS", "artifacts").replace(",", os.pathsep).split(os.pathsep)
        ]
        return cls(artifacts=tuple(Path(p) for p in paths if p), limits=limits, **values)


def _read(kind: type[Any], env: Mapping[str, str], skip: Set[str] = frozenset()) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in fields(kind):
        text = env.get(PREFIX + spec.metadata.get("env", spec.name.upper()))
        if spec.name in skip or text is None:
            continue
        default: Any = spec.default
        if default is MISSING and callable(spec.default_factory):  # a path from a factory, say
            default = spec.default_factory()
        if isinstance(default, bool):
            out[spec.name] = text.lower() in {"1", "true", "yes", "on"}
        elif isinstance(default, int | float | Path):
            out[spec.name] = type(default)(text)
        else:  # optional strings: empty means unset
            out[spec.name] = text or None
    return out
