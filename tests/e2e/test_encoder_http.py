"""The encoder space over real HTTP: uvicorn with two worker processes, each loading the packaged
encoders on first use, and the explorer's space switch in headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import E5, USE
from tests.e2e.conftest import get, serving
from tests.e2e.test_explorer import CHROMIUM, chromium_page

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def encoder_server(encoded: dict[str, Path]) -> Iterator[str]:
    with serving(list(encoded.values())) as base:
        yield base


def test_both_workers_encode_queries(encoder_server: str) -> None:
    """16 requests at once reach both workers; each encodes with its own engine and answers the same."""

    def ask(i: int) -> tuple[int, str]:
        word = ["not", "and"][i % 2]
        path = f"/v1/models/{E5}/translations?text={word}&space=encoder&target_languages=de&k=1"
        status, body = get(f"{encoder_server}{path}")
        return status, body["candidates"][0]["token"] if status == 200 else str(body)

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(ask, range(16)))
    assert answers == [(200, "nicht"), (200, "und")] * 8


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_explorer_space_switch(encoder_server: str) -> None:
    with chromium_page() as page:
        page.goto(f"{encoder_server}/")
        page.wait_for_selector("#results li")
        page.select_option("#model", USE)
        page.locator("#title", has_text=USE).wait_for()
        page.select_option("#mode", "translations")
        page.select_option("#as", "text")
        page.fill("#token", "not")
        page.select_option("#language", "ru")
        page.select_option("#space", "encoder")
        page.locator("#title", has_text="encoder space").wait_for()
        words = page.locator("#results .token").evaluate_all("items => items.map(i => i.textContent)")
        assert words[0] == "не"
    status, body = get(f"{encoder_server}/v1/models/{quote(USE)}")
    assert status == 200 and body["spaces"] == ["input", "encoder"]
