"""One request's path: a neighbors or translations request planned once (`plan`), then answered by
the route the plan chose; dictionary evaluation of translations beside it.

    plan            the route, batch or single, depth, answer size, predicted work (refused there)
    resolve         token / id / text / vector / examples -> (unit vector, token or None, echo)
    filters         script and language filters, translation targets, anomalies left out
    token_search    routes table, search, best_score: the vocabulary's tokens
    word_search     routes lexicon, encoder_words: a lexicon's words
    given_candidates  routes given, encoder_given: the candidates the request names
    encoder_queries queries encoded by the model's encoder (space=encoder)
    options         examples, mutual, MMR, min_similarity, groups, pages over a token ranking
    answers         answer rows and Structs, a batch in order
    batch_items     a batch's items that cannot be answered reported, the rest answered
    neighbors, translations   the dispatch on the route
    evaluation      precision@k on a bilingual dictionary
"""

from __future__ import annotations

from service import request_types as r
from service.queries.answers import QueriesOut
from service.queries.batch_items import answered_items
from service.queries.evaluation import evaluate_dictionary
from service.queries.neighbors import neighbors
from service.queries.plan import ROUTES, Plan, QueryRequest, Route, plan
from service.queries.translations import translations
from service.registry import LoadedModel
from service.settings import Limits

__all__ = [
    "ROUTES",
    "Plan",
    "QueryRequest",
    "QueriesOut",
    "Route",
    "answer",
    "answered_items",
    "evaluate_dictionary",
    "neighbors",
    "plan",
    "translations",
]


def answer(model: LoadedModel, request: QueryRequest, limits: Limits) -> QueriesOut:
    """Planned and answered in one call, where nothing waits on the plan (the HTTP edge plans first:
    the plan says whether the answer runs on the event loop)."""
    steps = plan(model, request, limits)
    route = neighbors if isinstance(request, r.NeighborsRequest) else translations
    return answered_items(model, steps, route)
