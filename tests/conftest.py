"""Shared fixtures: the real packaged artifacts (built once, cached outside the clone) and a client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from loaders import artifact
from loaders.build import BuildOptions, build_cached
from loaders.build.encoder_rows import build_encoder_space
from service import settings as settings_module
from service.app import create_app
from service.registry import Registry, load_registry
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("POLYGLOT_TEST_ARTIFACTS", ROOT / "artifacts"))
CACHE = Path(os.environ.get("POLYGLOT_CACHE", Path.home() / ".cache" / "polyglot-geometry"))
E5 = "multilingual-e5-small"
USE = "use-multilingual-v3"
LLAMA = "llama2-vocab-wordllama"


REAL_FIXTURES = {"packaged", "real_settings", "registry", "client", "server", "encoded", "encoder_client"}
ENCODER_WORDS = 40  # words per language in the tests' encoder spaces (e5: 2,238 words, ~11 s to encode)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses the packaged artifacts (directly or through a fixture built on them) is
    `real`: `make test-fast` leaves those out and runs the pure unit tests on tiny matrices."""
    for item in items:
        if REAL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.real)


@pytest.fixture(scope="session", autouse=True)
def job_records(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Job records (SQLite, shared by one machine's workers) of this test session only: never the
    developer's ~/.cache, where finished jobs of an earlier run would answer as cached."""
    directory = tmp_path_factory.mktemp("state")
    saved, settings_module.CACHE_DIR = settings_module.CACHE_DIR, directory
    os.environ["POLYGLOT_JOBS_DB"] = str(directory / "jobs.sqlite")  # for the uvicorn replicas
    yield directory
    settings_module.CACHE_DIR = saved
    os.environ.pop("POLYGLOT_JOBS_DB", None)


def linked(directory: Path, copy: Path) -> Path:
    """`directory`'s artifact without its encoder space: its files linked, not copied."""
    copy.mkdir()
    for entry in directory.iterdir():
        if entry.name not in (artifact.ENCODER_DIR, artifact.ENCODER_PROGRESS):
            (copy / entry.name).symlink_to(entry.resolve())
    return copy


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The packaged artifacts (`make artifacts` builds them first; a no-op here then), seen without
    the encoder spaces a developer may have built beside them (`make run` does): word lookups answer
    in the input space unless a test builds a space of its own."""
    root = tmp_path_factory.mktemp("packaged")
    out = {}
    for name in (E5, USE, LLAMA):
        build_cached(f"packaged:{name}", ARTIFACTS / name, CACHE, BuildOptions(), drop_older=True)
        out[name] = linked(ARTIFACTS / name, root / name)
    return out


@pytest.fixture(scope="session")
def real_settings(packaged: dict[str, Path]) -> Settings:
    return Settings(artifacts=tuple(packaged.values()))


@pytest.fixture(scope="session")
def registry(real_settings: Settings) -> Registry:
    return load_registry(real_settings)


@pytest.fixture(scope="session")
def client(real_settings: Settings) -> Iterator[TestClient]:  # type: ignore[type-arg]
    """A test client whose lifespan loads the real artifacts."""
    with TestClient(create_app(real_settings)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def encoded(packaged: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The packaged artifacts with small encoder spaces of their own (files linked, not copied): the
    figures the tests pin do not depend on an encoder space a developer built with other sizes."""
    root = tmp_path_factory.mktemp("encoded")
    out = {}
    for name, directory in packaged.items():
        copy = linked(directory, root / name)
        if name != LLAMA:  # a static table: no encoder
            build_encoder_space(copy, ENCODER_WORDS)
        out[name] = copy
    return out


@pytest.fixture(scope="session")
def encoder_client(encoded: dict[str, Path]) -> Iterator[TestClient]:  # type: ignore[type-arg]
    """A test client over the artifacts with encoder spaces (the lifespan loads them)."""
    with TestClient(create_app(Settings(artifacts=tuple(encoded.values())))) as test_client:
        yield test_client
