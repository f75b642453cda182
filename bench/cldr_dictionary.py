"""A real bilingual dictionary from Unicode CLDR (via the `babel` package) and its P@k on the models.

Pairs: month and weekday names, language names and territory names, English -> TARGET (default
ru), single words only. Prints the dictionary size, coverage and P@1/5/10 for cosine and CSLS
through the service's evaluate endpoint (in-process). Usage: python bench/cldr_dictionary.py [ru]
"""

from __future__ import annotations

import sys
from pathlib import Path

from litestar.testing import TestClient

from service.app import create_app
from service.settings import Settings


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


def main() -> None:
    target = sys.argv[1] if len(sys.argv) > 1 else "ru"
    pairs = cldr_pairs(target)
    text = "\n".join(f"{a} {b}" for a, b in pairs)
    print(f"CLDR en-{target}: {len(pairs)} single-word pairs (months, weekdays, languages, territories)")
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


if __name__ == "__main__":
    main()
