"""A batch answers every item it can: one that cannot be answered (a text with no usable piece, an
unknown token, a NUL) gets `null` in `results` and an entry in `errors` (its index, the field and
why), and the rest are answered as they would be without it.

Items fail where their queries are resolved, before any search, and name their place in the field
(`queries[3].text`); the batch is answered again without the failed item, which costs a
resolution, not a search. A batch whose every item fails is refused with its last item's error, as
a single query would be; past `MAX_FAILED` failed items the request is refused with the last one.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import msgspec

from service import response_types as s
from service.errors import DomainError, Overloaded, TookTooLong
from service.queries.answers import QueriesOut
from service.queries.plan import Plan
from service.registry import LoadedModel

MAX_FAILED = 64
ITEM = re.compile(r"queries\[(\d+)\]")
Answer = Callable[[LoadedModel, Plan], QueriesOut]


def item_of(error: DomainError) -> int | None:
    """The batch item a domain error names (None: it is about the request, not one item)."""
    if isinstance(error, Overloaded | TookTooLong) or not error.field:
        return None
    found = ITEM.match(error.field)
    return int(found.group(1)) if found else None


def _without(plan: Plan, kept: list[int]) -> Plan:
    queries = plan.request.queries or []
    request = msgspec.structs.replace(plan.request, queries=[queries[i] for i in kept])
    return dataclasses.replace(plan, request=request, queries=len(kept))


def _renamed(error: DomainError, index: int) -> str:
    """The error's field with the item's place in the whole batch."""
    return ITEM.sub(f"queries[{index}]", error.field or "", count=1)


def answered_items(model: LoadedModel, plan: Plan, answer: Answer) -> QueriesOut:
    """`answer(model, plan)`, with a batch's failing items left out and reported."""
    if not plan.batch:
        return answer(model, plan)
    kept = list(range(plan.queries))
    failed: dict[int, s.ItemErrorOut] = {}
    while True:
        try:
            out = answer(model, _without(plan, kept) if failed else plan)
            break
        except DomainError as error:
            at = item_of(error)
            if at is None or at >= len(kept):
                raise
            index = kept.pop(at)
            error.field = _renamed(error, index)
            if not kept or len(failed) >= MAX_FAILED:
                raise
            failed[index] = s.ItemErrorOut(
                index=index, field=error.field, kind=type(error).__name__, detail=error.detail
            )
    if not failed:
        return out
    assert isinstance(out, s.NeighborsBatchOut | s.TranslationsBatchOut)
    answers = iter(out.results)
    results = [None if i in failed else next(answers) for i in range(plan.queries)]
    errors = [failed[i] for i in sorted(failed)]
    return msgspec.structs.replace(out, results=results, errors=errors)  # type: ignore[arg-type]
