"""source -> artifact through the CLI: complete artifacts, no-op rebuilds, one-line errors."""

import json
from pathlib import Path

import numpy as np
import pytest

from loaders import artifact
from loaders.__main__ import main
from loaders.artifact import ArtifactError
from tests import checkpoints

pytestmark = pytest.mark.build  # each test builds an artifact end to end

FAST = ["--quiet", "--connectivity", "8", "--expansion-add", "32", "--knn", "5"]


def build(source: str, out: Path, *extra: str) -> int:
    return main(["build", source, "--out", str(out), *FAST, *extra])


def built_vec(tmp_path: Path) -> Path:
    """A small .vec checkpoint built through the CLI into tmp_path/art."""
    checkpoints.vec_file(tmp_path / "v.vec")
    out = tmp_path / "art"
    assert build(f"vec:{tmp_path / 'v.vec'}", out) == 0
    return out


def test_vec_artifact_is_complete_and_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = built_vec(tmp_path)
    manifest = artifact.read_manifest(out)
    assert manifest.vocab_size == 6 and manifest.dim == 5 and manifest.dtype == "float16"
    assert manifest.index.count == 6 and manifest.knn_k == 5
    assert set(manifest.files) == {
        "matrix.npy",
        "norms.npy",
        "csls_r.npy",
        "vocab.json",
        "kinds.npy",
        "labels_paper.npy",
        "labels_unicode.npy",
        "labels_language.npy",
        "language_guess.npy",
        "language_scores.npy",
        "index.usearch",
        "knn_ids.npy",
        "knn_sims.npy",
        "strings.bin",
        "string_offsets.npy",
        "string_order.npy",
        "layout.npy",
    }
    assert manifest.layout is not None and manifest.layout.method == "pca"  # 6 tokens: too few for UMAP
    assert manifest.labels["unicode"].unicode_version == "18.0.0"
    assert main(["verify", str(out)]) == 0
    assert main(["inspect", str(out)]) == 0
    assert "Cyrillic 1" in capsys.readouterr().out


def test_rebuild_with_same_source_and_parameters_is_a_no_op(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = built_vec(tmp_path)
    before = (out / artifact.MANIFEST).stat().st_mtime_ns
    assert build(f"vec:{tmp_path / 'v.vec'}", out) == 0
    assert "no-op" in capsys.readouterr().out
    assert (out / artifact.MANIFEST).stat().st_mtime_ns == before
    assert build(f"vec:{tmp_path / 'v.vec'}", out, "--dtype", "f32") == 0  # other parameters: rebuilt
    assert artifact.read_manifest(out).dtype == "float32"


def test_output_from_another_source_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checkpoints.vec_file(tmp_path / "v.vec")
    checkpoints.gguf_file(tmp_path / "m.gguf")
    out = tmp_path / "art"
    assert build(f"vec:{tmp_path / 'v.vec'}", out) == 0
    assert build(f"gguf:{tmp_path / 'm.gguf'}", out) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "another source" in err and err.count("\n") == 1


def test_hf_padding_rows_are_recorded_not_stored(tmp_path: Path) -> None:
    tokens, matrix = checkpoints.mt5_checkpoint(tmp_path / "mt5", padding_rows=4)
    out = tmp_path / "art"
    assert build(f"hf:{tmp_path / 'mt5'}", out) == 0
    manifest = artifact.read_manifest(out)
    assert manifest.vocab_size == len(tokens) and manifest.source_rows == len(tokens) + 4
    stored = np.load(out / artifact.MATRIX)
    np.testing.assert_array_equal(stored, matrix[: len(tokens)])
    kinds = np.load(out / artifact.KINDS)
    assert [artifact.TOKEN_KINDS[k] for k in kinds[:3]] == ["special"] * 3
    assert manifest.index.count == len(tokens) - 3  # specials are not indexed


def test_gpt2_display_forms_are_decoded(tmp_path: Path) -> None:
    tokens, _ = checkpoints.gpt2_checkpoint(tmp_path / "gpt2")
    out = tmp_path / "art"
    assert build(f"hf:{tmp_path / 'gpt2'}", out) == 0
    vocab = artifact.read_vocab(out, artifact.read_manifest(out))
    shown = dict(zip(vocab.raw, vocab.display, strict=True))
    assert shown["ĠÐ²Ð¾Ð´Ð°"] == "▁вода" and shown["Ġæ°´"] == "▁水"
    names = artifact.read_manifest(out).labels["paper"].names
    codes = np.load(out / "labels_paper.npy")
    assert names[codes[tokens.index("ĠÐ²Ð¾Ð´Ð°")]] == "CYRILLIC"


def test_vocab_larger_than_matrix_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "x"
    checkpoints.xlmr_checkpoint(directory, matrix=np.ones((5, 4), np.float32))
    assert build(f"hf:{directory}", tmp_path / "art") == 2
    assert "vocabulary has 17 tokens but the table only 5 rows" in capsys.readouterr().err
    assert not (tmp_path / "art").exists()  # nothing half-written


@pytest.mark.parametrize("spec", ["nonsense", "vec:/does/not/exist.vec", "packaged:nope"])
def test_bad_sources_exit_2_with_one_line(
    spec: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert build(spec, tmp_path / "art") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_corrupted_and_truncated_files_fail_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = built_vec(tmp_path)
    index = out / artifact.INDEX
    data = bytearray(index.read_bytes())
    data[-1] ^= 0xFF
    index.write_bytes(bytes(data))
    assert main(["verify", str(out)]) == 2
    assert "index.usearch fails its sha256 check" in capsys.readouterr().err
    matrix = out / artifact.MATRIX
    matrix.write_bytes(matrix.read_bytes()[:-10])
    assert main(["verify", str(out)]) == 2
    assert "matrix.npy has" in capsys.readouterr().err


def test_newer_format_version_is_refused(tmp_path: Path) -> None:
    out = built_vec(tmp_path)
    manifest = json.loads((out / artifact.MANIFEST).read_text())
    manifest["format_version"] = artifact.FORMAT_VERSION + 1
    (out / artifact.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="format version 2, this program reads version 1"):
        artifact.read_manifest(out)


def test_cached_build_links_into_the_cache(tmp_path: Path) -> None:
    checkpoints.vec_file(tmp_path / "v.vec")
    out = tmp_path / "artifacts" / "v"
    assert build(f"vec:{tmp_path / 'v.vec'}", out, "--cache", str(tmp_path / "cache")) == 0
    assert out.is_symlink() and out.resolve().parent == (tmp_path / "cache").resolve()
    assert build(f"vec:{tmp_path / 'v.vec'}", out, "--cache", str(tmp_path / "cache")) == 0
    assert len(list((tmp_path / "cache").iterdir())) == 1


def test_relabelling_reuses_the_index_and_table_of_an_earlier_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import loaders.build.pipeline as builder

    checkpoints.vec_file(tmp_path / "v.vec")
    spec, cache = f"vec:{tmp_path / 'v.vec'}", tmp_path / "cache"
    first, built = builder.build_cached(spec, tmp_path / "a", cache, builder.BuildOptions())
    assert built
    monkeypatch.setattr(builder, "LOADER_VERSION", "next")  # new labels: a new build key
    second, built = builder.build_cached(spec, tmp_path / "b", cache, builder.BuildOptions())
    assert built and second.build_key != first.build_key
    for name in builder.GEOMETRY_FILES:  # hard links into the earlier artifact, not recomputed
        assert (tmp_path / "a" / name).samefile(tmp_path / "b" / name)
    assert second.index == first.index and second.knn_k == first.knn_k
    assert main(["verify", str(tmp_path / "b")]) == 0
    # other index parameters: nothing to reuse
    third, _ = builder.build_cached(
        spec, tmp_path / "c", cache, builder.BuildOptions(index=artifact.IndexParams(connectivity=8))
    )
    assert not (tmp_path / "a" / artifact.INDEX).samefile(tmp_path / "c" / artifact.INDEX)


def test_a_build_that_drops_older_ones_leaves_only_itself_in_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import loaders.build.pipeline as builder

    checkpoints.vec_file(tmp_path / "v.vec")
    spec, cache = f"vec:{tmp_path / 'v.vec'}", tmp_path / "cache"
    builder.build_cached(spec, tmp_path / "a", cache, builder.BuildOptions())
    first = (tmp_path / "a").resolve()
    (cache / "v.vec-notakey").mkdir()  # not a build of this source: left alone
    monkeypatch.setattr(builder, "LOADER_VERSION", "next")
    assert build(spec, tmp_path / "b", "--cache", str(cache), "--drop-older") == 0
    kept = sorted(p.name for p in cache.iterdir())
    assert kept == sorted(["v.vec-notakey", (tmp_path / "b").resolve().name])
    assert not first.exists() and main(["verify", str(tmp_path / "b")]) == 0  # its reused files kept


def test_the_map_is_seeded_reused_by_a_relabelling_build_and_optional(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import loaders.build.pipeline as builder

    checkpoints.llm_checkpoint(tmp_path / "hf", rows=600, dim=32)
    spec, cache = f"hf:{tmp_path / 'hf'}", tmp_path / "cache"
    options = builder.BuildOptions(knn=20, lexicon_size=0)
    first, _ = builder.build_cached(spec, tmp_path / "a", cache, options)
    assert first.layout is not None
    assert (first.layout.method, first.layout.seed, first.layout.n_neighbors) == ("umap", 0, 15)
    assert first.layout.placed == first.index.count == 596  # every token but the 4 specials
    positions = np.load(tmp_path / "a" / artifact.LAYOUT)
    assert positions.dtype == np.float16 and positions.shape == (600, 2)
    assert np.isnan(positions[:4]).all() and np.abs(positions[4:]).max() == 1.0
    monkeypatch.setattr(builder, "LOADER_VERSION", "next")  # new labels, same rows and table: linked
    builder.build_cached(spec, tmp_path / "b", cache, options)
    assert (tmp_path / "a" / artifact.LAYOUT).samefile(tmp_path / "b" / artifact.LAYOUT)
    reseeded, _ = builder.build_cached(
        spec, tmp_path / "c", cache, builder.BuildOptions(knn=20, lexicon_size=0, layout_seed=1)
    )
    again = np.load(tmp_path / "c" / artifact.LAYOUT)
    assert reseeded.layout is not None and reseeded.layout.seed == 1
    assert again.tobytes() != positions.tobytes()
    assert main(["inspect", str(tmp_path / "c")]) == 0
    assert "map: umap (seed 1, 15 neighbors, epochs default), 596 tokens placed" in capsys.readouterr().out
    import loaders.build.vocabulary_map

    # as for the packaged models: a child process
    monkeypatch.setattr(loaders.build.vocabulary_map, "CHILD_FROM", 1)
    in_child, _ = builder.build(spec, tmp_path / "e", options)  # no donors: computed again
    assert in_child.layout is not None and in_child.layout.method == "umap"
    assert np.load(tmp_path / "e" / artifact.LAYOUT).tobytes() == positions.tobytes()
    assert build(spec, tmp_path / "d", "--layout", "none") == 0
    assert artifact.read_manifest(tmp_path / "d").layout is None
    assert not (tmp_path / "d" / artifact.LAYOUT).exists()


def test_norms_and_the_table_are_of_the_stored_rows(tmp_path: Path) -> None:
    """A float16 artifact's norms are the stored rows' norms, so the table's cosines are the ones
    brute force gets from the stored matrix (before: norms of the source rows, relative error up to
    3.4e-4, a cosine of 0.89081 read 0.89096 by brute force and 0.890808 from the table)."""
    checkpoints.xlmr_checkpoint(tmp_path / "xlmr")  # float32 rows, stored as float16
    out = tmp_path / "art"
    assert build(f"hf:{tmp_path / 'xlmr'}", out) == 0
    stored = np.load(out / artifact.MATRIX).astype(np.float32)
    norms = np.load(out / artifact.NORMS)
    indexed = norms > 0
    np.testing.assert_array_equal(norms[indexed], np.linalg.norm(stored[indexed], axis=1))
    unit = stored[indexed] / norms[indexed, None]
    ids, sims = np.load(out / artifact.KNN_IDS)[indexed], np.load(out / artifact.KNN_SIMS)[indexed]
    where = np.flatnonzero(indexed)
    brute = unit @ unit.T
    for row, (neighbors, values) in enumerate(zip(ids, sims, strict=True)):
        expected = brute[row, np.searchsorted(where, neighbors)]
        np.testing.assert_allclose(values, expected, rtol=0, atol=2e-7)


def test_knn_0_stores_the_csls_means_and_a_negative_knn_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a table the build computes the CSLS means once (all pairs) and stores them: the service
    never computes them at start (before: 311 s before the port opened for 128,000 rows)."""
    from geometry.translation import neighborhood_means
    from service import registry

    checkpoints.vec_file(tmp_path / "v.vec")
    out = tmp_path / "art"
    assert main(["build", f"vec:{tmp_path / 'v.vec'}", "--out", str(out), "--quiet", "--knn", "0"]) == 0
    manifest = artifact.read_manifest(out)
    assert manifest.knn_k == 0 and artifact.CSLS_R in manifest.files
    monkeypatch.setattr(registry, "neighborhood_means", lambda space: pytest.fail("computed at load"))
    model = registry.load_model(out, verify_checksums=True)
    np.testing.assert_array_equal(model.csls_r, neighborhood_means(model.space))
    with pytest.raises(SystemExit) as refused:
        main(["build", f"vec:{tmp_path / 'v.vec'}", "--out", str(tmp_path / "b"), "--knn", "-1"])
    assert refused.value.code == 2 and "must be >= 0" in capsys.readouterr().err


def test_a_first_build_holds_rows_vocabulary_and_labels_and_the_full_build_completes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoints.vec_file(tmp_path / "v.vec")
    out, cache = tmp_path / "artifacts" / "v", str(tmp_path / "cache")
    assert build(f"vec:{tmp_path / 'v.vec'}", out, "--cache", cache, "--first") == 0
    first = artifact.read_manifest(out)
    assert first.stages_left == list(artifact.LATER_STAGES) and first.knn_k == 0 and first.index.count == 0
    assert first.lexicon is None and first.layout is None and first.table is None
    assert not {"index.usearch", "knn_ids.npy", "csls_r.npy", "layout.npy"} & set(first.files)
    assert {"matrix.npy", "norms.npy", "vocab.json", "labels_unicode.npy"} <= set(first.files)
    assert main(["verify", str(out)]) == 0
    assert "a first build, without neighbor table" in capsys.readouterr().out
    assert build(f"vec:{tmp_path / 'v.vec'}", out, "--cache", cache) == 0  # the full build replaces it
    whole = artifact.read_manifest(out)
    assert whole.stages_left == [] and whole.knn_k == 5 and "index.usearch" in whole.files
    assert len(list((tmp_path / "cache").iterdir())) == 2  # both builds stay in the cache
    assert not any(p.name == artifact.BUILD_PROGRESS for p in (tmp_path / "cache").rglob("*"))


def test_a_build_puts_its_table_and_means_in_place_before_its_index_lexicon_and_map(tmp_path: Path) -> None:
    """The build's early artifact (rows, labels, the exact table and the CSLS means) replaces what `out`
    served before the index, lexicon and map are built; the whole artifact then replaces it, with the
    same table and means (hard links of the same files)."""
    from loaders import build as builder
    from service.errors import StillBuilding
    from service.registry import load_model

    checkpoints.vec_file(tmp_path / "v.vec")
    out, early = tmp_path / "v", []

    def progress(name: str, total: int) -> builder.StageBar:
        if name == "index":  # the early artifact is in place when the index starts
            model = load_model(out, verify_checksums=True)
            table = np.array(model.space.knn_ids)
            early.append((model.manifest, model.space.index, model.csls_r.copy(), table))
            with pytest.raises(StillBuilding, match="lexicon") as waiting:
                model.pool()
            assert waiting.value.extra["stage"] == artifact.LEXICON_STAGE
        return builder.silent(name, total)

    options = builder.BuildOptions(knn=5, layout="none", lexicon_size=0)
    whole, built = builder.build(f"vec:{tmp_path / 'v.vec'}", out, options, progress)
    [(manifest, index, means, ids)] = early
    assert built and manifest.stages_left == list(builder.AFTER_TABLE) == ["index", "lexicon", "map"]
    assert manifest.build_key == builder.early_key(whole.build_key) != whole.build_key
    assert manifest.knn_k == whole.knn_k == 5 and manifest.index.count == 0 and index is None
    final = load_model(out, verify_checksums=True)
    assert final.manifest == whole and final.space.index is not None
    np.testing.assert_array_equal(means, final.csls_r)
    np.testing.assert_array_equal(ids, final.space.knn_ids)


def test_a_build_stopped_after_its_table_resumes_from_its_early_artifact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that stops after its table and means (here: the lexicon fails) leaves its early artifact
    served and in the cache; built again, it links that table instead of computing it."""
    from loaders.build import pipeline

    checkpoints.vec_file(tmp_path / "v.vec")
    spec, out, cache = f"vec:{tmp_path / 'v.vec'}", tmp_path / "artifacts" / "v", tmp_path / "cache"
    options = pipeline.BuildOptions(knn=5, layout="none")
    lexicon = pipeline._write_lexicon

    def full_disk(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pipeline, "_write_lexicon", full_disk)
    with pytest.raises(OSError, match="No space left"):
        pipeline.build_cached(spec, out, cache, options)
    early = artifact.read_manifest(out)
    assert early.stages_left == list(pipeline.AFTER_TABLE) and early.knn_k == 5
    key, whole_now = pipeline.current_build(spec, out, options)
    assert not whole_now and pipeline.serves_early(out, key)  # `make run` builds no first build then
    assert not pipeline.serves_early(out, early.build_key) and not pipeline.serves_early(tmp_path, key)
    monkeypatch.setattr(pipeline, "_write_lexicon", lexicon)
    stages: list[str] = []

    def progress(name: str, total: int) -> pipeline.StageBar:
        stages.append(name)
        return pipeline.silent(name, total)

    whole, built = pipeline.build_cached(spec, out, cache, options, progress)
    assert built and whole.stages_left == [] and whole.index.count == 6
    assert "index" in stages and not [name for name in stages if name.startswith("neighbor table")]
    fresh, _ = pipeline.build(spec, tmp_path / "fresh", options)  # the table it would have computed
    for name in (artifact.KNN_IDS, artifact.KNN_SIMS, artifact.CSLS_R):
        assert whole.files[name] == early.files[name] == fresh.files[name]
    assert [p.name for p in cache.iterdir()] == [out.resolve().name]  # the early artifact is gone
