"""A Python client for polyglot-geometry: typed answers (the service's own msgspec Structs), jobs
polled, 503/429 retried, problem details raised as exceptions. Needs msgspec and httpx only.

    from polyglot_client import Client
    with Client() as client:  # $POLYGLOT_URL, else http://127.0.0.1:8000
        answer = client.translations("multilingual-e5-small", text="hospital", target_languages=["ru"])
"""

from polyglot_client.calls import Retries
from polyglot_client.client import AsyncClient, Client
from polyglot_client.errors import (
    BadRequest,
    JobCancelled,
    JobError,
    JobFailed,
    JobTimeout,
    NotFound,
    PolyglotError,
    ProblemError,
    TooLarge,
    Unavailable,
    Unreachable,
)

__all__ = [
    "AsyncClient",
    "BadRequest",
    "Client",
    "JobCancelled",
    "JobError",
    "JobFailed",
    "JobTimeout",
    "NotFound",
    "PolyglotError",
    "ProblemError",
    "Retries",
    "TooLarge",
    "Unavailable",
    "Unreachable",
]
