"""Real LLM sizes (issue 17), one run: write a rows x dim BF16 checkpoint (HF Llama layout, two shards,
cluster structure, a unigram tokenizer over real words of 30 languages: tests/checkpoints.py), then
build, verify, serve and analyse it. Prints per build stage wall time, peak RSS and bytes on disk;
start-up time; memory of 1 and 2 workers; latency of token, filtered, vector and batch queries;
separability and diversity times; and an i8 index against the f16 one (recall@10, latency, size).

Usage: python bench/llm_scale.py [--rows 256000] [--dim 4096] [--work DIR] [--table auto]
       python bench/llm_scale.py --work DIR --table-again [--table exact]   (the table stage alone)
       python bench/llm_scale.py --work DIR --recall   (that table's recall against two references)
tests/e2e/test_llm_scale.py runs this same script on a small shape.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from load import Service  # noqa: E402

from loaders import artifact  # noqa: E402
from loaders.build import BuildOptions, StageBar, build  # noqa: E402
from loaders.build.neighbor_table import METHODS, UnitRows, brute_force, recall_at_k  # noqa: E402
from loaders.build.rows import MappedRows  # noqa: E402

STAGE_FILES = {  # which stage writes which files (bytes on disk per stage)
    "rows": (artifact.MATRIX, artifact.NORMS),
    "label": (artifact.VOCAB, artifact.KINDS, artifact.LANGUAGE_GUESS, artifact.LANGUAGE_SCORES),
    "reachability": (artifact.REACHABLE,),
    "index": (artifact.INDEX,),
    "neighbor table": (artifact.KNN_IDS, artifact.KNN_SIMS),
    "lexicon": (artifact.LEXICON, artifact.LEXICON_R, artifact.LEXICON_WORDS),
}


def status_kb(field: str, pid: str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def rollup_kb(pid: str) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        out[name] = int(value.split()[0])
    return out


class Recorder:
    """A build Stage factory recording each stage's wall time and peak RSS (VmHWM reset per stage)."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, int]] = []

    def __call__(self, name: str, total: int) -> StageBar:
        recorder = self
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak to the current RSS
        began = time.perf_counter()

        class Bar(StageBar):
            def close(self) -> None:
                recorder.rows.append((name, time.perf_counter() - began, status_kb("VmHWM") * 1024))

        return Bar()


def get(port: int, path: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=600) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def post(port: int, path: str, body: Any) -> tuple[int, Any]:
    data = json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data, {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def analysis(port: int, path: str) -> tuple[float, Any]:
    began = time.perf_counter()
    status, body = get(port, path)
    if status == 202:
        while (job := get(port, body["url"])[1])["status"] == "running":
            time.sleep(0.5)
        assert job["status"] == "done", job
        body = job["result"]
    elif status != 200:
        raise SystemExit(f"{path}: {status} {body}")
    return time.perf_counter() - began, body


def latency(call: Any, n: int) -> str:
    times = []
    for i in range(n):
        began = time.perf_counter()
        status, body = call(i)
        times.append(time.perf_counter() - began)
        assert status == 200, body
    ms = np.array(times) * 1000
    return f"p50 {np.median(ms):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms"


def queries(port: int, model: str, args: argparse.Namespace) -> None:
    """Latency of the four kinds of neighbor query, then the two analyses' times."""
    rng = np.random.default_rng(0)
    ids = rng.integers(4, args.rows, size=args.requests)
    base = f"/v1/models/{model}/neighbors"
    vector = [float(x) for x in rng.standard_normal(args.dim)]
    batch = [{"id": int(i)} for i in ids[:16]]
    rows = (
        ("token (id, k=10, table)", lambda i: get(port, f"{base}?id={ids[i]}&k=10"), args.requests),
        (
            "filtered (scripts=Cyrillic)",
            lambda i: get(port, f"{base}?id={ids[i]}&k=10&scripts=Cyrillic"),
            args.requests,
        ),
        ("vector (k=10)", lambda i: post(port, base, {"vector": vector, "k": 10}), args.requests // 4),
        (
            "batch of 16 ids (k=10)",
            lambda i: post(port, base, {"queries": batch, "k": 10}),
            args.requests // 4,
        ),
    )
    print("| query | latency |")
    print("| --- | --- |")
    for name, call, n in rows:
        print(f"| {name} | {latency(call, n)} |")
    for name, path in (
        ("separability (paper protocol)", f"/v1/models/{model}/separability"),
        ("diversity (paper protocol, 1% sample)", f"/v1/models/{model}/diversity?seed=0"),
    ):
        seconds, body = analysis(port, path)
        print(f"{name}: {seconds:.1f} s, mean {body['mean']:.4f}")


def index_dtypes(art: Path, sample: int, seed: int = 0) -> None:
    """recall@10, single-query latency and size of the artifact's f16 index and an i8 one built from
    the same stored rows, against exact brute force over the stored rows."""
    from usearch.index import Index

    manifest = artifact.read_manifest(art)
    norms = np.load(art / artifact.NORMS)
    keys = np.flatnonzero(norms > 0).astype(np.uint64)
    rows = UnitRows(MappedRows.npy(art / artifact.MATRIX), norms)
    rng = np.random.default_rng(seed)
    queries = keys[np.sort(rng.choice(len(keys), size=min(sample, len(keys)), replace=False))].astype(
        np.int64
    )
    truth = brute_force(rows, queries, keys, 11)  # the query and its 10 nearest others
    f16 = Index.restore(str(art / artifact.INDEX), view=True)
    began = time.perf_counter()
    ix = manifest.index
    i8 = Index(
        ndim=manifest.dim,
        metric="cos",
        dtype="i8",
        connectivity=ix.connectivity,
        expansion_add=ix.expansion_add,
        expansion_search=ix.expansion_search,
    )
    for lo in range(0, len(keys), 8192):
        block = keys[lo : lo + 8192].astype(np.int64)
        i8.add(block, rows.unit(block), threads=0)
    i8_build = time.perf_counter() - began
    i8_path = art.parent / "i8.usearch"
    i8.save(str(i8_path))
    print("| index | recall@10 | search p50 (1 query, k=10) | size | build |")
    print("| --- | --- | --- | --- | --- |")
    for name, index, size, built in (
        ("f16", f16, (art / artifact.INDEX).stat().st_size, "(in the build above)"),
        ("i8", i8, i8_path.stat().st_size, f"{i8_build:.0f} s"),
    ):
        vectors = rows.unit(queries)
        found = np.asarray(index.search(vectors, 11, threads=0).keys).reshape(len(queries), -1)
        times = []
        for v in vectors[:200]:
            began = time.perf_counter()
            index.search(v, 11)
            times.append(time.perf_counter() - began)
        print(
            f"| {name} | {recall_at_k(found[:, 1:], truth[:, 1:]):.4f} | {np.median(times) * 1000:.2f} ms "
            f"| {size / 1e6:,.0f} MB | {built} |"
        )
    i8_path.unlink()


def table_again(art: Path, options: BuildOptions, sample: int = 200) -> None:
    """The build's table stage alone, by the same function, on the artifact already built; an exact
    table's recall checked against brute force on seeded rows."""
    from loaders.build.neighbor_table import choose
    from loaders.build.pipeline import _table

    norms = np.load(art / artifact.NORMS)
    keys = np.flatnonzero(norms > 0).astype(np.uint64)
    rows = np.load(art / artifact.MATRIX, mmap_mode="r")
    stored = artifact.read_manifest(art).files[artifact.MATRIX].size
    method = choose(options.table, len(keys), int(rows.shape[1]))
    Path("/proc/self/clear_refs").write_text("5")
    began = time.perf_counter()
    writer = artifact.ArtifactWriter(art)
    table = _table(method, writer, rows, norms, keys, options, lambda done, total: None)
    took, peak = time.perf_counter() - began, status_kb("VmHWM") * 1024
    recall, checked = table.recall, table.sample
    if method == "exact":
        picked = np.sort(np.random.default_rng(0).choice(len(keys), size=sample, replace=False))
        stored_rows = UnitRows(MappedRows.npy(art / artifact.MATRIX, scattered=True), norms)
        truth = brute_force(stored_rows, keys[picked].astype(np.int64), keys, table.ids.shape[1])
        recall, checked = recall_at_k(table.ids[picked], truth), sample
    print("| stage | wall | peak RSS | peak RSS / stored f16 matrix | recall@100 |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| neighbor table ({method}, {options.workers} threads), alone | {took:.1f} s | {peak / 1e9:.2f} GB"
        f" | {peak / stored:.2f}x | {recall:.4f} on {checked} rows |"
    )


def recall_check(art: Path, sample: int = 1000, seed: int = 0) -> None:
    """recall@k of the built table on seeded rows against brute force over (a) the stored rows and
    (b) the index's own f16 vectors, and how far apart the k-th and (k+1)-th true neighbors are."""
    from usearch.index import Index

    from loaders.build.neighbor_table import IndexRows

    manifest = artifact.read_manifest(art)
    k = manifest.knn_k
    norms = np.load(art / artifact.NORMS)
    keys = np.flatnonzero(norms > 0).astype(np.uint64)
    table = np.load(art / artifact.KNN_IDS, mmap_mode="r")
    picked = np.sort(np.random.default_rng(seed).choice(len(keys), size=sample, replace=False))
    queries = keys[picked].astype(np.int64)
    stored = UnitRows(MappedRows.npy(art / artifact.MATRIX, scattered=True), norms)
    index = Index.restore(str(art / artifact.INDEX), view=True)
    print("| reference for recall@k | recall | median gap between true k-th and (k+1)-th cosine |")
    print("| --- | --- | --- |")
    for name, rows in (
        ("stored rows (f16), float32 cosine", stored),
        ("the index's f16 vectors", IndexRows(index)),
    ):
        truth = brute_force(rows, queries, keys, k + 1)
        q = rows.unit(queries)
        kth = np.einsum("qd,qd->q", q, rows.unit(truth[:, k - 1]))
        next_ = np.einsum("qd,qd->q", q, rows.unit(truth[:, k]))
        recall = recall_at_k(np.asarray(table[queries]), truth[:, :k])
        print(f"| {name} | {recall:.4f} | {np.median(kth - next_):.2e} |")


def serve(art: Path, args: argparse.Namespace, with_queries: bool) -> None:
    """Start-up and memory of 1 and 2 workers on the built artifact (and, with_queries, latencies)."""
    manifest = artifact.read_manifest(art)
    stored = manifest.files[artifact.MATRIX].size
    for workers in (1, 2):
        service = Service(workers, artifacts=art.parent)
        print(f"{workers} worker(s): ready {service.ready_seconds:.2f} s after process start")
        for pid in service.worker_pids():
            mem = rollup_kb(pid)
            private = (mem["Private_Clean"] + mem["Private_Dirty"]) * 1024
            print(
                f"  process {pid}: RSS {mem['Rss'] / 1e6:.2f} GB, private {private / 1e6:,.0f} MB"
                f" ({private / stored:.1%} of the stored matrix), anonymous {mem['Anonymous'] / 1e3:,.0f} MB,"
                f" shared file pages {mem['Shared_Clean'] / 1e6:.2f} GB"
            )
        if with_queries and workers == 1:
            queries(service.port, manifest.name, args)
        service.stop()


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    cli.add_argument("--rows", type=int, default=256_000)
    cli.add_argument("--dim", type=int, default=4096)
    cli.add_argument("--work", type=Path, help="folder for the checkpoint and artifact (default: a temp dir)")
    cli.add_argument("--table", default="auto", choices=METHODS)
    cli.add_argument("--workers", type=int, default=2, help="threads sharing an exact table")
    cli.add_argument("--requests", type=int, default=200, help="requests per latency row")
    cli.add_argument("--sample", type=int, default=500, help="queries for the i8/f16 recall")
    cli.add_argument(
        "--table-again", action="store_true", help="only re-run the table stage on the built artifact"
    )
    cli.add_argument("--recall", action="store_true", help="only check the built table's recall two ways")
    cli.add_argument("--serve", action="store_true", help="only start-up and memory of 1 and 2 workers")
    cli.add_argument("--skip-i8", action="store_true", help="leave out the i8 index comparison (~12 min)")
    args = cli.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="llm-scale-"))
    checkpoint, art = work / "checkpoint", work / "artifacts" / "llm"
    if args.recall:
        recall_check(art)
        return
    if args.serve:
        serve(art, args, with_queries=False)
        return
    if args.table_again:
        table_again(art, BuildOptions(table=args.table, workers=args.workers))
        return
    shutil.rmtree(work / "artifacts", ignore_errors=True)
    print(f"shape {args.rows:,} x {args.dim:,}, work dir {work}")

    began = time.perf_counter()
    if not (checkpoint / "model.safetensors.index.json").is_file():  # in a child: its word lists stay there
        code = "from tests.checkpoints import llm_checkpoint as w; "
        code += f"w({str(checkpoint)!r}, {args.rows}, {args.dim})"
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    size = sum(f.stat().st_size for f in checkpoint.iterdir())
    print(f"checkpoint: {time.perf_counter() - began:.0f} s, {size / 1e9:.2f} GB (BF16, 2 shards)\n")

    recorder = Recorder()
    child_before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    began = time.perf_counter()
    options = BuildOptions(table=args.table, workers=args.workers)
    manifest, _ = build(f"hf:{checkpoint}", art, options, recorder)
    total = time.perf_counter() - began
    stored = manifest.files[artifact.MATRIX].size
    print("| build stage | wall | peak RSS | peak RSS / stored f16 matrix | written |")
    print("| --- | --- | --- | --- | --- |")
    for name, seconds, peak in recorder.rows:
        files = next((f for stage, f in STAGE_FILES.items() if name.startswith(stage)), ())
        written = sum(manifest.files[f].size for f in files if f in manifest.files)
        print(
            f"| {name} | {seconds:.1f} s | {peak / 1e9:.2f} GB | {peak / stored:.2f}x"
            f" | {written / 1e6:,.0f} MB |"
        )
    on_disk = sum(f.size for f in manifest.files.values())
    print(f"| **total** | {total:.0f} s | | | {on_disk / 1e9:.2f} GB |")
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    if child > child_before:  # the map layout's process (beside the index build)
        print(f"map layout child process: peak RSS {child / 1e9:.2f} GB ({child / stored:.2f}x)")
    table = manifest.table
    if table is not None:
        print(
            f"\nneighbor table: {table.method} ({table.backend}), {table.seconds:.0f} s, "
            f"{table.candidates} candidates,"
            f" recall@{manifest.knn_k} {table.recall:.4f} on {table.sample} rows"
        )

    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "loaders", "verify", str(art)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL
    )
    print(f"verify (checksums, shapes, index): {time.perf_counter() - began:.1f} s\n")

    serve(art, args, with_queries=True)

    if not args.skip_i8:
        print(f"\nindex dtype at {args.dim:,} dimensions, {args.sample} seeded queries:")
        index_dtypes(art, args.sample)


if __name__ == "__main__":
    main()
