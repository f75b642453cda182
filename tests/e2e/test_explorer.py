"""The explorer page in a real headless Chromium (Debian's), driven by Playwright; screenshot kept."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LLAMA, ROOT, USE

pytestmark = pytest.mark.e2e
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
SHOTS = ROOT / "out"


@contextmanager
def chromium_page(flags: list[str] = FLAGS) -> Iterator[Any]:
    """A 1280 x 900 page of Debian's Chromium, headless, driven by Playwright (skipped without it)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=flags)
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 900})
        finally:
            browser.close()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_explorer_shows_neighbors_and_switches_model(server: str, tmp_path: Path) -> None:
    with chromium_page() as page:
        blocked: list[str] = []  # the page runs under its Content-Security-Policy: nothing may be refused
        page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(f"{server}/")
        page.wait_for_selector("#results li")
        assert page.locator("#model option").count() == 3
        assert page.locator("#results li").count() == 20  # "▁water", k=20, on the first model
        page.fill("#token", "▁house")
        page.click("#go")
        page.locator("#title", has_text="house").wait_for()
        scripts = page.locator("#results li").evaluate_all("items => items.map(i => i.dataset.script)")
        assert len(scripts) == 20 and all(scripts)
        page.select_option("#language", "fr")  # French-labelled neighbors only
        page.locator("#title", has_text="fr only").wait_for()
        languages = page.locator("#results li").evaluate_all("items => items.map(i => i.dataset.language)")
        assert len(languages) == 20 and set(languages) == {"fr"}
        assert page.locator("#languages li").count() == 12
        page.select_option("#language", "")
        page.select_option("#model", USE)
        page.locator("#title", has_text=USE).wait_for()
        page.select_option("#mode", "translations")
        page.locator("#title", has_text="Translation").wait_for()
        translated = page.locator("#results li").evaluate_all("items => items.map(i => i.dataset.script)")
        assert translated and "Latin" not in translated
        page.select_option("#pool", "words")  # the lexicon: words the vocabulary splits are candidates too
        page.select_option("#language", "ru")
        page.locator("#title", has_text="ru only, lexicon words").wait_for()
        rows = page.locator("#results li").evaluate_all(
            "items => items.map(i => [i.dataset.language, i.querySelector('.token').textContent])"
        )
        assert len(rows) == 20 and {language for language, _ in rows} == {"ru"}
        assert [word for _, word in rows][:2] == ["дом", "домой"]  # ▁house; дома is among дом's forms
        page.select_option("#pool", "tokens")
        page.select_option("#language", "")
        page.locator("#h-div", has_text="distinct").wait_for()
        page.locator("#h-sep", has_text="categories").wait_for(timeout=120_000)
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "explorer.png"), full_page=True)
        page.select_option("#model", LLAMA)  # the third family: byte-fallback BPE, 256 byte tokens
        page.locator("#info", has_text="byte-fallback-bpe: 256 byte, 3 special tokens").wait_for()
        page.locator("#title", has_text=LLAMA).wait_for()
        assert page.locator("#results li").count() > 0
        page.select_option("#mode", "neighbors")
        page.select_option("#as", "text")  # a word the tokenizer splits, pooled from its pieces
        page.fill("#token", "больница")
        page.click("#go")
        page.locator("#title", has_text="больница = ▁боль + ница").wait_for()
        assert page.locator("#results li").count() == 20
        page.select_option("#as", "token")  # a known under-trained Llama 2 token: flagged neighbors
        page.fill("#token", "▁Portály")
        page.click("#go")
        page.locator("#title", has_text="Portály").wait_for()
        flags = page.locator("#results li").evaluate_all("items => items.map(i => i.dataset.anomalous)")
        assert len(flags) == 20 and set(flags) <= {"0", "1"} and "1" in flags
        assert page.locator("#results li[data-anomalous='1'] .flag").count() == flags.count("1")
    assert not blocked, blocked
    assert (SHOTS / "explorer.png").stat().st_size > 10_000


# WebGL without a GPU: Chromium's software rasteriser (SwiftShader), which it only enables when asked.
WEBGL_FLAGS = [f for f in FLAGS if f != "--disable-gpu"] + [
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]
BACKGROUND = (0x10, 0x14, 0x1C)  # the map's background colour (map.js)


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_map_draws_every_token_and_a_click_loads_the_points_neighbors(server: str) -> None:
    import matplotlib.image
    import numpy as np

    with chromium_page(WEBGL_FLAGS) as page:
        problems: list[str] = []
        # (a job poll that reaches the other worker is a 404 the page answers by asking again: app.js)
        failed = lambda r: r.status >= 400 and "/v1/jobs/" not in r.url  # noqa: E731
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if failed(r) else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(f"{server}/")
        page.locator("#map-status", has_text="tokens placed by umap").wait_for(timeout=60_000)
        placed = page.evaluate("MAP.ids.length")
        assert (
            placed
            == page.evaluate("fetch('/v1/models/' + model() + '/map').then(r => r.json())")["layout"][
                "placed"
            ]
        )
        assert placed > 240_000  # e5: every indexed token of 250,002 drawn
        shot = matplotlib.image.imread(io.BytesIO(page.locator("#map-frame").screenshot()), format="png")
        pixels = (shot[..., :3] * 255).round().astype(int).reshape(-1, 3)
        drawn = np.abs(pixels - np.array(BACKGROUND)).sum(axis=1) > 30
        assert drawn.mean() > 0.05, drawn.mean()  # the canvas is not blank: points cover part of it
        assert page.locator("#map-legend li").count() == 16
        # a click on a point: the form shows that token's neighbors (the existing endpoint)
        k = page.evaluate("Math.floor(MAP.ids.length / 2)")
        x, y = page.evaluate(f"MAP.plot.getScreenPosition({k})")
        box = page.locator("#map-canvas").bounding_box()
        assert box is not None
        for _ in range(3):  # the scatter ignores a click it takes for the end of a drag: click again
            page.mouse.move(box["x"] + x, box["y"] + y)
            page.wait_for_timeout(300)
            page.mouse.click(box["x"] + x, box["y"] + y)
            if page.evaluate("MAP.picked") >= 0:
                break
            page.wait_for_timeout(1000)
        page.wait_for_function("MAP.picked >= 0", timeout=5_000)
        picked = page.evaluate("MAP.picked")
        token = page.evaluate(f"fetch('/v1/models/' + model() + '/tokens/{picked}').then(r => r.json())")
        page.locator("#title", has_text=token["display"]).wait_for()
        assert page.locator("#results li").count() == 20
        # the search box flies to a word and selects it
        page.fill("#map-find", "вода")
        page.click("#map-go")
        page.wait_for_function(f"MAP.picked !== {picked}")
        page.locator("#title", has_text="вода (Cyrillic, ru)").wait_for()  # the word-initial token
        page.select_option("#map-colour", "language")
        page.locator("#map-legend li", has_text="ru").first.wait_for()
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "map.png"), full_page=True)
    assert not problems, problems
