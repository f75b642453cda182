"""The vocabulary as files other tools open.

- Parquet: every token with its id, forms, kind, labels and map position (pandas, pyarrow, DuckDB
  and Apple's embedding-atlas read it directly).
- The Embedding Projector's two TSV files (vectors, metadata with a header row) in one zip, for a
  seeded sample of a chosen subset: the Projector computes its projections in the browser and
  handles tens of thousands of points, not a whole vocabulary.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from loaders.artifact import NOT_TEXT_KINDS, TOKEN_KINDS
from service import request_types as r
from service.errors import NothingToFit, OverBudget, UnknownLabel, UnknownLanguage
from service.registry import LoadedModel

# Values in one projector export (points x dimensions): ~7 bytes each as text, ~60 MB at most.
MAX_PROJECTOR_VALUES = 8_000_000
PARQUET = "application/vnd.apache.parquet"
ZIP = "application/zip"


def media_type(request: r.ExportRequest) -> str:
    return PARQUET if request.format == "parquet" else ZIP


def filename(model: LoadedModel, request: r.ExportRequest) -> str:
    return f"{model.name}.parquet" if request.format == "parquet" else f"{model.name}-projector.zip"


def export_bytes(model: LoadedModel, request: r.ExportRequest) -> bytes:
    return parquet(model) if request.format == "parquet" else projector(model, request)


def parquet(model: LoadedModel) -> bytes:
    n = len(model.raw)
    columns: dict[str, pa.Array] = {
        "id": pa.array(np.arange(n, dtype=np.int32)),
        "token": pa.array(list(model.raw), type=pa.string()),
        "display": pa.array(list(model.display), type=pa.string()),
        "kind": pa.DictionaryArray.from_arrays(model.kinds.astype(np.int32), list(TOKEN_KINDS)),
    }
    for scheme, labels in model.labels.items():
        name = "script" if scheme == "unicode" else scheme
        columns[name] = pa.DictionaryArray.from_arrays(labels.codes.astype(np.int32), labels.names)
    if model.layout is not None:
        xy = np.asarray(model.layout, dtype=np.float32)
        missing = np.isnan(xy[:, 0])
        columns["x"] = pa.array(xy[:, 0], mask=missing)
        columns["y"] = pa.array(xy[:, 1], mask=missing)
    layout = model.manifest.layout
    table = pa.table(columns).replace_schema_metadata(
        {
            "model": model.name,
            "source": f"{model.manifest.source.kind}:{model.manifest.source.location}",
            "layout": "" if layout is None else f"{layout.method} seed {layout.seed}",
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd")
    return out.getvalue()


def chosen(model: LoadedModel, request: r.ExportRequest) -> np.ndarray:
    """Ids of the subset (text tokens by default; kinds, scripts and languages narrow it), a seeded
    sample of `limit` of them when there are more, in id order."""
    text_kinds = [k for k in TOKEN_KINDS if k not in NOT_TEXT_KINDS]
    kinds: list[str] = list(request.kinds) if request.kinds else text_kinds
    keep = np.isin(model.kinds, [TOKEN_KINDS.index(k) for k in kinds])
    for field, scheme, wanted, error in (
        ("scripts", "unicode", request.scripts, UnknownLabel),
        ("languages", "language", request.languages, UnknownLanguage),
    ):
        if not wanted:
            continue
        names = model.labels[scheme].names if scheme in model.labels else []
        unknown = [w for w in wanted if w not in names]
        if unknown:
            raise error(f"unknown {scheme} labels {unknown}", field=field, known=names)
        keep &= np.isin(model.labels[scheme].codes, [names.index(w) for w in wanted])
    ids = np.flatnonzero(keep & (model.space.norms > 0))
    if len(ids) == 0:
        given = [f for f in ("languages", "scripts", "kinds") if getattr(request, f)] or ["kinds"]
        raise NothingToFit("no token matches the chosen kinds, scripts and languages", field=given[0])
    if len(ids) > request.limit:
        ids = np.sort(np.random.default_rng(request.seed).choice(ids, request.limit, replace=False))
    return ids


def _cell(text: str) -> str:
    """A TSV cell: tabs and line breaks escaped, since they would split rows and columns."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def check(model: LoadedModel, request: r.ExportRequest) -> np.ndarray | None:
    """The 400s of a projector export, raised before any work is queued; the ids it exports."""
    if request.format != "projector":
        return None
    dim = int(model.space.matrix.shape[1])
    if request.limit * dim > MAX_PROJECTOR_VALUES:
        raise OverBudget(
            f"{request.limit} points x {dim} dimensions is over the export limit of"
            f" {MAX_PROJECTOR_VALUES:,} values: at most {MAX_PROJECTOR_VALUES // dim} points for this model",
            field="limit",
        )
    return chosen(model, request)


def projector(model: LoadedModel, request: r.ExportRequest) -> bytes:
    ids = check(model, request)
    assert ids is not None  # a projector request
    vectors = io.StringIO()
    digits = 4 if model.space.matrix.dtype == np.float16 else 7  # what the stored values hold
    rows = np.asarray(model.space.matrix[ids], dtype=np.float32)
    np.savetxt(vectors, rows, fmt=f"%.{digits}g", delimiter="\t")
    schemes = list(model.labels)
    lines = ["\t".join(["id", "token", "kind", *schemes])]
    for i in ids.tolist():
        labels = [model.labels[sc].names[model.labels[sc].codes[i]] for sc in schemes]
        lines.append("\t".join([str(i), _cell(model.display[i]), TOKEN_KINDS[model.kinds[i]], *labels]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.writestr("vectors.tsv", vectors.getvalue())
        archive.writestr("metadata.tsv", "\n".join(lines) + "\n")
    return out.getvalue()
