"""Neighbours and translation candidates: GET for one query, POST for a batch (order kept).

Responses are cached (key: artifact checksum + endpoint + canonical parameters) and say so in the
`X-Cache: hit|miss` header; computation runs in a worker thread, off the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import msgspec
from litestar import Response, Router, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, Parameter

from service import queries
from service import schemas as s
from service.api.params import (
    ERRORS,
    Conf,
    ExcludeParam,
    IdParam,
    KParam,
    LanguagesParam,
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
from service.cache import ResponseCache, cache_key
from service.errors import BadRequest
from service.models import LoadedModel
from service.settings import Settings

Cache = NamedDependency[ResponseCache]
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
CACHE_HEADER = "X-Cache"


def response_cache(state: State) -> ResponseCache:
    return state.cache  # type: ignore[no-any-return]


def _check_batch(n: int, k: int, conf: Settings) -> None:
    """The configured limits (they may be lower than the schema's documented maxima)."""
    if n > conf.limits.max_batch:
        raise BadRequest("queries", f"{n} queries; the limit is {conf.limits.max_batch}")
    queries.check_k(k, conf.limits.max_k)


def _sorted(values: list[str] | None) -> list[str] | None:
    return sorted(set(values)) if values else None


async def cached(
    cache: ResponseCache,
    found: LoadedModel,
    endpoint: str,
    params: dict[str, Any],
    compute: Callable[[], msgspec.Struct],
    out_type: type[msgspec.Struct],
) -> Response[Any]:
    try:
        key = cache_key([found.checksum], endpoint, params)
    except UnicodeEncodeError as exc:  # JSON may carry lone surrogates ("\udcff"): not text
        raise BadRequest("body", "strings must be valid Unicode text (a lone surrogate was sent)") from exc
    body, hit = await cache.get_or_compute(
        endpoint,
        key,
        lambda: msgspec.json.encode(compute()),
        lambda raw: msgspec.json.decode(raw, type=out_type),
    )
    return Response(body, media_type="application/json", headers={CACHE_HEADER: "hit" if hit else "miss"})


@get(
    "/{model:str}/neighbors",
    responses=ERRORS,
    summary="Nearest neighbours of one token (by token or id), optionally by script",
)
async def get_neighbors(
    reg: Reg,
    conf: Conf,
    cache: Cache,
    model: ModelName,
    token: TokenParam = None,
    token_id: IdParam = None,
    k: KParam = 10,
    scripts: ScriptsParam = None,
    exclude_scripts: ExcludeParam = None,
    scheme: SchemeParam = "unicode",
    exact: ExactParam = False,
    include_self: SelfParam = False,
    languages: LanguagesParam = None,
) -> Response[s.NeighborsOut]:
    queries.check_k(k, conf.limits.max_k)
    found = model_of(reg, model)
    query = s.Query(**one_query(token, token_id))
    keep, drop = _sorted(split(scripts)), _sorted(split(exclude_scripts))
    langs = _sorted(split(languages))
    params = {
        "languages": langs,
        "query": msgspec.to_builtins(query),
        "k": k,
        "scheme": scheme,
        "scripts": keep,
        "exclude": drop,
        "exact": exact,
        "include_self": include_self,
    }
    return await cached(
        cache,
        found,
        "neighbors",
        params,
        lambda: queries.neighbors(found, query, k, scheme, keep, drop, exact, include_self, languages=langs),
        s.NeighborsOut,
    )


@post(
    "/{model:str}/neighbors",
    responses=ERRORS,
    summary="Nearest neighbours of a batch of tokens, ids or vectors",
    status_code=200,
)
async def post_neighbors(
    reg: Reg, conf: Conf, cache: Cache, model: ModelName, data: JSONBody[s.NeighborsBatch]
) -> Response[s.NeighborsBatchOut]:
    _check_batch(len(data.queries), data.k, conf)
    found = model_of(reg, model)
    keep, drop, langs = _sorted(data.scripts), _sorted(data.exclude_scripts), _sorted(data.languages)

    def compute() -> s.NeighborsBatchOut:
        results = [
            queries.neighbors(
                found,
                q,
                data.k,
                data.scheme,
                keep,
                drop,
                data.exact,
                data.include_self,
                where=f"queries[{i}]",
                languages=langs,
            )
            for i, q in enumerate(data.queries)
        ]
        return s.NeighborsBatchOut(found.name, results)

    params = {**msgspec.to_builtins(data), "scripts": keep, "exclude_scripts": drop, "languages": langs}
    return await cached(cache, found, "neighbors-batch", params, compute, s.NeighborsBatchOut)


@get(
    "/{model:str}/translations",
    responses=ERRORS,
    summary="Translation candidates of a token in other writing systems",
)
async def get_translations(
    reg: Reg,
    conf: Conf,
    cache: Cache,
    model: ModelName,
    token: TokenParam = None,
    token_id: IdParam = None,
    k: KParam = 10,
    target_scripts: TargetsParam = None,
    method: MethodParam = "csls",
    scheme: SchemeParam = "unicode",
    target_languages: LanguagesParam = None,  # with target_scripts too, candidates must match both
) -> Response[s.TranslationsOut]:
    queries.check_k(k, conf.limits.max_k)
    found = model_of(reg, model)
    query = s.Query(**one_query(token, token_id))
    targets = _sorted(split(target_scripts))
    langs = _sorted(split(target_languages))
    params = {
        "languages": langs,
        "query": msgspec.to_builtins(query),
        "k": k,
        "method": method,
        "scheme": scheme,
        "targets": targets,
    }
    return await cached(
        cache,
        found,
        "translations",
        params,
        lambda: queries.translations(found, query, k, method, scheme, targets, languages=langs),
        s.TranslationsOut,
    )


@post(
    "/{model:str}/translations",
    responses=ERRORS,
    summary="Translation candidates for a batch of queries",
    status_code=200,
)
async def post_translations(
    reg: Reg, conf: Conf, cache: Cache, model: ModelName, data: JSONBody[s.TranslationsBatch]
) -> Response[s.TranslationsBatchOut]:
    _check_batch(len(data.queries), data.k, conf)
    found = model_of(reg, model)
    targets, langs = _sorted(data.target_scripts), _sorted(data.target_languages)

    def compute() -> s.TranslationsBatchOut:
        results = [
            queries.translations(
                found, q, data.k, data.method, data.scheme, targets, where=f"queries[{i}]", languages=langs
            )
            for i, q in enumerate(data.queries)
        ]
        return s.TranslationsBatchOut(found.name, results)

    params = {**msgspec.to_builtins(data), "target_scripts": targets, "target_languages": langs}
    return await cached(cache, found, "translations-batch", params, compute, s.TranslationsBatchOut)


@post(
    "/{model:str}/translations/evaluate",
    responses=ERRORS,
    status_code=200,
    summary="Precision@1/5/10 of cosine and CSLS retrieval on a bilingual dictionary",
)
async def evaluate(
    reg: Reg, conf: Conf, cache: Cache, model: ModelName, data: JSONBody[s.EvaluateRequest]
) -> Response[s.EvaluateOut]:
    found = model_of(reg, model)
    params = {**msgspec.to_builtins(data), "target_scripts": _sorted(data.target_scripts)}
    return await cached(
        cache,
        found,
        "evaluate",
        params,
        lambda: queries.evaluate_dictionary(found, data, conf.limits.max_dictionary_pairs),
        s.EvaluateOut,
    )


router = Router(
    path="/v1/models",
    route_handlers=[get_neighbors, post_neighbors, get_translations, post_translations, evaluate],
    dependencies={
        "reg": Provide(registry, sync_to_thread=False),
        "conf": Provide(settings, sync_to_thread=False),
        "cache": Provide(response_cache, sync_to_thread=False),
    },
    tags=["neighbours"],
)
