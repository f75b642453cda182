"""GET /v1/models, /v1/models/{model}, token search and lookup."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Router, get
from litestar.di import Provide
from litestar.params import Parameter

from service import schemas as s
from service.api.params import ERRORS, ModelName, Reg, SchemeParam, examples, model_of, registry
from service.models import LoadedModel
from service.queries import find_tokens, token_out


def model_out(model: LoadedModel) -> s.ModelOut:
    m = model.manifest
    schemes = {
        name: s.LabelSchemeOut(info.unicode_version, info.description, model.labels[name].counts())
        for name, info in m.labels.items()
    }
    index = m.index
    return s.ModelOut(
        name=m.name,
        family=m.family,
        source=s.SourceOut(m.source.kind, m.source.location),
        vocab_size=m.vocab_size,
        source_rows=m.source_rows,
        dim=m.dim,
        dtype=m.dtype,
        original_dtype=m.original_dtype,
        byte_level=m.byte_level,
        index=s.IndexOut(
            index.metric,
            index.dtype,
            index.connectivity,
            index.expansion_add,
            index.expansion_search,
            index.count,
        ),
        exact_neighbours=m.knn_k,
        label_schemes=schemes,
        checksum=model.checksum,
        languages=None
        if m.languages is None or model.languages is None
        else s.LanguagesInfoOut(
            model.languages.supported,
            m.languages.names,
            m.languages.wordfreq_version,
            m.languages.wordlist,
            m.languages.prior,
            m.languages.min_share,
        ),
    )


@get("/", responses=ERRORS, summary="List the loaded models")
async def list_models(reg: Reg) -> s.ModelsOut:
    return s.ModelsOut([model_out(m) for m in reg.models.values()])


@get(
    "/{model:str}",
    responses=ERRORS,
    summary="Describe one model: sizes, index, label schemes and token counts per script",
)
async def get_model(reg: Reg, model: ModelName) -> s.ModelOut:
    return model_out(model_of(reg, model))


@get(
    "/{model:str}/tokens",
    responses=ERRORS,
    summary="Search the vocabulary (exact or prefix), optionally by script or language",
)
async def search_tokens(
    reg: Reg,
    model: ModelName,
    q: Annotated[
        str,
        Parameter(
            description="text to look up; a plain word also tries '▁'+word",
            min_length=1,
            max_length=256,
            examples=examples("water", "▁Was"),
        ),
    ],
    match: Annotated[Literal["exact", "prefix"], Parameter(description="exact or prefix match")] = "prefix",
    script: Annotated[
        str | None, Parameter(description="keep tokens with this label", examples=examples("Latin"))
    ] = None,
    scheme: SchemeParam = "unicode",
    limit: Annotated[int, Parameter(description="page size, 1..1000", ge=1, le=1000)] = 50,
    cursor: Annotated[
        str | None, Parameter(description="next_cursor of the previous page", pattern="^[0-9]{1,9}$")
    ] = None,
    language: Annotated[
        str | None,
        Parameter(description="keep tokens labelled with this ISO 639 language", examples=examples("de")),
    ] = None,
) -> s.TokenPage:
    found = model_of(reg, model)
    return find_tokens(found, q, match, script, scheme, limit, int(cursor or 0), language)


@get(
    "/{model:str}/tokens/{token_id:int}",
    responses=ERRORS,
    summary="One token by id: raw and display form, kind, labels",
)
async def get_token(
    reg: Reg,
    model: ModelName,
    token_id: Annotated[int, Parameter(description="token id", ge=0, examples=examples(70))],
) -> s.TokenOut:
    found = model_of(reg, model)
    return token_out(found, found.check_id(token_id, "token_id"))


router = Router(
    path="/v1/models",
    route_handlers=[list_models, get_model, search_tokens, get_token],
    dependencies={"reg": Provide(registry, sync_to_thread=False)},
    tags=["models"],
)
