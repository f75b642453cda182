"""Domain errors: what a request can ask for that the models and analyses cannot give.

    DomainError                  detail, the request field it concerns (when known), extra members
    ├── NotFound
    │   ├── UnknownModel         lists the loaded models
    │   ├── UnknownToken         suggests close matches from the vocabulary
    │   └── UnknownJob
    ├── InvalidInput             a value the model or analysis cannot use
    │   ├── UnknownLabel         lists the known labels of the scheme
    │   ├── UnknownLanguage      lists the supported languages
    │   ├── MissingLabels        the artifact has no labels of that kind
    │   ├── OutOfRange           a token id outside the vocabulary
    │   ├── NoNeighbors         a special or zero row
    │   └── NothingToFit         no classifier or comparison can be computed
    ├── TooLarge                 over a configured limit
    │   └── OverBudget           more work than one request may cost (says the budget)
    ├── Overloaded               every worker busy and the queue full: come back after `retry_after` s
    │   └── StillBuilding        the model's artifact is being built (make run serves the others)
    ├── TookTooLong              a computation passed its deadline (stopped between blocks)
    ├── ClientGone               every client waiting for an answer disconnected (nobody reads it)
    └── SlowClient               a request body that stalls longer than the body timeout

No HTTP here: `service/api/problems.py` maps each kind to a status and a problem-details body.
Models raise without a field; the use-cases, which take the request Struct whole, name the field
with `at("scripts")` (or pass `field=` when they raise themselves).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class DomainError(Exception):
    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra


class NotFound(DomainError):
    pass


class UnknownModel(NotFound):
    pass


class UnknownToken(NotFound):
    pass


class UnknownJob(NotFound):
    pass


class InvalidInput(DomainError):
    pass


class UnknownLabel(InvalidInput):
    pass


class UnknownLanguage(InvalidInput):
    pass


class MissingLabels(InvalidInput):
    pass


class OutOfRange(InvalidInput):
    pass


class NoNeighbors(InvalidInput):
    pass


class NothingToFit(InvalidInput):
    pass


class TooLarge(DomainError):
    pass


class OverBudget(TooLarge):
    pass


class TookTooLong(DomainError):
    pass


class ClientGone(DomainError):
    pass


class SlowClient(DomainError):
    pass


class Overloaded(DomainError):
    def __init__(self, detail: str, *, retry_after: int = 1, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class StillBuilding(Overloaded):
    pass


class Forbidden(DomainError):
    """The request's credentials do not allow it (403)."""


class TooManyRequests(Overloaded):
    """This client's share is used up (others are not): 429 with Retry-After."""


@contextmanager
def at(field: str) -> Iterator[None]:
    """Name the request field of a domain error raised inside (unless a deeper `at` named it)."""
    try:
        yield
    except DomainError as exc:
        if exc.field is None:
            exc.field = field
        raise
