"""The service's problem details (RFC 9457) as typed exceptions, and what can go wrong with a job."""

from __future__ import annotations

from typing import Any


class PolyglotError(Exception):
    """Anything this client raises on purpose."""


class ProblemError(PolyglotError):
    """An error answer: its status, title, detail and, for bad input, the field it names."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        field: str | None = None,
        instance: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {title}: {detail}" + (f" (field {field})" if field else ""))
        self.status, self.title, self.detail = status, title, detail
        self.field, self.instance, self.retry_after = field, instance, retry_after


class Unreachable(PolyglotError):
    """The service did not answer (refused, reset, timed out) within the retry budget. The last
    transport error is attached as `__cause__`."""

    def __init__(self, url: str, tries: int, waited: float, cause: BaseException) -> None:
        reason = str(cause) or type(cause).__name__
        super().__init__(f"could not reach {url} ({reason}; {tries} tries over {waited:g} s of waiting)")
        self.url, self.tries, self.waited = url, tries, waited
        self.__cause__ = cause


class BadRequest(ProblemError):
    """400: a parameter out of its bounds, an unknown token, a language the model lacks, ..."""


class NotFound(ProblemError):
    """404: no such model, token, job or route."""


class TooLarge(ProblemError):
    """413: over a documented limit (batch size, dictionary pairs, predicted work)."""


class Unavailable(ProblemError):
    """503 or 429 still answered after the retry budget: a model building, the queue full, a deadline."""


BY_STATUS: dict[int, type[ProblemError]] = {
    400: BadRequest,
    404: NotFound,
    413: TooLarge,
    429: Unavailable,
    503: Unavailable,
}


def problem(status: int, body: Any, reason: str, retry_after: float | None = None) -> ProblemError:
    """The exception for an error answer (a problem-details body, or whatever a proxy sent)."""
    kind = BY_STATUS.get(status, ProblemError)
    if isinstance(body, dict) and "detail" in body:
        return kind(
            status,
            str(body.get("title", reason)),
            str(body["detail"]),
            body.get("field"),
            body.get("instance"),
            retry_after,
        )
    return kind(status, reason, str(body)[:500], retry_after=retry_after)


class JobError(PolyglotError):
    """A long-running analysis that did not give a result."""

    def __init__(self, job_id: str, message: str, status: int | None = None) -> None:
        super().__init__(f"job {job_id}: {message}")
        self.job_id, self.status = job_id, status


class JobFailed(JobError):
    """The analysis failed on the server (the status is the one its error maps to, e.g. 400)."""


class JobCancelled(JobError):
    """Someone cancelled the job (DELETE /v1/jobs/{id})."""


class JobTimeout(JobError):
    """The job was still running when the caller's timeout ran out (it keeps running on the server:
    identical requests share it; poll again with `Client.job`)."""
