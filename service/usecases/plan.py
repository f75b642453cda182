"""A query request resolved once into what its steps need to know before any work: how deep the
candidate search goes, how many rows one query may answer, the work known up front (its texts, its
answer rows: refused here when over the budget) and whether the answer is a few table lookups that
may run on the event loop. Decided here alone, from the whole request."""

from __future__ import annotations

from dataclasses import dataclass

from geometry import shaping
from service import request_types as r
from service.registry import LoadedModel
from service.settings import Limits
from service.usecases.budget import Work, check_query_work, check_rows


@dataclass(frozen=True, kw_only=True)
class Plan:
    depth: int  # ranked candidates the options choose from (k, or more for MMR and groups)
    answer_size: int  # rows one query may answer (the work budget's k)
    inline: bool  # a few exact-table lookups: cheap enough for the event loop
    queries: int  # how many queries (a batch's length, else 1)
    field: str  # the request field a refusal names: "queries" for a batch, else "k"
    work: Work  # predicted so far: texts and answer rows (the search adds its scans)


def search_depth(request: r.QueriesRequest) -> int:
    """How many ranked candidates the options need (k unless MMR or groups look deeper)."""
    groups = request.k if request.group_by else 0
    return shaping.depth(request.k, mmr=request.mmr is not None, groups=groups, group_size=request.group_size)


def answer_size(request: r.QueriesRequest) -> int:
    return request.k * request.group_size if request.group_by else request.k


def _table_lookup(model: LoadedModel, request: r.QueriesRequest, depth: int) -> bool:
    """One token (or id) query whose every candidate the exact table holds: no filter, no examples,
    no brute force, and a depth (k, or what MMR and groups need) within the table's width."""
    if not isinstance(request, r.NeighborsRequest):  # translations rank a filtered pool: never a lookup
        return False
    single = request.queries is None and request.vector is None and request.text is None
    plain = single and not request.positive and not request.exact and request.space == "input"
    unfiltered = not (
        request.scripts or request.exclude_scripts or request.languages or request.exclude_anomalous
    )
    return plain and unfiltered and depth <= model.space.table_k


def text_characters(request: r.QueriesRequest) -> int:
    """Characters the model's tokenizer may segment: texts, examples, candidates."""
    texts = [request.text, *(q.text for q in request.queries or [])]
    texts += [
        *(request.positive or []),
        *(request.negative or []),
        *(getattr(request, "candidates", None) or []),
    ]
    return sum(len(text) for text in texts if text)


def plan(model: LoadedModel, request: r.QueriesRequest, limits: Limits) -> Plan:
    """The plan, or OverBudget when the answer's rows or the texts alone pass the budget."""
    depth, size = search_depth(request), answer_size(request)
    queries = len(request.queries) if request.queries is not None else 1
    field = "queries" if request.queries is not None else "k"
    check_rows(limits, queries, size, field)
    work = Work().texts(text_characters(request)).answer(queries * size)
    if request.group_by is not None:
        work = work.grouping(queries, depth)
    check_query_work(work, limits, field)
    inline = _table_lookup(model, request, depth)
    return Plan(depth=depth, answer_size=size, inline=inline, queries=queries, field=field, work=work)
