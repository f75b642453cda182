"""One builder per endpoint: its parameters become the endpoint's own request Struct (an unknown
keyword is a TypeError here, a value out of bounds a `BadRequest` from the service) and the answer
decodes into its own response Struct (service/request_types.py, service/response_types.py: one
definition shared by the service, the client and the OpenAPI spec)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from polyglot_client.calls import Call, get, post
from service import request_types as r
from service import response_types as s

BatchQuery = str | int | Sequence[float] | r.Query | dict[str, Any]


def _model(model: str, tail: str = "") -> str:
    return f"/v1/models/{quote(model, safe='')}{tail}"


def as_query(query: BatchQuery) -> r.Query:
    """A batch entry: a Query or its fields as a dict, an int (token id), a string (a text, as `text=`:
    a one-piece word is exactly that token's query) or a vector."""
    if isinstance(query, r.Query):
        return query
    if isinstance(query, dict):
        return r.Query(**query)
    if isinstance(query, bool):
        raise TypeError("a batch query is a string, a token id, a vector, a Query or a dict")
    if isinstance(query, int):
        return r.Query(id=query)
    if isinstance(query, str):
        return r.Query(text=query)
    return r.Query(vector=[float(x) for x in query])


def health() -> Call[bytes]:
    return Call("GET", "/health", bytes)


def ready() -> Call[bytes]:
    return Call("GET", "/ready", bytes)


def models() -> Call[s.ModelsOut]:
    return get("/v1/models", s.ModelsOut)


def model(model: str) -> Call[s.ModelOut]:
    return get(_model(model), s.ModelOut)


def lexicon(model: str) -> Call[s.LexiconOut]:
    return get(_model(model, "/lexicon"), s.LexiconOut)


def tokens(model: str, **options: Any) -> Call[s.TokenPage]:
    return get(_model(model, "/tokens"), s.TokenPage, r.TokensRequest(**options))


def token(model: str, token_id: int) -> Call[s.TokenOut]:
    return get(_model(model, f"/tokens/{int(token_id)}"), s.TokenOut)


def anomalies(model: str, **options: Any) -> Call[s.AnomaliesOut]:
    return get(_model(model, "/tokens/anomalies"), s.AnomaliesOut, r.AnomaliesRequest(**options))


def geometry(model: str, **options: Any) -> Call[s.GeometryOut]:
    return get(_model(model, "/geometry"), s.GeometryOut, r.GeometryRequest(**options))


def footprint(model: str, **options: Any) -> Call[s.FootprintOut]:
    return get(_model(model, "/footprint"), s.FootprintOut, r.FootprintRequest(**options))


def footprint_ids(model: str, **options: Any) -> Call[bytes]:
    """The kept token ids of a trimmed vocabulary, one per line."""
    return get(_model(model, "/footprint/ids"), bytes, r.FootprintRequest(**options))


def vocabulary_map(model: str) -> Call[s.MapOut]:
    return get(_model(model, "/map"), s.MapOut)


def map_column(model: str, column: str) -> Call[bytes]:
    """One column of the vocabulary map as raw little-endian numbers (see MapOut for its dtype)."""
    return get(_model(model, f"/map/{quote(column, safe='')}"), bytes)


def export(model: str, **options: Any) -> Call[bytes]:
    """The model's tokens, labels and map as Parquet or a zip of CSV (ExportRequest.format)."""
    return get(_model(model, "/export"), bytes, r.ExportRequest(**options))


def neighbors(model: str, **options: Any) -> Call[s.NeighborsOut]:
    """One query: token=, id=, text=, vector=, or positive=/negative= examples, plus any option of
    NeighborsRequest (k, languages, scripts, group_by, ...)."""
    return post(_model(model, "/neighbors"), s.NeighborsOut, r.NeighborsRequest(**options))


def neighbors_batch(model: str, queries: Iterable[BatchQuery], **options: Any) -> Call[s.NeighborsBatchOut]:
    """Many queries in one request (answered in order), each as `as_query` reads it."""
    request = r.NeighborsRequest(queries=[as_query(q) for q in queries], **options)
    return post(_model(model, "/neighbors"), s.NeighborsBatchOut, request)


def translations(model: str, **options: Any) -> Call[s.TranslationsOut]:
    """Translation candidates of one query: target_languages, target_scripts, pool ("tokens" or
    "words"), candidates, method ("csls" or "cosine"), ..."""
    return post(_model(model, "/translations"), s.TranslationsOut, r.TranslationsRequest(**options))


def translations_batch(
    model: str, queries: Iterable[BatchQuery], **options: Any
) -> Call[s.TranslationsBatchOut]:
    request = r.TranslationsRequest(queries=[as_query(q) for q in queries], **options)
    return post(_model(model, "/translations"), s.TranslationsBatchOut, request)


def evaluate(
    model: str,
    dictionary: str | Path | None = None,
    pairs: Sequence[Sequence[str] | r.DictionaryPair] | None = None,
    **options: Any,
) -> Call[s.EvaluateOut]:
    """P@k of a bilingual dictionary: MUSE text or a path to such a file, or pairs
    ([source, target], [source, target, language])."""
    text = dictionary.read_text(encoding="utf-8") if isinstance(dictionary, Path) else dictionary
    listed = None if pairs is None else [p if isinstance(p, r.DictionaryPair) else list(p) for p in pairs]
    request = r.EvaluateRequest(dictionary=text, pairs=listed, **options)
    return post(_model(model, "/translations/evaluate"), s.EvaluateOut, request)


def separability(model: str, **options: Any) -> Call[s.SeparabilityOut]:
    return get(_model(model, "/separability"), s.SeparabilityOut, r.SeparabilityRequest(**options))


def diversity(model: str, **options: Any) -> Call[s.DiversityOut]:
    return get(_model(model, "/diversity"), s.DiversityOut, r.DiversityRequest(**options))


def relations(model: str, **options: Any) -> Call[s.RelationsOut]:
    return get(_model(model, "/languages/relations"), s.RelationsOut, r.RelationsRequest(**options))


def compare(models: Sequence[str], **options: Any) -> Call[s.CompareOut]:
    return get("/v1/compare", s.CompareOut, r.CompareRequest(models=list(models), **options))


def compare_spaces(model: str, **options: Any) -> Call[s.CompareSpacesOut]:
    """The model's input and encoder spaces side by side (a job)."""
    return get(_model(model, "/compare-spaces"), s.CompareSpacesOut, r.CompareSpacesRequest(**options))


def job(job_id: str) -> Call[s.JobOut]:
    return get(f"/v1/jobs/{quote(job_id, safe='')}", s.JobOut)


def cancel(job_id: str) -> Call[s.JobOut]:
    return Call("DELETE", f"/v1/jobs/{quote(job_id, safe='')}", s.JobOut)
