"""Answers as plain-text tables for a terminal (the command line's default; `--json` prints the
answer itself)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from service import response_types as s

Rows = list[tuple[object, ...]]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _shown(value: object) -> object:
    return "" if value is msgspec.UNSET or value is None else value


def _row(rank: object, n: s.NeighborOut) -> tuple[object, ...]:
    labels = n.labels if isinstance(n.labels, dict) else {}
    similarity = f"{n.similarity:.4f}" if isinstance(n.similarity, float) else ""
    name = _shown(n.display) or _shown(n.token)
    return (rank, name, similarity, _shown(n.kind), " ".join(f"{k}={v}" for k, v in labels.items()))


def ranked(answer: s.NeighborsOut | s.TranslationsOut) -> str:
    found = answer.neighbors if isinstance(answer, s.NeighborsOut) else answer.candidates
    rows: Rows = [_row(n.rank, n) for n in found]
    for group in answer.groups or []:
        rows += [_row(f"{group.group}:{n.rank}", n) for n in group.results]
    return table(("rank", "token", "similarity", "kind", "labels"), rows)


def ranked_batch(answer: s.NeighborsBatchOut | s.TranslationsBatchOut) -> str:
    parts = []
    failed = {error.index: error for error in answer.errors}
    for index, one in enumerate(answer.results):
        if one is None:
            parts.append(f"{failed[index].field}: {failed[index].detail}" if index in failed else "?")
            continue
        query = one.query
        name = query.matched if query.kind == "text" else _shown(query.display) or _shown(query.token)
        parts.append(f"{name or query.id}\n{ranked(one)}")
    return "\n\n".join(parts)


def _at(precision: dict[str, float]) -> tuple[str, ...]:
    return tuple(f"{precision[f'p@{k}']:.3f}" for k in (1, 5, 10))


def evaluated(answer: s.EvaluateOut) -> str:
    """CSLS P@k over all pairs, per target language and per part of speech (where pairs name them)."""
    rows: Rows = [("all", answer.pairs, answer.covered_pairs, *_at(answer.precision["csls"]), "")]
    for code, language in (answer.by_language or {}).items():
        rows.append((code, language.pairs, language.covered, *_at(language.precision["csls"]), ""))
    for name, part in (answer.by_part_of_speech or {}).items():
        rows.append((f"pos:{name}", part.pairs, part.covered, *_at(part.precision["csls"]), ""))
    rows += [(code, "-", "-", "", "", "", why) for code, why in (answer.skipped_languages or {}).items()]
    return table(("pairs of", "pairs", "covered", "P@1", "P@5", "P@10", "skipped"), rows)


def models(answer: s.ModelsOut) -> str:
    rows: Rows = [(m.name, m.family, f"{m.vocab_size:,}", m.dim) for m in answer.models]
    rows += [(name, "building", "", "") for name in answer.building or []]
    return table(("model", "family", "tokens", "dim"), rows)


def lexicon(answer: s.LexiconOut) -> str:
    rows: Rows = [
        (code, row.origin, f"{row.words:,}", f"{row.one_token:.0%}", f"{row.pieces_per_word:.2f}",
         "-" if row.parity is None else f"{row.parity:.2f}")
        for code, row in answer.languages.items()
    ]  # fmt: skip
    return table(("language", "origin", "words", "one token", "pieces/word", "parity"), rows)


def tokens(answer: s.TokenPage) -> str:
    rows: Rows = [(t.id, t.display or t.token, t.kind, " ".join(f"{k}={v}" for k, v in t.labels.items()))
                  for t in answer.items]  # fmt: skip
    return table(("id", "token", "kind", "labels"), rows)


def separability(answer: s.SeparabilityOut) -> str:
    rows: Rows = [(c.category, c.tokens, f"{c.accuracy:.4f}", f"{c.sd:.4f}") for c in answer.scores]
    return f"mean accuracy {answer.mean:.4f} ({answer.protocol})\n" + table(
        ("category", "tokens", "accuracy", "sd"), rows
    )


def diversity(answer: s.DiversityOut) -> str:
    rows: Rows = [(count, queries) for count, queries in sorted(answer.histogram.items())]
    head = f"mean {answer.count} among {answer.k} neighbors: {answer.mean:.3f} (sd {answer.sd:.3f}, "
    return head + f"{answer.queries} queries)\n" + table((answer.count, "queries"), rows)


def relations(answer: s.RelationsOut) -> str:
    """Row: a language's sampled tokens; column: the share of their neighbors in each language."""
    rows: Rows = [
        (code, *(f"{x:.3f}" for x in shares))
        for code, shares in zip(answer.languages, answer.share, strict=True)
    ]
    return table(("neighbors of", *answer.languages), rows)


def indented(answer: Any) -> str:
    return msgspec.json.format(msgspec.json.encode(answer), indent=2).decode()


SHOWN: dict[type[Any], Any] = {
    s.NeighborsOut: ranked,
    s.TranslationsOut: ranked,
    s.NeighborsBatchOut: ranked_batch,
    s.TranslationsBatchOut: ranked_batch,
    s.EvaluateOut: evaluated,
    s.ModelsOut: models,
    s.LexiconOut: lexicon,
    s.TokenPage: tokens,
    s.SeparabilityOut: separability,
    s.DiversityOut: diversity,
    s.RelationsOut: relations,
}


def shown(answer: Any) -> str:
    """The answer as a table where one is defined, else as indented JSON."""
    show = SHOWN.get(type(answer))
    if show is not None:
        return str(show(answer))
    return indented(answer)
