"""Where answers and job records are kept: one protocol each (`base.py`), one module per backend."""

from __future__ import annotations

from service.stores.base import AnswerStore, JobRecords, Owner, Unreachable
from service.stores.fallback import FallbackAnswers, FallbackJobRecords, warn_if_evicting
from service.stores.memory import MemoryAnswers
from service.stores.redis import RedisAnswers, RedisJobRecords, RedisRefused, ResilientRedis
from service.stores.sqlite import SqliteJobRecords

__all__ = [
    "AnswerStore",
    "FallbackAnswers",
    "FallbackJobRecords",
    "JobRecords",
    "MemoryAnswers",
    "Owner",
    "RedisAnswers",
    "RedisJobRecords",
    "RedisRefused",
    "ResilientRedis",
    "SqliteJobRecords",
    "Unreachable",
    "warn_if_evicting",
]
