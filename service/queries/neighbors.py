"""Nearest neighbors of one query or a batch: the plan's route answers (`plan.py`)."""

from __future__ import annotations

from service.queries import token_search, word_search
from service.queries.answers import QueriesOut
from service.queries.plan import Plan
from service.registry import LoadedModel


def neighbors(model: LoadedModel, plan: Plan) -> QueriesOut:
    if plan.route == "encoder_words":
        return word_search.neighbors(model, plan)
    return token_search.neighbors(model, plan)  # table, search, best_score
