"""Shared query-parameter declarations and small parsing helpers for the routers."""

from __future__ import annotations

from typing import Annotated, Any

from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Parameter, QueryParameter

from service import schemas as s
from service.errors import PROBLEM_JSON, BadRequest
from service.jobs import Jobs
from service.models import LoadedModel, Registry
from service.settings import Settings

# Handler parameters filled by dependency injection (named explicitly, as Litestar 3 requires).
Reg = NamedDependency[Registry]
Conf = NamedDependency[Settings]
JobsDep = NamedDependency[Jobs]


# Error responses every route may give, documented in the OpenAPI spec as problem details.
ERRORS = {
    status: ResponseSpec(s.Problem, description=text, media_type=PROBLEM_JSON, generate_examples=False)
    for status, text in (
        (400, "bad parameter or body: `field` names it"),
        (404, "unknown model, token or job; close matches in `suggestions` or `known`"),
        (413, "body or dictionary over the documented limits"),
    )
}


def registry(state: State) -> Registry:
    return state.registry  # type: ignore[no-any-return]


def settings(state: State) -> Settings:
    return state.settings  # type: ignore[no-any-return]


def model_of(reg: Registry, name: str) -> LoadedModel:
    return reg.get(name)


def split(value: str | None) -> list[str] | None:
    """'Latin, Cyrillic' -> ['Latin', 'Cyrillic']; empty -> None."""
    if value is None:
        return None
    items = [part.strip() for part in value.split(",") if part.strip()]
    return items or None


def one_query(token: str | None, ident: int | None) -> dict[str, Any]:
    if (token is None) == (ident is None):
        raise BadRequest("token", "give exactly one of token or id")
    return {"token": token} if token is not None else {"id": ident}


def examples(*values: Any) -> list[Example]:
    return [Example(summary=str(v), value=v) for v in values]


ModelName = Annotated[
    str,
    Parameter(
        description="model name, as listed by GET /v1/models",
        examples=examples("multilingual-e5-small", "use-multilingual-v3"),
    ),
]
TokenParam = Annotated[
    str | None,
    Parameter(
        description="a token (raw or display form); a plain word also tries its word-initial form '▁word'",
        min_length=1,
        max_length=256,
        examples=examples("▁water", "water", "▁вода"),
    ),
]
IdParam = Annotated[
    int | None, QueryParameter(name="id", description="a token id", ge=0, examples=examples(70))
]
KParam = Annotated[
    int, Parameter(description="number of results, 1..1000", ge=1, le=1000, examples=examples(10))
]
SchemeParam = Annotated[
    str,
    Parameter(
        description="label scheme for script filters: 'unicode' (Unicode Script property) or 'paper' "
        "(the seed paper's categories)",
        pattern="^(paper|unicode)$",
        examples=examples("unicode", "paper"),
    ),
]
ScriptsParam = Annotated[
    str | None,
    Parameter(
        description="comma-separated labels of the scheme to keep (e.g. 'Cyrillic,Greek')",
        max_length=2000,
        examples=examples("Cyrillic", "Han,Japanese"),
    ),
]
ExcludeParam = Annotated[
    str | None,
    Parameter(
        description="comma-separated labels of the scheme to leave out",
        max_length=2000,
        examples=examples("Latin"),
    ),
]
LanguagesParam = Annotated[
    str | None,
    Parameter(
        description="comma-separated ISO 639 codes: only tokens labelled with these languages (word-initial "
        "words; the model's 'language' label scheme lists them); unknown or unsupported codes are a 400",
        max_length=2000,
        examples=examples("fr", "es,pt"),
    ),
]
