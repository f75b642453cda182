"""GET /v1/models, /v1/models/{model}, token search and lookup."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from litestar import Request, Router
from litestar.handlers import HTTPRouteHandler
from litestar.params import Parameter

from loaders import artifact
from service import request_types as r
from service import response_types as s
from service.api.decoding import decoder
from service.api.documented import get_route
from service.api.params import ERRORS, SERVICES, ModelName, Svc, examples, query_items
from service.errors import at
from service.registry import LoadedModel
from service.usecases.lexicon_costs import lexicon_languages, lexicon_out
from service.usecases.tokens import find_tokens, token_out


def table_out(m: artifact.Manifest) -> s.NeighborTableOut | None:
    if m.knn_k == 0:
        return None
    t = m.table or artifact.TableInfo("exact", "numpy")  # artifacts before TableInfo: exact
    return s.NeighborTableOut(
        k=m.knn_k,
        method=t.method,
        backend=t.backend,
        candidates=t.candidates,
        recall=t.recall,
        sample=t.sample,
    )


def encoder_out(model: LoadedModel) -> s.EncoderSpaceOut:
    if model.encoder_space is None:
        return s.EncoderSpaceOut(ready=False, reason=model.encoder_missing)
    info = model.encoder_space.info
    return s.EncoderSpaceOut(
        ready=True,
        encoder=info.encoder.describe(),
        words=info.rows,
        per_language=info.per_language,
        languages=info.languages,
        dim=info.dim,
        build_seconds=info.seconds,
        words_per_second=info.words_per_second,
    )


def model_out(model: LoadedModel) -> s.ModelOut:
    m = model.manifest
    schemes = {
        name: s.LabelSchemeOut(
            unicode_version=info.unicode_version,
            description=info.description,
            counts=model.labels[name].counts(),
        )
        for name, info in m.labels.items()
    }
    index = m.index
    return s.ModelOut(
        name=m.name,
        family=m.family,
        source=s.SourceOut(kind=m.source.kind, location=m.source.location),
        vocab_size=m.vocab_size,
        source_rows=m.source_rows,
        dim=m.dim,
        dtype=m.dtype,
        original_dtype=m.original_dtype,
        byte_level=m.byte_level,
        index=s.IndexOut(
            metric=index.metric,
            dtype=index.dtype,
            connectivity=index.connectivity,
            expansion_add=index.expansion_add,
            expansion_search=index.expansion_search,
            count=index.count,
        ),
        exact_neighbors=m.knn_k,
        label_schemes=schemes,
        checksum=model.checksum,
        vocabulary=m.vocabulary,
        vocabulary_description=artifact.VOCABULARIES.get(m.vocabulary, ""),
        kinds=model.kind_counts,
        description=m.description,
        lexicon=lexicon_languages(model),
        languages=None
        if m.languages is None or model.languages is None
        else s.LanguagesInfoOut(
            supported=model.languages.supported,
            names=m.languages.names,
            wordfreq_version=m.languages.wordfreq_version,
            wordlist=m.languages.wordlist,
            prior=m.languages.prior,
            min_share=m.languages.min_share,
        ),
        neighbor_table=table_out(m),
        spaces=["input", "encoder"] if model.encoder_space is not None else ["input"],
        encoder_space=encoder_out(model),
    )


def _get(path: str, summary: str, kind: type[r.Request] = r.NoParams) -> HTTPRouteHandler:
    return get_route(path, summary, kind, ERRORS)


@_get("/", "List the loaded models")
async def list_models(request: Request[Any, Any, Any], svc: Svc) -> s.ModelsOut:
    decoder(r.NoParams).from_query(query_items(request))
    registry = svc.registry
    return s.ModelsOut(
        models=[model_out(m) for m in registry.models.values()], building=sorted(registry.building)
    )


@_get("/{model:str}", "Describe one model: sizes, index, label schemes and token counts per script")
async def get_model(request: Request[Any, Any, Any], svc: Svc, model: ModelName) -> s.ModelOut:
    decoder(r.NoParams).from_query(query_items(request))
    return model_out(svc.registry.get(model))


@_get(
    "/{model:str}/tokens",
    "Search the vocabulary (exact or prefix), optionally by script or language",
    r.TokensRequest,
)
async def search_tokens(request: Request[Any, Any, Any], svc: Svc, model: ModelName) -> s.TokenPage:
    query = decoder(r.TokensRequest).from_query(query_items(request))
    found = svc.registry.get(model)
    return await anyio.to_thread.run_sync(find_tokens, found, query)  # a prefix may match 100k tokens


@_get("/{model:str}/tokens/{token_id:int}", "One token by id: raw and display form, kind, labels")
async def get_token(
    request: Request[Any, Any, Any],
    svc: Svc,
    model: ModelName,
    token_id: Annotated[int, Parameter(description="token id", ge=0, examples=examples(70))],
) -> s.TokenOut:
    decoder(r.NoParams).from_query(query_items(request))
    found = svc.registry.get(model)
    with at("token_id"):
        return token_out(found, found.check_id(token_id))


@_get(
    "/{model:str}/lexicon",
    "The model's lexicon by language: sizes, and what a lookup costs (pieces per word, parity with English)",
)
async def get_lexicon(request: Request[Any, Any, Any], svc: Svc, model: ModelName) -> s.LexiconOut:
    decoder(r.NoParams).from_query(query_items(request))
    return lexicon_out(svc.registry.get(model))


router = Router(
    path="/v1/models",
    route_handlers=[list_models, get_model, search_tokens, get_token, get_lexicon],
    dependencies=SERVICES,
    tags=["models"],
)
