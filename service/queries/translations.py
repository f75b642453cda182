"""Translation candidates of one query or a batch: the plan's route answers (`plan.py`)."""

from __future__ import annotations

from service.queries import given_candidates, token_search, word_search
from service.queries.answers import QueriesOut
from service.queries.plan import Plan
from service.queries.resolve import resolve_all
from service.registry import LoadedModel


def translations(model: LoadedModel, plan: Plan) -> QueriesOut:
    match plan.route:
        case "encoder_words" | "lexicon":
            return word_search.translations(model, plan)
        case "encoder_given":
            return given_candidates.encoded_translations(model, plan)
        case "given":
            return given_candidates.translations(model, plan, resolve_all(model, plan.request))
        case _:  # search, best_score
            return token_search.translations(model, plan)
