"""The per-area excess test: exact tails, false discovery rate, and its two bases."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import binomtest

from cardiffmodel import testing
from cardiffmodel.analysis.excess import (
    excess_by_area,
    excess_over_history,
    excess_over_population,
)
from cardiffmodel.analysis.selection import month_selection

CODES = ("A", "B", "C", "D")


def poisson_at_least(k: int, mean: float) -> float:
    return 1 - sum(math.exp(-mean) * mean**j / math.factorial(j) for j in range(k))


def poisson_at_most(k: int, mean: float) -> float:
    return sum(math.exp(-mean) * mean**j / math.factorial(j) for j in range(k + 1))


def benjamini_hochberg(p: list[float]) -> np.ndarray:
    """Step-up adjustment written out: p_(i) * n / i, then the running minimum from the
    largest p-value down."""
    order = np.argsort(p)
    n = len(p)
    scaled = [p[i] * n / (rank + 1) for rank, i in enumerate(order)]
    stepped = np.minimum.accumulate(scaled[::-1])[::-1]
    adjusted = np.empty(n)
    adjusted[order] = np.minimum(1, stepped)
    return adjusted


def test_against_population_by_hand():
    counts = [40, 12, 6, 22]
    population = [1000, 2000, 1000, 1000]
    result = excess_over_population(counts, population, CODES)
    rate = 80 / 5000
    expected = [16, 32, 16, 16]
    assert_allclose(result.expected, expected)
    assert_allclose(rate * 1000, 16)
    assert_allclose(result.ratio, [40 / 16, 12 / 32, 6 / 16, 22 / 16])
    p_high = [poisson_at_least(k, m) for k, m in zip(counts, expected, strict=True)]
    p_low = [poisson_at_most(k, m) for k, m in zip(counts, expected, strict=True)]
    assert_allclose(result.p_high, p_high, rtol=1e-9)
    assert_allclose(result.p_low, p_low, rtol=1e-9)
    two_sided = [min(1, 2 * min(h, lo)) for h, lo in zip(p_high, p_low, strict=True)]
    assert_allclose(result.p_adjusted, benjamini_hochberg(two_sided), rtol=1e-9)
    # A and D are above their expected 16, B and C below; D's 22 is within chance.
    assert result.classification == ("high", "low", "low", "not_significant")
    assert result.codes_of("high") == ("A",)
    assert (result.basis, result.periods, result.alpha) == ("population", 0, 0.05)


def test_every_label_is_the_side_of_the_smaller_tail():
    rng = np.random.default_rng(4)
    population = rng.uniform(500, 5000, 40)
    counts = rng.poisson(population / 100 * rng.lognormal(0, 0.6, 40))
    result = excess_over_population(counts, population, [f"X{i}" for i in range(40)])
    for kind, high, low in zip(result.classification, result.p_high, result.p_low, strict=True):
        if kind == "high":
            assert high < low and 2 * high <= result.alpha
        elif kind == "low":
            assert low < high and 2 * low <= result.alpha
    assert result.codes_of("high") and result.codes_of("low")


def test_areas_without_people_are_not_tested_and_do_not_set_the_rate():
    counts = np.array([10, 10, 50, 0])
    before = counts.copy()
    result = excess_over_population(counts, [1000, 1000, None, 0], CODES)
    assert_allclose(result.expected[:2], [10, 10])
    assert np.isnan(result.expected[2:]).all() and np.isnan(result.p_adjusted[2:]).all()
    assert result.classification == ("not_significant",) * 2 + ("untested",) * 2
    assert_array_equal(counts, before)


def test_against_history_is_the_exact_conditional_test_of_two_poisson_counts():
    counts = [30, 4, 10, 0]
    history = np.array([[10, 8, 9, 0], [12, 9, 11, 0], [8, 10, 10, 0]])
    result = excess_over_history(counts, history, CODES)
    assert_allclose(result.expected, [10, 9, 10, 0])
    assert_allclose(result.ratio[:3], [3, 4 / 9, 1])
    assert np.isnan(result.ratio[3])
    for i, (k, before) in enumerate(zip(counts[:3], history.sum(axis=0), strict=False)):
        n = int(k + before)
        assert_allclose(result.p_high[i], binomtest(k, n, 0.25, "greater").pvalue, rtol=1e-9)
        assert_allclose(result.p_low[i], binomtest(k, n, 0.25, "less").pvalue, rtol=1e-9)
    assert result.p_high[3] == result.p_low[3] == 1  # nothing then, nothing now
    assert result.classification[0] == "high"
    assert (result.basis, result.periods) == ("history", 3)
    assert excess_over_history(counts, np.empty((0, 4)), CODES).classification == (
        ("untested",) * 4
    )


def test_bad_inputs_are_refused_with_what_was_expected():
    with pytest.raises(ValueError, match=r"expected \(4,\)"):
        excess_over_population([1, 2], [1, 2, 3, 4], CODES)
    with pytest.raises(ValueError, match="expected 4, one per area"):
        excess_over_population([1, 2, 3, 4], [1, 2], CODES)
    with pytest.raises(ValueError, match="between 0 and 1"):
        excess_over_population([1, 2, 3, 4], [1, 2, 3, 4], CODES, alpha=1.5)
    with pytest.raises(ValueError, match="at least 0"):
        excess_over_history([1, -2, 3, 4], np.ones((1, 4)), CODES)


@pytest.fixture
def store(tmp_path):
    """March 2019 busy in B1; January to March quiet before it, data from 1 December."""
    rows = [testing.incident("2018-12-03", beat="B2")]
    for month in ("2018-12", "2019-01", "2019-02"):
        rows += [testing.incident(f"{month}-1{k}", beat="B1") for k in range(5)]
        rows += [testing.incident(f"{month}-0{k + 1}", beat="B2") for k in range(5)]
    rows += [testing.incident(f"2019-03-1{k % 10}", beat="B1") for k in range(20)]
    rows += [testing.incident(f"2019-03-0{k + 1}", beat="B2") for k in range(5)]
    path = tmp_path / "store.duckdb"
    testing.write_incidents(path, rows)
    return testing.open_incidents(path)


def test_from_the_store_history_stops_where_the_data_start(store):
    march = month_selection("2019-03", areas=("B1",))
    found = excess_by_area(store, march, ("B1", "B2"))
    # No populations: history of December to February (November precedes the data).
    assert (found.basis, found.periods) == ("history", 3)
    assert_array_equal(found.observed, [20, 5])  # every area, whatever the group
    assert_allclose(found.expected, [5, 16 / 3])
    assert found.classification == ("high", "not_significant")
    longer = excess_by_area(store, march, ("B1", "B2"), periods=6)
    assert longer.periods == 3
    people = excess_by_area(store, march, ("B1", "B2"), population=[1000, 1000])
    assert people.basis == "population"
    assert_allclose(people.expected, [12.5, 12.5])
    assert excess_by_area(store, march, ("B1", "B2"), [1000, None]).basis == "history"
    with pytest.raises(ValueError, match="no area of the layer has a population"):
        excess_by_area(store, march, ("B1", "B2"), basis="population")
    assert excess_by_area(store, month_selection("2018-12"), ("B1",)).periods == 0
    assert date(2018, 12, 1) == month_selection("2019-03").previous().previous().previous().start
