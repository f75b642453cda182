"""A query request resolved once into what its steps need to know before any work: how deep the
candidate search goes, how many rows one query may answer, and whether the answer is a few table
lookups that may run on the event loop. Decided here alone, from the whole request."""

from __future__ import annotations

from dataclasses import dataclass

from geometry import shaping
from service import requests as r
from service.registry import LoadedModel


@dataclass(frozen=True, kw_only=True)
class Plan:
    depth: int  # ranked candidates the options choose from (k, or more for MMR and groups)
    answer_size: int  # rows one query may answer (the work budget's k)
    inline: bool  # a few exact-table lookups: cheap enough for the event loop


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
    plain = single and not request.positive and not request.exact
    unfiltered = not (
        request.scripts or request.exclude_scripts or request.languages or request.exclude_anomalous
    )
    return plain and unfiltered and depth <= model.space.table_k


def plan(model: LoadedModel, request: r.QueriesRequest) -> Plan:
    depth = search_depth(request)
    return Plan(depth=depth, answer_size=answer_size(request), inline=_table_lookup(model, request, depth))
