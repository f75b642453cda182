"""Neighbours and translation candidates: GET for one query, POST for a batch (order kept)."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Router, get, post
from litestar.di import Provide
from litestar.params import JSONBody, Parameter

from service import queries
from service import schemas as s
from service.api.params import (
    Conf,
    ExcludeParam,
    IdParam,
    KParam,
    ModelName,
    Reg,
    SchemeParam,
    ScriptsParam,
    TokenParam,
    examples,
    model_of,
    one_query,
    registry,
    settings,
    split,
)
from service.errors import BadRequest
from service.settings import Settings

ExactParam = Annotated[bool, Parameter(description="brute-force search instead of the index")]
SelfParam = Annotated[bool, Parameter(description="keep the query token itself (rank 1)")]
MethodParam = Annotated[
    Literal["cosine", "csls"],
    Parameter(description="rank by cosine or by CSLS (k=10 neighbourhood, as in MUSE)"),
]
TargetsParam = Annotated[
    str | None,
    Parameter(
        description="comma-separated target scripts; default: all but the query's (and Common, Mixed)",
        max_length=2000,
        examples=examples("Cyrillic", "Han,Japanese"),
    ),
]


def _check_batch(n: int, k: int, conf: Settings) -> None:
    """The configured limits (they may be lower than the schema's documented maxima)."""
    if n > conf.limits.max_batch:
        raise BadRequest("queries", f"{n} queries; the limit is {conf.limits.max_batch}")
    queries.check_k(k, conf.limits.max_k)


@get(
    "/{model:str}/neighbors",
    summary="Nearest neighbours of one token (by token or id), optionally by script",
    sync_to_thread=True,
)
def get_neighbors(
    reg: Reg,
    conf: Conf,
    model: ModelName,
    token: TokenParam = None,
    token_id: IdParam = None,
    k: KParam = 10,
    scripts: ScriptsParam = None,
    exclude_scripts: ExcludeParam = None,
    scheme: SchemeParam = "unicode",
    exact: ExactParam = False,
    include_self: SelfParam = False,
) -> s.NeighborsOut:
    queries.check_k(k, conf.limits.max_k)
    query = s.Query(**one_query(token, token_id))
    return queries.neighbors(
        model_of(reg, model), query, k, scheme, split(scripts), split(exclude_scripts), exact, include_self
    )


@post(
    "/{model:str}/neighbors",
    summary="Nearest neighbours of a batch of tokens, ids or vectors",
    status_code=200,
    sync_to_thread=True,
)
def post_neighbors(
    reg: Reg, conf: Conf, model: ModelName, data: JSONBody[s.NeighborsBatch]
) -> s.NeighborsBatchOut:
    _check_batch(len(data.queries), data.k, conf)
    found = model_of(reg, model)
    results = [
        queries.neighbors(
            found,
            q,
            data.k,
            data.scheme,
            data.scripts,
            data.exclude_scripts,
            data.exact,
            data.include_self,
            where=f"queries[{i}]",
        )
        for i, q in enumerate(data.queries)
    ]
    return s.NeighborsBatchOut(found.name, results)


@get(
    "/{model:str}/translations",
    summary="Translation candidates of a token in other writing systems",
    sync_to_thread=True,
)
def get_translations(
    reg: Reg,
    conf: Conf,
    model: ModelName,
    token: TokenParam = None,
    token_id: IdParam = None,
    k: KParam = 10,
    target_scripts: TargetsParam = None,
    method: MethodParam = "csls",
    scheme: SchemeParam = "unicode",
) -> s.TranslationsOut:
    queries.check_k(k, conf.limits.max_k)
    query = s.Query(**one_query(token, token_id))
    return queries.translations(model_of(reg, model), query, k, method, scheme, split(target_scripts))


@post(
    "/{model:str}/translations",
    summary="Translation candidates for a batch of queries",
    status_code=200,
    sync_to_thread=True,
)
def post_translations(
    reg: Reg, conf: Conf, model: ModelName, data: JSONBody[s.TranslationsBatch]
) -> s.TranslationsBatchOut:
    _check_batch(len(data.queries), data.k, conf)
    found = model_of(reg, model)
    results = [
        queries.translations(
            found, q, data.k, data.method, data.scheme, data.target_scripts, where=f"queries[{i}]"
        )
        for i, q in enumerate(data.queries)
    ]
    return s.TranslationsBatchOut(found.name, results)


@post(
    "/{model:str}/translations/evaluate",
    status_code=200,
    sync_to_thread=True,
    summary="Precision@1/5/10 of cosine and CSLS retrieval on a bilingual dictionary",
)
def evaluate(reg: Reg, conf: Conf, model: ModelName, data: JSONBody[s.EvaluateRequest]) -> s.EvaluateOut:
    return queries.evaluate_dictionary(model_of(reg, model), data, conf.limits.max_dictionary_pairs)


router = Router(
    path="/v1/models",
    route_handlers=[get_neighbors, post_neighbors, get_translations, post_translations, evaluate],
    dependencies={
        "reg": Provide(registry, sync_to_thread=False),
        "conf": Provide(settings, sync_to_thread=False),
    },
    tags=["neighbours"],
)
