"""The work budget: what a request will cost, predicted in seconds before the work starts.

A request is refused (OverBudget: 400 naming the field and the budget) when its answer would hold
more rows than `Limits.max_answer_rows`, or when its predicted work passes `Limits.max_work_seconds`
(a dictionary evaluation: `max_evaluation_seconds`; an analysis job: `max_job_seconds`). The
prediction adds unit costs measured on a 2-core machine (`bench/work_budget.py` prints predicted
against measured seconds; the constants are rounded up from it), so that an accepted request ends
well inside the compute deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from geometry.neighbors import BATCH_EXACT
from service.errors import OverBudget
from service.settings import Limits

# Seconds per unit of work (bench/work_budget.py, e5 and USE on 2 cores, rounded up).
CELL_SINGLE = (
    4e-10  # one query scanning one row-dimension alone (USearch SIMD, float16; filtered rows gathered)
)
CONVERT = 3.5e-9  # a blocked batch converts each row-dimension it scans to unit float32 once
# Inside a blocked batch of BATCH_EXACT or more queries: each score of a query and a row costs its
# product (CELL_BATCH per dimension, BLAS) and selecting among it (CANDIDATE), which dominates.
CELL_BATCH = 5e-12
CANDIDATE = 1.4e-8
SHAPED = 3e-6  # grouping one ranked candidate by its label (group_by looks 10 x k x group_size deep)
GROUPED = 0.03  # one grouped query's own share (its labels, a deep ranking re-scored)
TEXT_CHAR = 4e-5  # segmenting one character of a text and pooling its pieces
PAIR = 3e-4  # resolving one dictionary pair (words the tokenizer splits are composed from their pieces)
ANSWER_ROW = 3e-6  # building one result row of an answer
EVALUATED = (3e-11, 2.5e-9)  # a dictionary evaluation's blocked ranking: per cell, per candidate row
VALUE_READ = 1e-8  # reading one stored value into unit float32 (between warm and cold pages)
RANKED = 8e-9  # one row of a query's ranking over unit float32 rows, its top-k selected (compare)
GRAM = 2.5e-11  # one float64 multiply-add of a Gram matrix (canonical angles)
FIT = 1e-8  # logistic regression: one sample-dimension of one fold (separability)
LOOKUP = 2e-7  # one neighbor read from the exact table (diversity, language relations)
QUERY = 2e-5  # one sampled query's own bookkeeping


@dataclass(frozen=True)
class Work:
    """Predicted seconds of one request, by part (named in a refusal); each step returns a new Work."""

    parts: tuple[tuple[str, float], ...] = ()

    def add(self, part: str, seconds: float) -> Work:
        return Work((*self.parts, (part, seconds)))

    @property
    def seconds(self) -> float:
        return sum(seconds for _, seconds in self.parts)

    def by_part(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for part, seconds in self.parts:
            out[part] = out.get(part, 0.0) + seconds
        return out

    def scans(self, queries: int, rows: int, dim: int, *, batched: bool | None = None) -> Work:
        """`queries` exact searches over the same `rows` (blocked together from BATCH_EXACT on)."""
        if queries <= 0 or rows <= 0:
            return self
        if queries >= BATCH_EXACT if batched is None else batched:
            return self.add(
                "brute force", rows * dim * CONVERT + queries * rows * (dim * CELL_BATCH + CANDIDATE)
            )
        return self.add("brute force", queries * rows * dim * CELL_SINGLE)

    def ranking(self, queries: int, rows: int, dim: int) -> Work:
        """A dictionary evaluation's sources ranking `rows` candidates (cosine and CSLS, blocked)."""
        cell, candidate = EVALUATED
        return self.add("ranking", queries * rows * (dim * cell + candidate))

    def grouping(self, queries: int, depth: int) -> Work:
        return self.add("grouping", queries * (GROUPED + depth * SHAPED))

    def reading(self, values: int) -> Work:
        return self.add("reading rows", values * VALUE_READ)

    def rankings(self, queries: int, rows: int) -> Work:
        """`queries` top-k rankings over `rows` rows already read (product and selection)."""
        return self.add("rankings", queries * rows * RANKED)

    def gram(self, products: int) -> Work:
        return self.add("canonical angles", products * GRAM)

    def fits(self, samples: int, dim: int, folds: int) -> Work:
        """Cross-validated logistic regressions over `samples` balanced rows in all (start fit too)."""
        return self.add("classifiers", samples * dim * (folds + 1) * FIT)

    def lookups(self, queries: int, k: int) -> Work:
        return self.add("table reads", queries * (k * LOOKUP + QUERY))

    def texts(self, characters: int) -> Work:
        return self.add("texts", characters * TEXT_CHAR) if characters else self

    def pairs(self, count: int) -> Work:
        return self.add("dictionary pairs", count * PAIR)

    def answer(self, rows: int) -> Work:
        return self.add("answer rows", rows * ANSWER_ROW)


def check_rows(limits: Limits, queries: int, k: int, field: str) -> None:
    """Refuse an answer of more than `max_answer_rows` rows before any work."""
    rows = queries * k
    if rows > limits.max_answer_rows:
        raise OverBudget(
            f"{queries} queries x k={k} = {rows:,} result rows; one request may return "
            f"{limits.max_answer_rows:,} (send fewer queries or a smaller k)",
            field=field,
            budget={"max_answer_rows": limits.max_answer_rows},
        )


# Called with every prediction checked (bench/work_budget.py compares them with the time taken).
OBSERVERS: list[Callable[[Work], None]] = []


def check_work(work: Work, limit: float, name: str, field: str, advice: str) -> None:
    """Refuse work predicted over `limit` seconds (`name`: the limit's Limits field)."""
    for observe in OBSERVERS:
        observe(work)
    if work.seconds <= limit:
        return
    parts = ", ".join(f"{part} {seconds:.2g} s" for part, seconds in work.by_part().items() if seconds)
    raise OverBudget(
        f"this request would take about {work.seconds:.3g} s of work ({parts}); one request may take "
        f"{limit:g} s ({advice})",
        field=field,
        budget={name: limit},
        predicted_seconds=round(work.seconds, 3),
    )


def check_query_work(work: Work, limits: Limits, field: str) -> None:
    advice = "send fewer queries or shorter texts, leave out exact=true, or ask approximate=true for vectors"
    check_work(work, limits.max_work_seconds, "max_work_seconds", field, advice)
