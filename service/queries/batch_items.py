"""A batch answers every item it can: one that cannot be answered (a text with no usable piece, an
unknown token, a NUL) gets `null` in `results` and an entry in `errors` (its index, the field and
why), and the rest are answered as they would be without it.

Items fail where their queries are resolved (`resolve_one`), which, while a batch is answered,
records the failure and lets a stand-in through: the batch is answered in one pass and the
stand-ins' answers dropped. An item that fails elsewhere and names its place (`queries[3]...`) has
the batch answered again without it (at most `MAX_FAILED` times). A batch whose every item fails is
refused with an item's error, as a single query would be.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import msgspec

from service import response_types as s
from service.errors import DomainError, Overloaded, TookTooLong
from service.queries.answers import QueriesOut
from service.queries.plan import Plan
from service.queries.resolve import ITEM, collecting_item_errors
from service.registry import LoadedModel

MAX_FAILED = 8
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
    retries = 0
    while True:
        try:
            with collecting_item_errors() as unresolved:
                out = answer(model, _without(plan, kept) if failed else plan)
        except DomainError as raised:
            at = item_of(raised)
            if at is None or at >= len(kept) or retries >= MAX_FAILED:
                raise
            retries += 1
            unresolved = {at: raised}
            out = None
        for at, error in unresolved.items():  # `at`: the item's place in this pass's batch
            index = kept[at]
            error.field = _renamed(error, index)
            failed[index] = s.ItemErrorOut(
                index=index, field=error.field, kind=type(error).__name__, detail=error.detail
            )
        if len(failed) == plan.queries:
            raise unresolved[min(unresolved)]
        if out is not None:
            break
        kept = [i for i in kept if i not in failed]
    if not failed:
        return out
    assert isinstance(out, s.NeighborsBatchOut | s.TranslationsBatchOut)
    by_index = dict(zip(kept, out.results, strict=True))
    results = [None if i in failed else by_index[i] for i in range(plan.queries)]
    errors = [failed[i] for i in sorted(failed)]
    return msgspec.structs.replace(out, results=results, errors=errors)  # type: ignore[arg-type]
