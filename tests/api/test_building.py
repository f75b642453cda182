"""`make run` serves each model as soon as its artifact is built: a model still being built answers
503 with Retry-After and is listed as building, until its artifact appears; then it is served."""

from __future__ import annotations

import time
from pathlib import Path

from litestar.testing import TestClient

from loaders.build import BuildOptions, build, current_build
from service.app import create_app
from service.settings import Settings
from tests import checkpoints

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
