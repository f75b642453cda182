"""Word lookups as a user tries them: the five queries of issue 37, each model's answer at its default
(the encoder space once built) and in the input space, and the latency of one lookup and of a
100-word batch (in-process, the answer cache not involved).

    python bench/lookups.py [e5 use llama]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service import request_types as r  # noqa: E402
from service import response_types as s  # noqa: E402
from service.queries import answer  # noqa: E402
from service.registry import load_model  # noqa: E402
from service.settings import Limits  # noqa: E402

MODELS = {"e5": "multilingual-e5-small", "use": "use-multilingual-v3", "llama": "llama2-vocab-wordllama"}
EXAMPLES = [("house", "de", "Haus"), ("dog", "ru", "собака"), ("bread", "de", "Brot"),
            ("to eat", "ru", "есть / кушать"), ("house", "ru", "дом")]  # fmt: skip
LIMITS = Limits()


def shown(out: s.TranslationsOut) -> str:
    return ", ".join(row.token + (f" ({'/'.join(row.forms)})" if row.forms else "") for row in out.candidates)


def main() -> None:
    keys = sys.argv[1:] or ["e5", "use"]
    print("| model | query | expected | default space: top 5 | input space: top 5 |")
    print("| --- | --- | --- | --- | --- |")
    for key in keys:
        model = load_model(ROOT / "artifacts" / MODELS[key], verify_checksums=False)
        for text, language, expected in EXAMPLES:
            cells = []
            for space in (None, "input"):
                request = r.TranslationsRequest(
                    text=text, target_languages=[language], pool="words", k=5, space=space
                )  # type: ignore[arg-type]
                out = answer(model, request, LIMITS)
                assert isinstance(out, s.TranslationsOut)
                cells.append(f"{out.space}: {shown(out)}")
            print(
                f"| {model.name} | {text} -> {language} | {expected} | {cells[0]} | {cells[1]} |", flush=True
            )
        words = [w for w in model.words_in("input").words[:20_000:200]][:100]  # 100 distinct frequent words
        one = []
        for word in words[:30]:
            started = time.perf_counter()
            answer(model, r.TranslationsRequest(text=word, pool="words", target_languages=["de"]), LIMITS)
            one.append(time.perf_counter() - started)
        batch = r.TranslationsRequest(
            queries=[r.Query(text=w) for w in words], pool="words", target_languages=["de"]
        )
        started = time.perf_counter()
        answer(model, batch, LIMITS)
        took = time.perf_counter() - started
        space = "encoder" if model.encoder_space is not None else "input"
        print(
            f"{model.name} ({space}): one lookup p50 {statistics.median(one) * 1000:.1f} ms, "
            f"a batch of {len(words)} words {took:.2f} s"
        )


if __name__ == "__main__":
    main()
