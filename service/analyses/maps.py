"""The vocabulary map as columns: positions (float16 x, y) and label codes per token, each served as
one raw little-endian array, so a browser draws 250k points from ~1.5 MB instead of parsing 250k
JSON objects. The JSON description names the columns, their dtypes and what each code means."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
import numpy as np

from loaders import artifact
from loaders.artifact import TOKEN_KINDS
from service import response_types as s
from service.errors import NotFound
from service.registry import LoadedModel

XY = "xy"
KIND = "kind"


@dataclass(frozen=True)
class Column:
    array: np.ndarray
    categories: list[str] | None
    description: str


def columns(model: LoadedModel) -> dict[str, Column]:
    found: dict[str, Column] = {}
    if model.layout is not None:
        found[XY] = Column(
            model.layout, None, "x, y per token in [-1, 1] (NaN: not placed: special or zero rows)"
        )
    for scheme, labels in model.labels.items():
        found[scheme] = Column(labels.codes, labels.names, f"{scheme} label code per token")
    found[KIND] = Column(model.kinds, list(TOKEN_KINDS), "token kind code per token")
    return found


def map_out(model: LoadedModel) -> s.MapOut:
    info = model.manifest.layout
    layout = None if info is None else s.MapLayoutOut(**msgspec.structs.asdict(info))
    found = columns(model)
    listed = [
        s.MapColumnOut(
            name=name,
            dtype=column.array.dtype.name,
            shape=list(column.array.shape),
            bytes=int(column.array.nbytes),
            url=f"/v1/models/{model.name}/map/{name}",
            description=column.description,
        )
        for name, column in found.items()
    ]
    categories = {name: c.categories for name, c in found.items() if c.categories is not None}
    return s.MapOut(
        model=model.name, tokens=len(model.raw), layout=layout, columns=listed, categories=categories
    )


def column(model: LoadedModel, name: str) -> Column:
    found = columns(model)
    if name == XY:
        model.needs(artifact.MAP_STAGE, field="column")
    if name not in found:
        hint = " (built with --layout none: no map)" if name == XY else ""
        detail = f"model {model.name} has no map column {name!r}{hint}"
        raise NotFound(detail, field="column", known=list(found))
    return found[name]


def column_bytes(model: LoadedModel, name: str) -> bytes:
    """The column's array as little-endian bytes, row-major."""
    array = column(model, name).array
    return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
