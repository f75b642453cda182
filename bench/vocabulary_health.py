"""Vocabulary health per packaged model: under-trained candidates (per script), geometry, footprint,
and the time of each endpoint's first (computing) and second (cached) call, in-process.
Usage: python bench/vocabulary_health.py
"""

from __future__ import annotations

import time
from pathlib import Path

from litestar.testing import TestClient

from service.app import create_app
from service.settings import Settings


def timed(client: TestClient, path: str, **params: str) -> tuple[dict, float]:  # type: ignore[type-arg]
    started = time.perf_counter()
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json(), time.perf_counter() - started


def main() -> None:
    app = create_app(Settings(artifacts=(Path("artifacts"),)))
    with TestClient(app) as client:
        for model in sorted(client.app.state.registry.models):
            base = f"/v1/models/{model}"
            lines = []
            for name, path, params in (
                ("anomalies", f"{base}/tokens/anomalies", {"limit": "5", "kind": "word-initial"}),
                ("geometry", f"{base}/geometry", {}),
                ("geometry centred-top", f"{base}/geometry", {"postprocess": "centred-top"}),
                ("footprint", f"{base}/footprint", {"keep_languages": "en"}),
            ):
                body, first = timed(client, path, **params)
                _, second = timed(client, path, **params)
                lines.append(f"  {name}: first call {first:.2f} s, cached {1000 * second:.1f} ms")
                if name == "anomalies":
                    anomalies = body
                elif name == "geometry":
                    raw = body
                elif name == "geometry centred-top":
                    centred = body
                else:
                    footprint = body
            scripts = ", ".join(f"{k} {v}" for k, v in list(anomalies["by_script"].items())[:6])
            words = ", ".join(item["token"]["display"] for item in anomalies["items"])
            languages = [
                (code, row["share"])
                for code, row in footprint["by_language"].items()
                if code not in ("unlabelled", "ambiguous")
            ][:5]
            print(f"{model}:")
            print(
                f"  candidates {anomalies['candidates']} (reference: {anomalies['reference']['described']}, "
                f"{anomalies['reference']['tokens']}); by script: {scripts}"
            )
            print(f"  top word-initial candidates: {words}")
            before, after, proxy = raw["overall"], centred["overall"], raw["norm_frequency"]
            print(
                f"  IsoScore {before['isoscore']:.3f} -> {after['isoscore']:.3f} centred "
                f"(first component removed); mean pair cosine {before['mean_pair_cosine']:.4f} -> "
                f"{after['mean_pair_cosine']:.4f}; norm vs {proxy['proxy']}: Spearman {proxy['spearman']:.3f}"
            )
            print("  largest language parameter shares: " + ", ".join(f"{c} {s:.1%}" for c, s in languages))
            trimmed = footprint["trimmed"]
            print(
                f"  trimmed to en: keeps {trimmed['kept_tokens']:,} tokens, "
                f"saves {trimmed['saved_share']:.1%} ({trimmed['saved_parameters']:,} parameters)"
            )
            print("\n".join(lines))


if __name__ == "__main__":
    main()
