"""Development dictionaries for word lookups: FreeDict's English -> X dictionaries (Debian packages
dict-freedict-eng-XXX, dictd files under /usr/share/dictd), read into single-word pairs.

Sampled as BLI test sets are (Conneau et al. 2018): pairs whose English word is among the 20,000 most
frequent English words (wordfreq), each English word kept with every single-word translation its
entry gives, `--pairs` source words per language (seeded). The service's lexicons never come from
these dictionaries; they measure, they tune nothing here (see docs/benchmarks.md).

Each pair names the part of speech of its English word where WordNet knows it (Debian's wordnet-base):
its most frequent one, by the senses tagged in WordNet's corpus (then by its senses), an inflected
form's that of its lemma (WordNet's own exception lists and detachment rules). FreeDict tags
parts of speech in a few of its dictionaries only; one source for all keeps the languages comparable.

    python bench/freedict.py [--pairs 1000] [--out DIR] [de fr ...]   writes DIR/en-XX.txt (MUSE text)
    python bench/freedict.py --sizes [de fr ...]   the share of the targets wordfreq's N words hold
"""

from __future__ import annotations

import argparse
import gzip
import random
import re
from pathlib import Path

DICTD = Path("/usr/share/dictd")
WORDNET = Path("/usr/share/wordnet")
WORDNET_PARTS = {"noun": "noun", "verb": "verb", "adj": "adjective", "adv": "adverb"}
CODES = {  # ISO 639-1 -> FreeDict's ISO 639-3
    "de": "deu", "fr": "fra", "it": "ita", "ru": "rus", "es": "spa", "tr": "tur", "fi": "fin",
    "ja": "jpn", "pt": "por", "nl": "nld", "sv": "swe", "pl": "pol", "hr": "hrv", "sr": "srp",
}  # fmt: skip
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
NOTES = re.compile(r"<[^>]*>|\[[^\]]*\]|\([^)]*\)|\{[^}]*\}")
NUMBERED = re.compile(r"^\d+\.\s*")
WORD = re.compile(r"^[^\W\d_](?:[\w'’-]*[^\W_])?$")  # one word: letters, inner hyphens and apostrophes


def _number(text: str) -> int:
    value = 0
    for ch in text:
        value = value * 64 + B64.index(ch)
    return value


def entries(language: str) -> dict[str, set[str]]:
    """English headword -> its single-word translations (annotations, glosses and phrases left out)."""
    code = CODES[language]
    index = DICTD / f"freedict-eng-{code}.index"
    if not index.is_file():
        raise SystemExit(f"no {index}: apt-get install dict-freedict-eng-{code}")
    data = gzip.open(DICTD / f"freedict-eng-{code}.dict.dz").read()
    out: dict[str, set[str]] = {}
    for line in index.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or parts[0].startswith("00database"):
            continue
        head = parts[0].strip().lower()
        body = data[_number(parts[1]) : _number(parts[1]) + _number(parts[2])].decode("utf-8", "replace")
        lines = [x.strip() for x in body.splitlines()]
        # the translations: the line after the headword, and numbered lines (the others are English
        # glosses, examples, or cross-references)
        chosen = [x for i, x in enumerate(lines[1:]) if x and (i == 0 or NUMBERED.match(x))]
        for text in chosen:
            text = NOTES.sub(" ", NUMBERED.sub("", text))
            for candidate in re.split(r"[,;/]", text):
                word = candidate.strip().rstrip(".")
                if WORD.match(word) and word.lower() != head:
                    out.setdefault(head, set()).add(word)
    return out


# WordNet's detachment rules (morphy): an inflected form's candidate lemmas, per part of speech
DETACH = {
    "noun": [("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"),
             ("men", "man"), ("ies", "y")],
    "verb": [("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"),
             ("ing", "")],
    "adj": [("er", ""), ("est", ""), ("er", "e"), ("est", "e")],
    "adv": [],
}  # fmt: skip


def parts_of_speech(words: set[str]) -> dict[str, str]:
    """Each English word's most frequent part of speech in WordNet, its inflected forms as their
    lemmas (WordNet's morphy: exception lists, then detachment rules); empty without wordnet-base."""
    if not (WORDNET / "index.noun").is_file():
        return {}
    counts: dict[str, dict[str, tuple[int, int]]] = {}  # part -> lemma -> (tagged senses, senses)
    exceptions: dict[str, dict[str, list[str]]] = {}
    for part in WORDNET_PARTS:
        counts[part] = {}
        for line in (WORDNET / f"index.{part}").read_text(encoding="utf-8").splitlines():
            if not line.startswith(" "):  # the licence
                fields = line.split()
                counts[part][fields[0]] = (int(fields[5 + int(fields[3])]), int(fields[2]))
        exceptions[part] = {}
        for line in (WORDNET / f"{part}.exc").read_text(encoding="utf-8").splitlines():
            form, *lemmas = line.split()
            exceptions[part][form] = lemmas
    out = {}
    for word in words:
        found = []
        for part, lemmas in counts.items():
            tried = [word, *exceptions[part].get(word, [])]
            tried += [word[: -len(end)] + to for end, to in DETACH[part] if word.endswith(end)]
            found += [(lemmas[lemma], WORDNET_PARTS[part]) for lemma in tried if lemma in lemmas]
        if found:
            out[word] = max(found)[1]
    return out


def dictionary_text(language: str, count: int) -> str:
    """The sampled pairs as MUSE text with the target language and, where known, the part of speech."""
    pairs = sampled_pairs(language, count)
    parts = parts_of_speech({a for a, _ in pairs})
    return "".join(f"{a} {b} {language}" + (f" {parts[a]}" if a in parts else "") + "\n" for a, b in pairs)


def sampled_pairs(language: str, count: int, seed: int = 0) -> list[tuple[str, str]]:
    """(English word, translation) pairs of `count` English words among the 20,000 most frequent."""
    from wordfreq import top_n_list

    frequent = set(top_n_list("en", 20_000))
    found = entries(language)
    heads = sorted(h for h in found if h in frequent and WORD.match(h))
    random.Random(seed).shuffle(heads)
    return [(head, target) for head in heads[:count] for target in sorted(found[head])]


def sizes(languages: list[str], count: int) -> None:
    """Per language and list size N: the share of the pairs whose target is among wordfreq's N most
    frequent words (matched as lexicons match), and of the source words with at least one such target."""
    import sys

    from wordfreq import top_n_list

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from loaders.artifact import match_key

    print("| language | " + " | ".join(f"{n // 1000}k: pairs / sources" for n in SIZES) + " |")
    print("| --- |" + " --- |" * len(SIZES))
    for language in languages:
        pairs = sampled_pairs(language, count)
        rank: dict[str, int] = {}
        for i, word in enumerate(top_n_list(language, max(SIZES), wordlist="best")):
            rank.setdefault(match_key(word), i)
        cells = []
        for n in SIZES:
            held = [rank.get(match_key(target), n) < n for _, target in pairs]
            by_source: dict[str, bool] = {}
            for (source, _), found in zip(pairs, held, strict=True):
                by_source[source] = by_source.get(source, False) or found
            cells.append(f"{sum(held) / len(held):.2f} / {sum(by_source.values()) / len(by_source):.2f}")
        print(f"| {language} | " + " | ".join(cells) + " |", flush=True)


SIZES = (8_300, 25_000, 50_000, 100_000, 200_000, 400_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("languages", nargs="*", default=["de", "es", "fr", "it", "ru", "tr", "fi", "ja"])
    parser.add_argument("--pairs", type=int, default=1000, help="English source words per language")
    parser.add_argument("--out", type=Path, default=Path.home() / ".cache" / "polyglot-geometry" / "freedict")
    parser.add_argument("--sizes", action="store_true", help="coverage by wordfreq list size instead")
    args = parser.parse_args()
    if args.sizes:
        sizes(args.languages, args.pairs)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    for language in args.languages:
        path = args.out / f"en-{language}.txt"
        path.write_text(text := dictionary_text(language, args.pairs), encoding="utf-8")
        print(f"en-{language}: {len({line.split()[0] for line in text.splitlines()})} words, "
              f"{len(text.splitlines())} pairs -> {path}")  # fmt: skip


if __name__ == "__main__":
    main()
