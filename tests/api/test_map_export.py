"""The vocabulary map's columns and the export files, on the packaged models."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from litestar.testing import TestClient

from loaders.artifact import TOKEN_KINDS
from service.registry import Registry
from tests.conftest import E5, LLAMA, USE


@pytest.mark.parametrize("name", [E5, USE, LLAMA])
def test_map_columns_are_the_artifacts_arrays(
    client: TestClient,  # type: ignore[type-arg]
    registry: Registry,
    name: str,
) -> None:
    model = registry.get(name)
    body = client.get(f"/v1/models/{name}/map").json()
    n = len(model.raw)
    assert body["layout"]["method"] == "umap" and body["layout"]["seed"] == 0
    assert body["layout"]["placed"] == model.manifest.index.count
    columns = {c["name"]: c for c in body["columns"]}
    assert columns["xy"]["dtype"] == "float16" and columns["xy"]["shape"] == [n, 2]
    assert columns["xy"]["bytes"] == 4 * n and columns["unicode"]["dtype"] == "uint16"
    assert body["categories"]["unicode"] == model.labels["unicode"].names
    assert body["categories"]["kind"] == list(TOKEN_KINDS)
    got = client.get(columns["xy"]["url"])
    assert got.headers["content-type"] == "application/octet-stream" and len(got.content) == 4 * n
    xy = np.frombuffer(got.content, dtype="<f2").reshape(n, 2)
    placed = ~np.isnan(xy[:, 0])
    assert placed.sum() == model.manifest.index.count
    assert not placed[model.space.norms == 0].any()  # zero rows and specials are not on the map
    np.testing.assert_array_equal(xy[placed], np.asarray(model.layout)[placed])
    assert float(np.abs(xy[placed]).max()) == 1.0
    codes = np.frombuffer(client.get(columns["unicode"]["url"]).content, dtype="<u2")
    np.testing.assert_array_equal(codes, model.labels["unicode"].codes)


def test_map_answers_are_http_cacheable_and_unknown_columns_are_named(
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    first = client.get(f"/v1/models/{LLAMA}/map/xy")
    tag = first.headers["etag"]
    assert first.headers["cache-control"].startswith("public, max-age=")
    again = client.get(f"/v1/models/{LLAMA}/map/xy", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    other = client.get(f"/v1/models/{LLAMA}/map/unicode")
    assert other.headers["etag"] != tag
    missing = client.get(f"/v1/models/{LLAMA}/map/colour")
    assert missing.status_code == 404 and missing.json()["field"] == "column"
    assert missing.json()["known"] == ["xy", "paper", "unicode", "language", "kind"]
    assert client.get(f"/v1/models/{LLAMA}/map", params={"x": 1}).status_code == 400


def test_parquet_export_reads_back_with_every_token(
    client: TestClient,  # type: ignore[type-arg]
    registry: Registry,
) -> None:
    import pyarrow.parquet as pq

    model = registry.get(USE)
    response = client.get(f"/v1/models/{USE}/export", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.apache.parquet"
    # Parquet is compressed inside: never gzipped again, and its tag names the plain representation
    assert "content-encoding" not in response.headers and not response.headers["etag"].endswith('-gzip"')
    assert response.headers["content-length"] == str(len(response.content))
    assert f'filename="{USE}.parquet"' in response.headers["content-disposition"]
    table = pq.read_table(io.BytesIO(response.content))
    assert table.column_names == ["id", "token", "display", "kind", "paper", "script", "language", "x", "y"]
    assert table.num_rows == len(model.raw)
    assert table.schema.metadata[b"layout"] == b"umap seed 0"
    ids = [0, 1000, 54321]
    rows = table.take(ids).to_pylist()
    assert [r["token"] for r in rows] == [model.raw[i] for i in ids]
    assert [r["script"] for r in rows] == [
        model.labels["unicode"].names[model.labels["unicode"].codes[i]] for i in ids
    ]
    assert [r["kind"] for r in rows] == [TOKEN_KINDS[model.kinds[i]] for i in ids]
    xy = np.asarray(model.layout, dtype=np.float32)
    assert table.column("x").null_count == len(model.raw) - model.manifest.index.count
    assert rows[1]["x"] == xy[1000, 0] and rows[2]["y"] == xy[54321, 1]


def _projector(client: TestClient, **params: object) -> tuple[list[list[str]], np.ndarray]:  # type: ignore[type-arg]
    response = client.get(f"/v1/models/{E5}/export", params={"format": "projector", **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.namelist() == ["vectors.tsv", "metadata.tsv"]
        meta = [line.split("\t") for line in archive.read("metadata.tsv").decode().splitlines()]
        vectors = np.loadtxt(io.StringIO(archive.read("vectors.tsv").decode()), delimiter="\t", ndmin=2)
    return meta, vectors


def test_projector_export_is_a_seeded_sample_of_the_chosen_subset(
    client: TestClient,  # type: ignore[type-arg]
    registry: Registry,
) -> None:
    model = registry.get(E5)
    meta, vectors = _projector(client, limit=300, scripts="Cyrillic", seed=3)
    assert meta[0] == ["id", "token", "kind", "paper", "unicode", "language"]
    assert len(meta) == 301 and vectors.shape == (300, 384)
    ids = [int(row[0]) for row in meta[1:]]
    assert ids == sorted(ids) and {row[4] for row in meta[1:]} == {"Cyrillic"}
    assert {row[2] for row in meta[1:]} <= {"word-initial", "continuation"}
    np.testing.assert_allclose(vectors, np.asarray(model.space.matrix[ids], dtype=np.float32), rtol=1e-3)
    assert _projector(client, limit=300, scripts="Cyrillic", seed=3)[0] == meta  # same seed, same sample
    assert _projector(client, limit=300, scripts="Cyrillic", seed=4)[0] != meta


def test_projector_export_limits_are_problems(client: TestClient) -> None:  # type: ignore[type-arg]
    for params, status, field in (
        ({"limit": 30_000}, 400, "limit"),  # 30,000 x 384 values: over the export budget
        ({"scripts": "Klingon"}, 400, "scripts"),
        ({"format": "csv"}, 400, "format"),
        ({"kinds": "special", "languages": "fr"}, 400, "languages"),  # nothing matches
    ):
        response = client.get(f"/v1/models/{E5}/export", params={"format": "projector", **params})
        assert response.status_code == status and response.json()["field"] == field, response.text
