"""Word lookups as a bilingual-lexicon-induction benchmark counts them, on the development dictionaries
of bench/freedict.py (English -> X, sources among the 20,000 most frequent English words).

Per model, language and space (input: the lexicon's rows composed from pieces; encoder: the model's
encoder, where it has one; the service's default for word lookups): the lexicon's coverage of the
dictionary's targets (pairs whose target it holds), P@1 over *all* source words (a word whose
targets the lexicon misses is a miss, as published BLI counts it) and over the reachable ones, CSLS,
through the service's evaluation (in-process), then the same per part of speech of the English word.
Writes the dictionaries first when they are missing.

    python bench/bli.py [--models e5,use] [--spaces input,encoder] [--pairs 1000] [de fr ...]
    python bench/bli.py --models use --spaces encoder --prior 0,0.01,0.02 es ja  # the prior's weight
    python bench/bli.py --spaces encoder --leak-ratio inf,2,1 es fi ja  # English words in other lists

The encoder space's frequency prior (service/encoder_spaces.py FREQUENCY_PRIOR) and the ratio that
tells an English word in another language's list (ENGLISH_LEAK_RATIO) were chosen with `--prior` and
`--leak-ratio` on es, fi and ja, languages outside the reported mean.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from freedict import dictionary_text  # noqa: E402

from service import encoder_spaces  # noqa: E402
from service import request_types as r  # noqa: E402
from service.encoder_spaces import FREQUENCY_PRIOR  # noqa: E402
from service.errors import DomainError  # noqa: E402
from service.queries import evaluate_dictionary  # noqa: E402
from service.registry import LoadedModel, load_model  # noqa: E402
from service.settings import Limits  # noqa: E402

MODELS = {"e5": "multilingual-e5-small", "use": "use-multilingual-v3", "llama": "llama2-vocab-wordllama"}
LANGUAGES = ["de", "es", "fr", "it", "ru", "tr", "fi", "ja"]
UNBOUNDED = Limits(max_evaluation_seconds=1e9, max_dictionary_pairs=10**6)
CACHE = Path.home() / ".cache" / "polyglot-geometry" / "freedict"


def dictionary(language: str, count: int) -> str:
    path = CACHE / f"en-{language}-{count}-pos.txt"  # with parts of speech
    if not path.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        path.write_text(dictionary_text(language, count), encoding="utf-8")
    return path.read_text(encoding="utf-8")


def measure(model: LoadedModel, language: str, text: str, space: str, parts: list[str]) -> str:
    """One row: the lexicon's coverage of the targets, P@1 (CSLS) over all sources and the reachable;
    one row per part of speech added to `parts`."""
    asked = None if space == "default" else space
    request = r.EvaluateRequest(dictionary=text, pool="words", space=asked)  # type: ignore[arg-type]
    started = time.perf_counter()
    try:
        out = evaluate_dictionary(model, request, UNBOUNDED)
    except DomainError as exc:
        return f"| {model.name} | {language} | {space} | {exc.detail[:60]} | | | | |"
    took = time.perf_counter() - started
    assert out.precision_all is not None
    for name, part in (out.by_part_of_speech or {}).items():
        parts.append(
            f"| {model.name} | {language} | {space} ({out.space}) | {name} | {part.queries}/{part.sources} | "
            f"{part.precision_all['csls']['p@1']:.3f} | {part.precision['csls']['p@1']:.3f} |"
        )
    return (
        f"| {model.name} | {language} | {space} ({out.space}) | {out.covered_pairs / out.pairs:.3f} | "
        f"{out.queries}/{out.sources} | {out.precision_all['csls']['p@1']:.3f} | "
        f"{out.precision['csls']['p@1']:.3f} | {took:.1f} s |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("languages", nargs="*", default=LANGUAGES)
    parser.add_argument("--models", default="e5,use")
    parser.add_argument("--spaces", default="input,encoder", help="input, encoder and/or default")
    parser.add_argument("--pairs", type=int, default=1000, help="English source words per language")
    parser.add_argument("--prior", default="", help="frequency prior weights to try (default: the service's)")
    parser.add_argument("--leak-ratio", default="", help="English-leak ratios to try (inf: none)")
    args = parser.parse_args()
    priors = [float(w) for w in args.prior.split(",")] if args.prior else [None]
    ratios = [float(w) for w in args.leak_ratio.split(",")] if args.leak_ratio else [None]
    print(
        "| model | language | space | targets covered | sources reachable | P@1 all | P@1 reachable | took |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    parts: list[str] = []
    for key, prior, ratio in ((k, p, q) for k in args.models.split(",") for p in priors for q in ratios):
        if prior is not None:
            FREQUENCY_PRIOR.update(dict.fromkeys(FREQUENCY_PRIOR, prior))
            print(f"| frequency prior {prior} | | | | | | | |")
        if ratio is not None:
            encoder_spaces.ENGLISH_LEAK_RATIO = ratio
            print(f"| English-leak ratio {ratio} | | | | | | | |")
        model = load_model(ROOT / "artifacts" / MODELS[key], verify_checksums=False)
        for language in args.languages:
            text = dictionary(language, args.pairs)
            for space in args.spaces.split(","):
                if space == "encoder" and model.encoder_space is None:
                    continue
                print(measure(model, language, text, space, parts), flush=True)
    print("\nBy the English word's part of speech (WordNet's most frequent; see bench/freedict.py):\n")
    print("| model | language | space | part of speech | sources reachable | P@1 all | P@1 reachable |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(parts))


if __name__ == "__main__":
    main()
