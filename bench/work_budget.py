"""What the work budget predicts against what the work takes, on e5 (in-process, one run).

The budget (service/budget.py) predicts a request's seconds from unit costs before the work
starts and refuses a request predicted over POLYGLOT_MAX_WORK_SECONDS. This prints, for requests of
each kind at a few sizes (run with no budget), the whole prediction and the measured seconds and
their ratio (above 1: the budget is conservative here, so an accepted request finishes within it).

Usage: python bench/work_budget.py [--parts]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service import budget  # noqa: E402
from service import request_types as r  # noqa: E402
from service.analyses import compare  # noqa: E402
from service.queries import answer, evaluate_dictionary  # noqa: E402
from service.registry import LoadedModel, load_model  # noqa: E402
from service.settings import Limits  # noqa: E402

E5, USE = "multilingual-e5-small", "use-multilingual-v3"
UNBOUNDED = Limits(max_work_seconds=1e9, max_answer_rows=10**9, max_job_seconds=1e9)


PARTS = "--parts" in sys.argv  # also print each prediction's parts (where a ratio is off)


def row(name: str, run: Callable[[Limits], object]) -> None:
    seen: list[budget.Work] = []
    budget.OBSERVERS.append(seen.append)
    started = time.perf_counter()
    run(UNBOUNDED)
    took = time.perf_counter() - started
    budget.OBSERVERS.clear()
    whole = max(seen, key=lambda work: work.seconds, default=budget.Work())  # the last check's
    guess = whole.seconds
    print(f"| {name} | {guess:.2f} s | {took:.2f} s | {guess / max(took, 1e-9):.2f} |", flush=True)
    if PARTS:
        print("  ", {part: round(seconds, 3) for part, seconds in whole.by_part().items()}, flush=True)


def main() -> None:
    e5 = load_model(ROOT / "artifacts" / E5, verify_checksums=False)
    use = load_model(ROOT / "artifacts" / USE, verify_checksums=False)
    rng = np.random.default_rng(0)
    raw = np.array(e5.raw[:250_000:5], dtype=object)
    words = [w[1:] for w in raw if w.startswith("\u2581") and len(w) > 3]
    ids = rng.choice(e5.space.indexed, 1024, replace=False)
    print("| request (e5 unless named) | predicted | measured | predicted / measured |")
    print("| --- | --- | --- | --- |")
    for n in (1, 2, 64, 1024):
        vectors = [r.Query(vector=rng.standard_normal(384).tolist()) for _ in range(n)]
        request = r.NeighborsRequest(queries=vectors, k=24)
        row(f"{n} exact vectors, k=24", partial(answer, e5, request))
    for n in (16, 128):
        texts = [r.Query(text=" ".join(rng.choice(words, 150))[:1000]) for _ in range(n)]
        request = r.NeighborsRequest(queries=texts, k=10)
        row(f"{n} texts of 1,000 characters", partial(answer, e5, request))
    for n in (16, 128):
        queries = [r.Query(id=int(i)) for i in ids[:n]]
        translate = r.TranslationsRequest(queries=queries, k=10)
        row(f"{n} CSLS translations", partial(answer, e5, translate))
    request = r.NeighborsRequest(id=int(ids[0]), k=100, group_by="script", group_size=100)
    row("group_by=script, k=100, group_size=100", partial(answer, e5, request))
    for n in (1000, 5000):
        pairs = "\n".join(f"{a} {b}" for a, b in zip(rng.choice(words, n), rng.choice(words, n), strict=True))
        evaluate = r.EvaluateRequest(dictionary=pairs, target_scripts=["Latin"])
        row(f"evaluate {n:,} pairs, Latin", partial(evaluate_dictionary, e5, evaluate))
    for sample in (0.002, 0.01):
        pair = r.CompareRequest(models=[E5, USE], k=100, sample=sample)
        row(f"compare e5 / USE, sample {sample}, k=100", partial(_compare, e5, use, pair))
    encoder_rows(e5, use, words, rng)


def encoder_rows(e5: LoadedModel, use: LoadedModel, words: list[str], rng: np.random.Generator) -> None:
    """Encoder-space requests, each twice: the first predicted at the rate measured when the encoder
    loaded, the second at the rate this process measured on the first (service/encoder_spaces.py,
    EncoderCost); then e5's lexicon in the input space."""
    e5.encoded().encoder(), use.encoded().encoder()  # they load (and calibrate) now: not encoding
    cases = [
        ("USE encoder: 512 words -> de", use, lambda: _words(rng, words, 512), {"target_languages": ["de"]}),
        ("e5 encoder: 256 words -> de", e5, lambda: _words(rng, words, 256), {"target_languages": ["de"]}),
        ("e5 encoder: 64 texts of 1,000 characters", e5, lambda: _texts(rng, words, 64), {}),
    ]
    for name, model, queries, options in cases:
        for when in ("first", "calibrated"):
            kind = r.TranslationsRequest if options else r.NeighborsRequest
            request = kind(queries=queries(), space="encoder", k=5, **options)  # type: ignore[arg-type]
            if options:
                request = r.TranslationsRequest(
                    queries=request.queries, space="encoder", k=5, pool="words", **options
                )
            row(f"{name} ({when})", partial(answer, model, request))
    lexicon = r.TranslationsRequest(
        queries=_words(rng, words, 256), k=5, pool="words", space="input", target_languages=["de"]
    )
    row("e5 lexicon (input space): 256 words -> de", partial(answer, e5, lexicon))


def _words(rng: np.random.Generator, words: list[str], n: int) -> list[r.Query]:
    return [r.Query(text=str(w)) for w in rng.choice(words, n, replace=False)]


def _texts(rng: np.random.Generator, words: list[str], n: int) -> list[r.Query]:
    return [r.Query(text=" ".join(rng.choice(words, 150))[:1000]) for _ in range(n)]


def _compare(a: LoadedModel, b: LoadedModel, request: r.CompareRequest, limits: Limits) -> object:
    compute, work = compare.compare_job(a, b, request)
    budget.check_work(work, limits.max_job_seconds, "max_job_seconds", "sample", "")
    return compute(lambda share: None)


if __name__ == "__main__":
    main()
