"""`polyglot`: the client on a terminal. Tables for people, `--json` (the answer as the API gives it)
for scripts. The service is $POLYGLOT_URL (else http://127.0.0.1:8000) or --url.

    polyglot neighbors ▁water --model multilingual-e5-small --k 10
    polyglot translate hospital --to ru,es --pool words
    polyglot evaluate dict.txt --model use-multilingual-v3

Every other parameter of an endpoint is `-o NAME=VALUE` (repeatable; a value is read as JSON when it
parses, a comma list when it has commas, else as text): `-o group_by=language -o mutual=true`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from polyglot_client.calls import Retries
from polyglot_client.client import Client
from polyglot_client.errors import PolyglotError, ProblemError, Unreachable
from polyglot_client.tables import shown
from service import response_types as s

MODEL = os.environ.get("POLYGLOT_MODEL", "multilingual-e5-small")


def query_fields(query: str, kind: str) -> dict[str, Any]:
    """What a typed query is: an id (digits), a token (starts with the vocabulary's word marker ▁ or
    Ġ), else a text (a one-piece word is exactly that token's query); --as says it outright."""
    if kind == "auto":
        kind = "id" if query.isdigit() else "token" if query.startswith(("▁", "Ġ")) else "text"
    return {kind: int(query) if kind == "id" else query}


def option_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return [part for part in text.split(",") if part] if "," in text else text


def progress(job: s.JobOut) -> None:
    print(f"\r{job.kind} {job.id[:12]}: {job.status} {job.progress:.0%}", end="", file=sys.stderr, flush=True)
    if job.status != "running":
        print(file=sys.stderr)


# command -> its named options: (flag, request field, help); lists are comma-separated
NAMED: dict[str, list[tuple[str, str, str]]] = {
    "neighbors": [("--k", "k", "results per query"), ("--languages", "languages", "ISO 639 codes"),
                  ("--scripts", "scripts", "script names"), ("--fields", "fields", "answer fields"),
                  ("--space", "space", "input or encoder")],
    "translate": [("--k", "k", "results per query"), ("--to", "target_languages", "ISO 639 codes"),
                  ("--scripts", "target_scripts", "script names"), ("--pool", "pool", "tokens or words"),
                  ("--method", "method", "csls or cosine"), ("--candidates", "candidates", "only these"),
                  ("--space", "space", "input or encoder")],
    "evaluate": [("--pool", "pool", "tokens or words"), ("--space", "space", "input or encoder"),
                 ("--language-pool", "language_pool", "scripts or language")],
    "tokens": [("--limit", "limit", "tokens listed"), ("--match", "match", "exact or prefix")],
    "separability": [("--scheme", "scheme", "paper, unicode or language"), ("--within", "within", "a script"),
                     ("--categories", "categories", "labels")],
    "diversity": [("--sample", "sample", "share of tokens"), ("--seed", "seed", "sampling seed")],
    "relations": [("--k", "k", "neighbors per token"), ("--sample", "sample", "tokens per language"),
                  ("--seed", "seed", "sampling seed")],
    "spaces": [("--sample", "sample", "words sampled"), ("--seed", "seed", "sampling seed")],
}  # fmt: skip
HELP = {
    "models": "the models served",
    "lexicon": "a model's lexicon per language: words, pieces per word, parity with English",
    "tokens": "vocabulary tokens matching a string",
    "neighbors": "nearest tokens of tokens, ids or texts (several: one batch request)",
    "translate": "translation candidates in other languages or scripts (several: one batch request)",
    "evaluate": "P@k of a bilingual dictionary file ('source target [language]' per line)",
    "separability": "how well a linear classifier separates each script or language (a job)",
    "diversity": "writing systems among each token's nearest neighbors (a job)",
    "relations": "which languages' tokens neighbor which (a job)",
    "spaces": "the input and encoder spaces side by side: overlap, diversity, separability (a job)",
}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="polyglot",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--url", help="the service (default $POLYGLOT_URL, else http://127.0.0.1:8000)")
    top.add_argument("--timeout", type=float, help="seconds per request (default $POLYGLOT_TIMEOUT, else 30)")
    top.add_argument(
        "--retry-seconds",
        type=float,
        help="seconds of waiting between retries at most (default $POLYGLOT_RETRY_SECONDS, else 60)",
    )
    top.add_argument("--json", action="store_true", help="print the answer as JSON")
    commands = top.add_subparsers(dest="command", required=True)
    for name, help in HELP.items():
        sub = commands.add_parser(name, help=help, description=help)
        if name != "models":
            sub.add_argument("--model", default=MODEL, help=f"default $POLYGLOT_MODEL, else {MODEL}")
        if name in ("neighbors", "translate"):
            sub.add_argument("queries", nargs="+", metavar="query")
            sub.add_argument("--as", dest="kind", choices=("auto", "token", "id", "text"), default="auto")
        elif name == "tokens":
            sub.add_argument("q", metavar="string")
        elif name == "evaluate":
            sub.add_argument("dictionary", type=Path)
        for flag, field, text in NAMED.get(name, []):
            sub.add_argument(flag, dest=f"field_{field}", metavar="VALUE", help=text)
        if name not in ("models", "lexicon"):
            sub.add_argument("-o", "--option", action="append", default=[], metavar="NAME=VALUE",
                             help="any other parameter of the endpoint")  # fmt: skip
    return top


def options(args: argparse.Namespace) -> dict[str, Any]:
    named = [(k.removeprefix("field_"), v) for k, v in vars(args).items() if k.startswith("field_")]
    found = {k: option_value(v) for k, v in named if v is not None}
    for item in getattr(args, "option", []):
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"polyglot: -o takes NAME=VALUE, not {item!r}")
        found[name] = option_value(value)
    for name in ("languages", "scripts", "target_languages", "target_scripts", "candidates", "fields",
                 "categories"):  # fmt: skip
        if isinstance(found.get(name), str):
            found[name] = [found[name]]
    return found


def answer_of(client: Client, args: argparse.Namespace) -> Any:
    if args.command == "models":
        return client.models()
    model, given = args.model, options(args)
    if args.command == "lexicon":
        return client.lexicon(model)
    if args.command == "tokens":
        return client.tokens(model, q=args.q, **given)
    if args.command in ("neighbors", "translate"):
        queries = [query_fields(q, args.kind) for q in args.queries]
        if len(queries) > 1:
            batch = client.neighbors_batch if args.command == "neighbors" else client.translations_batch
            return batch(model, queries, **given)
        one = client.neighbors if args.command == "neighbors" else client.translations
        return one(model, **queries[0], **given)
    if args.command == "evaluate":
        return client.evaluate(model, args.dictionary, **given)
    if sys.stderr.isatty():
        client.on_progress = progress
    analysis = {
        "separability": client.separability,
        "diversity": client.diversity,
        "spaces": client.compare_spaces,
    }.get(args.command)
    return (analysis or client.relations)(model, **given)


def main(argv: Sequence[str] | None = None, client: Client | None = None) -> int:
    args = parser().parse_args(argv)
    own = client is None
    retries = None if args.retry_seconds is None else Retries(budget_seconds=args.retry_seconds)
    client = client or Client(args.url, timeout=args.timeout, retries=retries)
    try:
        answer = answer_of(client, args)
    except Unreachable as error:  # one line: what failed, where, what to try
        print(
            f"polyglot: {error}; is the service running there? (`make run`, or --url / $POLYGLOT_URL)",
            file=sys.stderr,
        )
        return 1
    except (PolyglotError, OSError, TypeError) as error:
        where = f" (field {error.field})" if isinstance(error, ProblemError) and error.field else ""
        print(
            f"polyglot: {error}{where}" if where not in str(error) else f"polyglot: {error}", file=sys.stderr
        )
        return (
            2
            if isinstance(error, TypeError) or (isinstance(error, ProblemError) and error.status < 500)
            else 1
        )
    finally:
        if own:
            client.close()
    print(msgspec.json.encode(answer).decode() if args.json else shown(answer))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
