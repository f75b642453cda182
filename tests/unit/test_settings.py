"""Settings from POLYGLOT_* variables: every field by its name (or its documented alias), typed."""

from pathlib import Path

from service.settings import Limits, Settings


def test_every_variable_is_read_typed_and_unset_ones_keep_their_defaults() -> None:
    settings = Settings.from_env(
        {
            "POLYGLOT_ARTIFACTS": "a:b,c",
            "POLYGLOT_REDIS_URL": "redis://h:6379/0",
            "POLYGLOT_VERIFY_CHECKSUMS": "yes",
            "POLYGLOT_CACHE_TTL": "5",
            "POLYGLOT_JOB_LEASE": "2.5",
            "POLYGLOT_MAX_K": "7",
            "POLYGLOT_MAX_WORK_SECONDS": "2.5",
            "POLYGLOT_JOBS_DB": "/tmp/jobs.sqlite",
            "POLYGLOT_REPORTS": "out",
        }
    )
    assert settings.artifacts == (Path("a"), Path("b"), Path("c")) and settings.reports == Path("out")
    assert settings.redis_url == "redis://h:6379/0" and settings.verify_checksums is True
    assert settings.cache_ttl_seconds == 5 and settings.job_lease_seconds == 2.5
    assert settings.limits == Limits(max_k=7, max_work_seconds=2.5)
    assert settings.jobs_db == Path("/tmp/jobs.sqlite")
    assert (
        Settings.from_env({}) == Settings()
        and Settings.from_env({"POLYGLOT_REDIS_URL": ""}).redis_url is None
    )
