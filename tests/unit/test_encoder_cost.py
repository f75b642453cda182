"""The encoder's cost model: the build's rate at first, then what this process measures."""

from __future__ import annotations

import pytest

from service.encoder_spaces import BOUND, MAX_PAD, PAD, EncoderCost


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


class Timed:
    """An encoder whose calls take exactly `rate` x (characters + `pad` x texts) on its own clock."""

    def __init__(self, rate: float, pad: float) -> None:
        self.rate, self.pad, self.now = rate, pad, 0.0

    def __call__(self, texts: list[str]) -> None:
        self.now += self.rate * (sum(map(len, texts)) + self.pad * len(texts))

    def clock(self) -> float:
        return self.now


def test_calibration_measures_the_rate_and_a_texts_own_cost_here() -> None:
    cost = EncoderCost.of_build(words_per_second=250.0, mean_chars=7.0)
    encoder = Timed(rate=7e-5, pad=26.0)  # e5 on 2 cores: words cost ~2.3x per character
    cost.calibrate(encoder, ["the", "water", "house", "Wasser", "собака"] * 8, clock=encoder.clock)
    assert cost.pad == pytest.approx(26.0) and cost.seconds_per_char == pytest.approx(7e-5)
    assert cost.predict(64, 64_000) == pytest.approx(7e-5 * (64_000 + 26 * 64))
    slow = Timed(1e-5, 500.0)
    cost.calibrate(slow, ["word"] * 40, clock=slow.clock)
    assert cost.pad == MAX_PAD  # a text's own cost is held within MAX_PAD characters
    stopped = Timed(1e-5, 8.0)
    cost.calibrate(stopped, ["word"] * 40, clock=lambda: 0.0)  # no time measured: nothing changes
    assert cost.pad == MAX_PAD and cost.seconds_per_char > 0
