"""A real bilingual dictionary from Unicode CLDR (via the `babel` package) and its P@k on the models.

Pairs: month and weekday names, language names and territory names, English -> each TARGET
(default ru), single words only, each line naming its target language. Prints the dictionary size,
coverage and P@1/5/10 for cosine and CSLS through the service's evaluate endpoint (in-process),
overall and per target language. `--reverse` evaluates TARGET -> English instead, where many sources
are words the tokenizer splits: it prints P@k with single-token sources only (what the service could
ask before text queries) and with the split words composed from their pieces as well.
`--pools` compares the candidates: the target language's tokens (`pool=tokens`,
`language_pool=language`) against the artifact's lexicon (`pool=words`), per language: pairs
covered (target reachable), P@1 / P@10 among them, and pairs answered within 10 of all pairs.
`--pools` without languages takes LOOKUP_LANGUAGES (24 languages in 12 scripts). `--everyday` (with
`--pools`) takes everyday nouns instead of names: CLDR's emoji short names (npm package
cldr-annotations-full, fetched once with `npm pack` into ~/.cache/polyglot-geometry), the pairs where
both names are one word (dog Hund, nose нос, bone กระดูก): about 450 per language, held out from the
lexicons (which come from wordfreq and the vocabulary).
`--sizes` prints, per language, the share of the everyday targets a wordfreq list of N words holds
(matched as the lexicon matches: loaders.artifact.match_key), for N from 5,000 to 300,000: the lexicon size
a reachable share needs, whatever the model.
Usage: python bench/cldr_dictionary.py [--reverse | --pools [--everyday] | --sizes] [ru [es fr ...]]
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import tarfile
import unicodedata
from collections.abc import Callable
from pathlib import Path

from litestar.testing import TestClient

from service.app import create_app
from service.settings import Settings

# 24 languages in 12 scripts: Latin, Cyrillic, Greek, Arabic, Hebrew, Devanagari, Bengali, Tamil, Han,
# Japanese, Hangul, Thai (Thai has no wordfreq list: its lexicon is the vocabulary's own pieces)
LOOKUP_LANGUAGES = [
    "de", "es", "fr", "it", "pt", "nl", "pl", "sv", "tr", "vi", "ru", "uk", "bg", "el",
    "ar", "fa", "he", "hi", "bn", "ta", "zh", "ja", "ko", "th",
]  # fmt: skip


def cldr_pairs(target: str) -> list[tuple[str, str]]:
    from babel import Locale

    en, other = Locale("en"), Locale(target)
    pairs: list[tuple[str, str]] = []
    for width in ("wide",):
        for table in ("months", "days"):
            source = getattr(en, table)["format"][width]
            dest = getattr(other, table)["stand-alone"][width]
            pairs += [(source[key], dest[key]) for key in source if key in dest]
    for table in ("languages", "territories"):
        source, dest = getattr(en, table), getattr(other, table)
        pairs += [(source[code], dest[code]) for code in source if code in dest and code.isalpha()]
    return [(a, b) for a, b in pairs if " " not in a and " " not in b and "-" not in a and "-" not in b]


ANNOTATIONS = "cldr-annotations-full@48.2.0"
CACHE = Path.home() / ".cache" / "polyglot-geometry" / ANNOTATIONS.replace("@", "-")


@functools.cache  # English's is read once, not once per target language
def _annotations(language: str) -> dict[str, dict[str, list[str]]]:
    if not CACHE.exists():
        CACHE.mkdir(parents=True)
        subprocess.run(["npm", "pack", ANNOTATIONS, "--silent"], cwd=CACHE, check=True, capture_output=True)
        with tarfile.open(next(CACHE.glob("*.tgz"))) as packed:
            packed.extractall(CACHE, filter="data")
    path = CACHE / "package" / "annotations" / language / "annotations.json"
    found: dict[str, dict[str, list[str]]] = json.loads(path.read_text())["annotations"]["annotations"]
    return found


def _one_word(text: str) -> bool:
    return bool(text) and all(unicodedata.category(c)[0] in "LM" for c in text)


def everyday_pairs(target: str) -> list[tuple[str, str]]:
    """English -> target emoji short names (tts) where both are one word: everyday nouns."""
    english, other = _annotations("en"), _annotations(target)
    pairs = []
    for char, names in english.items():
        if not any(ord(c) >= 0x1F000 for c in char):  # emoji, not punctuation and symbols
            continue
        source, dest = names["tts"][0], other.get(char, {}).get("tts", [""])[0]
        if source.islower() and _one_word(source) and _one_word(dest):
            pairs.append((source, dest))
    return pairs


def main() -> None:
    args = sys.argv[1:]
    if "--reverse" in args:
        reverse([a for a in args if a != "--reverse"] or ["ru"])
        return
    if "--sizes" in args:
        sizes([a for a in args if not a.startswith("--")] or LOOKUP_LANGUAGES)
        return
    if "--pools" in args:
        source = everyday_pairs if "--everyday" in args else cldr_pairs
        pools([a for a in args if not a.startswith("--")] or LOOKUP_LANGUAGES, source)
        return
    targets = args or ["ru"]
    lines = [f"{a} {b} {target}" for target in targets for a, b in cldr_pairs(target)]
    text = "\n".join(lines)
    kinds = "months, weekdays, languages, territories"
    print(f"CLDR en-{','.join(targets)}: {len(lines)} single-word pairs ({kinds})")
    app = create_app(Settings(artifacts=(Path("artifacts"),)))
    with TestClient(app) as client:
        for model in sorted(client.app.state.registry.models):
            body = client.post(f"/v1/models/{model}/translations/evaluate", json={"dictionary": text}).json()
            p = body["precision"]
            covered = f"{body['covered_pairs']}/{body['pairs']}"
            print(
                f"{model}: {body['queries']} queries ({covered} pairs are single tokens), "
                f"target scripts {body['target_scripts']} ({body['candidates']} candidates)"
            )
            for method in ("cosine", "csls"):
                at = p[method]
                print(f"  {method:<6} P@1 {at['p@1']:.3f}  P@5 {at['p@5']:.3f}  P@10 {at['p@10']:.3f}")
            if len(targets) > 1:
                for pool in ("scripts", "language"):
                    per_language(client, model, text, pool)


def per_language(client: TestClient, model: str, text: str, pool: str) -> None:  # type: ignore[type-arg]
    body = client.post(
        f"/v1/models/{model}/translations/evaluate", json={"dictionary": text, "language_pool": pool}
    ).json()
    print(f"  per target language, candidates = {pool}:")
    for lang, part in body["by_language"].items():
        cos, csls = part["precision"]["cosine"], part["precision"]["csls"]
        print(
            f"    {lang}: {part['queries']} queries, {part['candidates']} candidates, reachable "
            f"{part['reachable']:.2f}; cosine P@1 {cos['p@1']:.3f} P@10 {cos['p@10']:.3f}, "
            f"CSLS P@1 {csls['p@1']:.3f} P@10 {csls['p@10']:.3f}"
        )


def reverse(languages: list[str]) -> None:
    """TARGET -> English: P@1/P@10 (CSLS, Latin candidates) from single-token sources only vs with the
    words the tokenizer splits composed from their pieces, per model and language."""
    app = create_app(Settings(artifacts=(Path("artifacts"),)))
    print("reverse CLDR (X -> en), CSLS among Latin-script tokens; 'tokens' = single-token sources only,")
    print("'mean/first/last' = every source, split words pooled so; cells: P@10 (queries answered at 10)")
    print("| model | language | sources: single / composed | tokens | mean | first | last |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    with TestClient(app) as client:
        registry = client.app.state.registry
        for model in sorted(registry.models):
            loaded = registry.get(model)
            for lang in languages:
                pairs = [(b, a) for a, b in cldr_pairs(lang)]
                single = [p for p in pairs if loaded.lookup(p[0], prefer_word=True) is not None]
                cells = []
                for subset, pooling in ((single, "mean"), (pairs, "mean"), (pairs, "first"), (pairs, "last")):
                    text = "\n".join(f"{a} {b}" for a, b in subset)
                    body = client.post(
                        f"/v1/models/{model}/translations/evaluate",
                        json={"dictionary": text, "target_scripts": ["Latin"], "pooling": pooling},
                    ).json()
                    at10 = body["precision"]["csls"]["p@10"]
                    cells.append(f"{at10:.3f} ({round(at10 * body['queries'])})")
                counts = f"{body['single_token_queries']} / {body['composed_queries']}"
                print(f"| {model} | {lang} | {counts} | {' | '.join(cells)} |", flush=True)


SIZES = (5_000, 10_000, 20_000, 50_000, 100_000, 300_000)


def sizes(languages: list[str]) -> None:
    import wordfreq

    from loaders.artifact import match_key

    print("Everyday targets (CLDR emoji names) held by wordfreq's 'best' list cut at N words")
    print("| language | pairs | list words | " + " | ".join(f"{n:,}" for n in SIZES) + " |")
    print("| --- | --- | --- |" + " --- |" * len(SIZES))
    held_total = [0] * len(SIZES)
    total = 0
    for lang in languages:
        targets = [match_key(b) for _, b in everyday_pairs(lang)]
        total += len(targets)
        if lang not in wordfreq.available_languages("best"):
            print(f"| {lang} | {len(targets)} | no list |" + " - |" * len(SIZES))
            continue
        rank: dict[str, int] = {}
        words = wordfreq.top_n_list(lang, max(SIZES), wordlist="best")
        for i, word in enumerate(words):
            rank.setdefault(match_key(word), i)
        held = [sum(rank.get(t, max(SIZES)) < n for t in targets) for n in SIZES]
        held_total = [a + b for a, b in zip(held_total, held, strict=True)]
        cells = " | ".join(f"{h / len(targets):.0%}" for h in held)
        print(f"| {lang} | {len(targets)} | {len(words):,} | {cells} |")
    print(f"| all | {total} | |" + "".join(f" {h / total:.0%} |" for h in held_total))


def pools(languages: list[str], source: Callable[[str], list[tuple[str, str]]]) -> None:
    """en -> X among the target language's tokens vs among the lexicon's words of X (CSLS)."""
    lines = [f"{a} {b} {lang}" for lang in languages for a, b in source(lang)]
    per_language = {lang: sum(1 for line in lines if line.endswith(f" {lang}")) for lang in languages}
    app = create_app(Settings(artifacts=(Path("artifacts"),)))
    kind = "emoji names (everyday nouns)" if source is everyday_pairs else "names"
    print(f"CLDR {kind} en -> {', '.join(languages)}: {len(lines)} pairs; CSLS; cells: covered pairs,")
    print("P@1 / P@10 among them, and pairs answered within 10 of all the language's pairs")
    head = "tokens: covered | P@1 / P@10 | answered | words: covered | P@1 / P@10 | answered"
    print(f"| model | language | pairs | {head} |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    with TestClient(app) as client:
        for model in sorted(client.app.state.registry.models):
            cells: dict[str, list[str]] = {lang: [] for lang in languages}
            reached: dict[str, int] = {}
            for pool in ("tokens", "words"):
                response = client.post(
                    f"/v1/models/{model}/translations/evaluate",
                    json={"dictionary": "\n".join(lines), "pool": pool, "language_pool": "language"},
                )
                body = response.json()
                if response.status_code != 200:  # code before lexicons: one unknown language, a 400
                    print(f"{model}, pool={pool}: {response.status_code} {body.get('detail', '')[:160]}")
                reached[pool] = sum(p["covered"] for p in (body.get("by_language") or {}).values())
                for lang in languages:
                    part = (body.get("by_language") or {}).get(lang)
                    if part is None:
                        cells[lang] += ["0", "-", "0"]
                        continue
                    at = part["precision"]["csls"]
                    answered = round(at["p@10"] * part["queries"])
                    cells[lang] += [
                        str(part["covered"]),
                        f"{at['p@1']:.3f} / {at['p@10']:.3f}",
                        str(answered),
                    ]
            for lang in languages:
                print(f"| {model} | {lang} | {per_language[lang]} | {' | '.join(cells[lang])} |", flush=True)
            total = len(lines)
            shares = ", ".join(f"pool={pool} {n / total:.1%} ({n}/{total})" for pool, n in reached.items())
            print(f"| {model} | all | {total} | reachable: {shares} |", flush=True)


if __name__ == "__main__":
    main()
