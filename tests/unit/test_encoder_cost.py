"""The encoder's cost model: the build's rate at first, then what this process measures."""

from __future__ import annotations

import pytest

from service.encoder_spaces import BOUND, PAD, EncoderCost


def test_the_build_rate_predicts_its_own_words_and_longer_texts_cost_more() -> None:
    cost = EncoderCost.of_build(words_per_second=250.0, mean_chars=7.0)
    assert cost.predict(250, 250 * 7) == pytest.approx(1.0)  # the build's own words: 1 s
    assert cost.predict(100, 100_000) == pytest.approx((100_000 + PAD * 100) / (250 * 15))
    assert cost.predict(0, 0) == 0.0


def test_measurements_pull_the_rate_toward_what_encoding_takes_here() -> None:
    cost = EncoderCost.of_build(words_per_second=250.0, mean_chars=7.0)
    for _ in range(30):  # three times slower here
        cost.observe(100, 1000, 3 * (1000 + PAD * 100) / (250 * 15))
    assert cost.predict(250, 250 * 7) == pytest.approx(3.0, rel=1e-3)
    before = cost.seconds_per_char
    cost.observe(2, 20, 10.0)  # 36 characters: too short to time, ignored
    assert cost.seconds_per_char == before


def test_calls_that_shared_the_cores_count_their_share_and_the_rate_stays_bounded() -> None:
    cost = EncoderCost.of_build(words_per_second=250.0, mean_chars=7.0)
    for _ in range(30):  # four at once, each four times as long: one call's own cost is the build's
        cost.observe(100, 1000, 4 * (1000 + PAD * 100) / (250 * 15), alongside=4)
    assert cost.predict(250, 250 * 7) == pytest.approx(1.0, rel=1e-3)
    for _ in range(30):  # a hundred times slower: held at BOUND times the build's rate
        cost.observe(100, 1000, 100 * (1000 + PAD * 100) / (250 * 15))
    assert cost.predict(250, 250 * 7) == pytest.approx(BOUND)
