"""`make run` serves each model as soon as its artifact is built: a model still being built answers
503 with Retry-After and is listed as building, until its artifact appears; then it is served."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from litestar.testing import TestClient

from loaders import artifact
from loaders.__main__ import main
from loaders.build import AFTER_TABLE, BuildOptions, StageBar, build, current_build, pipeline, silent
from service.app import create_app
from service.settings import Settings
from tests import checkpoints
from tests.api.test_analyses import result_of

OPTIONS = BuildOptions(knn=3, layout="none")


def test_a_model_being_built_is_503_until_its_artifact_appears_then_served(tmp_path: Path) -> None:
    folder = tmp_path / "artifacts"
    for name in ("ready", "later"):
        checkpoints.vec_file(tmp_path / f"{name}.vec")
    build(f"vec:{tmp_path / 'ready.vec'}", folder / "ready", OPTIONS)
    key, current = current_build(f"vec:{tmp_path / 'later.vec'}", folder / "later", OPTIONS)
    assert not current
    settings = Settings(artifacts=(folder,), building=f"later:{key}")
    with TestClient(create_app(settings)) as client:
        listed = client.get("/v1/models").json()
        assert [m["name"] for m in listed["models"]] == ["ready"] and listed["building"] == ["later"]
        ready = client.get("/ready")
        assert ready.status_code == 200 and ready.json()["building"] == ["later"]
        waiting = client.get("/v1/models/later/neighbors", params={"id": 1, "k": 2})
        assert waiting.status_code == 503 and waiting.headers["retry-after"] == "15"
        assert waiting.json()["title"] == "Model still building" and waiting.json()["building"] == ["later"]
        build(f"vec:{tmp_path / 'later.vec'}", folder / "later", OPTIONS)
        deadline = time.monotonic() + 20
        while client.get("/v1/models").json()["building"] and time.monotonic() < deadline:
            time.sleep(0.2)
        served = client.get("/v1/models/later/neighbors", params={"id": 1, "k": 2})
        assert served.status_code == 200 and len(served.json()["neighbors"]) == 2
        assert client.get("/ready").json()["building"] == []
    assert current_build(f"vec:{tmp_path / 'later.vec'}", folder / "later", OPTIONS) == (key, True)


def test_a_first_run_starts_with_no_artifacts_folder_yet(tmp_path: Path) -> None:
    """`make run` on a fresh machine: the artifacts folder does not exist until the first build
    makes it; the service starts, building, and is not ready until a model is served."""
    checkpoints.vec_file(tmp_path / "first.vec")
    folder = tmp_path / "artifacts"
    key, _ = current_build(f"vec:{tmp_path / 'first.vec'}", folder / "first", OPTIONS)
    with TestClient(create_app(Settings(artifacts=(folder,), building=f"first:{key}"))) as client:
        waiting = client.get("/ready")
        assert waiting.status_code == 503 and waiting.json()["status"] == "building"
        build(f"vec:{tmp_path / 'first.vec'}", folder / "first", OPTIONS)
        deadline = time.monotonic() + 20
        while client.get("/ready").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert client.get("/ready").json()["models"] == ["first"]


FULL = BuildOptions(knn=5, layout="pca", lexicon_languages=("en", "de"), lexicon_size=50)


def _served(client: TestClient, name: str, building: Sequence[str]) -> dict:  # type: ignore[type-arg]
    """The model's /v1/models entry once it is served with these stages still `building`."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = {m["name"]: m for m in client.get("/v1/models").json()["models"]}
        if name in found and found[name]["stages_building"] == list(building):
            return found[name]
        time.sleep(0.2)
    raise AssertionError(f"{name} was not served with {building} building")


def _csls(client: TestClient) -> object:  # type: ignore[type-arg]
    found = client.get("/v1/models/ckpt/translations", params={"token": "▁water", "method": "csls"})
    assert found.status_code == 200, found.text
    return [(t["id"], t["similarity"]) for t in found.json()["candidates"]]


def _answers(client: TestClient) -> list[object]:  # type: ignore[type-arg]
    """Neighbor lists, and a diversity analysis (its lists from exact scans before the table is in)."""
    diversity = client.get("/v1/models/ckpt/diversity", params={"sample": 1.0, "k": 4, "seed": 3})
    found = result_of(client, diversity)
    asked = [{"id": i, "k": 5} for i in (4, 6, 8, 9)] + [
        {"text": "waters", "k": 4},
        {"id": 6, "k": 3, "scripts": "Latin"},
    ]
    out = []
    for params in asked:
        body = client.get("/v1/models/ckpt/neighbors", params=params).json()
        out.append([(n["id"], n["token"], n["similarity"]) for n in body["neighbors"]])
    return [*out, [(found["queries"], f"{found['mean']} {found['histogram']}", 0.0)]]


def test_a_model_is_served_from_its_first_build_and_answers_the_same_once_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first build (rows, vocabulary, labels) is served from exact scans; what needs a later stage
    is 503 naming it; the whole artifact replaces it without a restart and answers the same."""
    checkpoints.xlmr_checkpoint(tmp_path / "ckpt")
    folder, spec = tmp_path / "artifacts", f"hf:{tmp_path / 'ckpt'}"
    key, _ = current_build(spec, folder / "ckpt", FULL)
    build(spec, folder / "ckpt", dataclasses.replace(FULL, first=True))
    with TestClient(create_app(Settings(artifacts=(folder,), building=f"ckpt:{key}"))) as client:
        first = _served(client, "ckpt", artifact.LATER_STAGES)
        assert first["stages_building"] == list(artifact.LATER_STAGES) and first["neighbor_table"] is None
        assert client.get("/ready").json()["stages_building"] == {"ckpt": list(artifact.LATER_STAGES)}
        before = _answers(client)
        for path, params, stage in [
            ("translations", {"token": "▁water", "method": "csls"}, "CSLS means"),
            ("translations", {"text": "water", "pool": "words"}, "lexicon"),
            ("map/xy", {}, "map"),
        ]:
            waiting = client.get(f"/v1/models/ckpt/{path}", params=params)
            assert waiting.status_code == 503 and waiting.headers["retry-after"] == "15", (path, waiting.text)
            assert waiting.json()["stage"] == stage, waiting.json()
        cosine = client.get("/v1/models/ckpt/translations", params={"token": "▁water", "method": "cosine"})
        assert cosine.status_code == 200, cosine.text
        monkeypatch.setattr(pipeline, "RECORD_EVERY", 0.0)  # every update written
        # the full build's CLI records its stages in the first build's folder; /v1/models shows them
        pipeline.recorded(silent, folder / "ckpt" / artifact.BUILD_PROGRESS)("index", 10).update(4, 10)
        shown = _served(client, "ckpt", artifact.LATER_STAGES)["build"]
        assert shown == {"stage": "index", "done": 4, "total": 10, "progress": 0.4, "failed": None}
        early: list[object] = []
        record = pipeline.recorded(silent, folder / "ckpt" / artifact.BUILD_PROGRESS)

        def at_index(name: str, total: int) -> StageBar:
            """Before the index: the early build (table, CSLS means) served; index, lexicon, map to come."""
            bar = record(name, total)
            if name == artifact.INDEX_STAGE:
                shown = _served(client, "ckpt", AFTER_TABLE)
                assert shown["neighbor_table"]["k"] == 5 and shown["build"]["stage"] == "index"
                early.extend([_answers(client), _csls(client)])
                waiting = client.get("/v1/models/ckpt/map/xy")
                assert waiting.status_code == 503 and waiting.json()["stage"] == "map"
            return bar

        build(spec, folder / "ckpt", FULL, at_index)
        whole = _served(client, "ckpt", [])
        assert whole["neighbor_table"]["k"] == 5 and whole["checksum"] != first["checksum"]
        after = _answers(client)  # the exact table now, exact scans before: the same neighbors, in order
        assert [[row[:2] for row in rows] for rows in after] == [[row[:2] for row in rows] for rows in before]
        # their similarities agree within float32 rounding (the table's kernel sums in another order)
        assert np.allclose(
            [row[2] for rows in after for row in rows], [row[2] for rows in before for row in rows], atol=2e-6
        )
        assert before[-1][0][0] > 10  # the diversity of every indexed token
        assert early == [after, _csls(client)] and early[1]  # the early build answered as the whole one
        assert client.get("/v1/models/ckpt/translations", params={"token": "▁water"}).status_code == 200
        assert client.get("/ready").json()["stages_building"] == {}


def test_a_build_stopping_leaves_the_model_served_on_what_it_has_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The full build fails after its table and means: the early build stays served (CSLS answers),
    /v1/models names the error, and what needs a stage that will not come says why it will not."""
    checkpoints.xlmr_checkpoint(tmp_path / "ckpt")
    folder, spec = tmp_path / "artifacts", f"hf:{tmp_path / 'ckpt'}"
    key, _ = current_build(spec, folder / "ckpt", FULL)
    build(spec, folder / "ckpt", dataclasses.replace(FULL, first=True))

    def full_disk(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pipeline, "_write_lexicon", full_disk)
    with TestClient(create_app(Settings(artifacts=(folder,), building=f"ckpt:{key}"))) as client:
        _served(client, "ckpt", artifact.LATER_STAGES)
        with pytest.raises(OSError, match="No space left"):
            main(["build", spec, "--out", str(folder / "ckpt"), "--quiet", "--knn", "5", "--layout", "pca"])
        why = "OSError: [Errno 28] No space left on device"
        shown = _served(client, "ckpt", AFTER_TABLE)
        assert shown["build"]["failed"] == why and shown["neighbor_table"]["k"] == 5
        assert _csls(client)  # what it has is served
        waiting = client.get("/v1/models/ckpt/translations", params={"text": "water", "pool": "words"})
        assert waiting.status_code == 503 and waiting.json()["stage"] == "lexicon"
        assert waiting.json()["failed"] == why and "stopped before its lexicon" in waiting.json()["detail"]
