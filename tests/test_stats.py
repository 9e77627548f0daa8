"""analysis.stats: intervals cover what they should, and aggregates are the robust ones we claim."""

import numpy as np
import pytest

from analysis.stats import Interval, difference, interval, iqm, paired_difference, stratified_interval


def test_iqm_ignores_the_tails():
    x = np.array([0.0, 1, 2, 3, 4, 5, 6, 1000])
    assert iqm(x) == pytest.approx(np.mean([2, 3, 4, 5]))


def test_interval_contains_the_mean_and_shrinks_with_more_units():
    rng = np.random.default_rng(0)
    small = interval(rng.normal(5, 1, 20))
    large = interval(rng.normal(5, 1, 2000))
    assert small.low < small.value < small.high
    assert large.low < 5 < large.high
    assert (large.high - large.low) < (small.high - small.low) / 4


def test_interval_is_deterministic_for_a_seed_and_drops_nan():
    x = np.r_[np.arange(10.0), np.nan]
    assert interval(x, "iqm", seed=3) == interval(x, "iqm", seed=3)
    assert interval(x).n == 10


def test_difference_separates_shifted_samples_and_not_equal_ones():
    rng = np.random.default_rng(1)
    a, b = rng.normal(1, 1, 200), rng.normal(0, 1, 200)
    assert difference(a, b).excludes(0)
    assert not difference(a, rng.normal(1, 1, 200)).excludes(0)
    assert paired_difference(a, a - 0.5).value == pytest.approx(0.5)


def test_stratified_interval_resamples_within_tasks():
    rng = np.random.default_rng(2)
    scores = np.stack([rng.normal(0, 0.1, 10), rng.normal(10, 0.1, 10)], axis=1)  # (runs, tasks)
    ci = stratified_interval(scores, "mean")
    # each bootstrap sample keeps 10 runs of each task, so the mean stays near 5
    assert 4.9 < ci.low <= ci.value <= ci.high < 5.1
    with pytest.raises(ValueError, match="scores"):
        stratified_interval(np.full((3, 2), np.nan))


def test_interval_above_and_bad_statistic():
    assert Interval(2, 1.5, 2.5, 10).above(Interval(1, 0.5, 1.4, 10))
    with pytest.raises(ValueError, match="statistic"):
        interval([1.0, 2.0, 3.0], "mode")
