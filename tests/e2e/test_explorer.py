"""The explorer page in a real headless Chromium (Debian's), driven by Playwright; screenshot kept."""

from __future__ import annotations

import shutil
from pathlib import Path

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


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_explorer_shows_neighbours_and_switches_model(server: str, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")  # Playwright drives the system Chromium
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
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
        page.select_option("#language", "fr")  # French-labelled neighbours only
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
        page.select_option("#as", "token")  # a known under-trained Llama 2 token: flagged neighbours
        page.fill("#token", "▁Portály")
        page.click("#go")
        page.locator("#title", has_text="Portály").wait_for()
        flags = page.locator("#results li").evaluate_all("items => items.map(i => i.dataset.anomalous)")
        assert len(flags) == 20 and set(flags) <= {"0", "1"} and "1" in flags
        assert page.locator("#results li[data-anomalous='1'] .flag").count() == flags.count("1")
        browser.close()
    assert not blocked, blocked
    assert (SHOTS / "explorer.png").stat().st_size > 10_000
