"""analysis.stats: intervals cover what they should, and aggregates are the robust ones we claim."""

import numpy as np
import pytest

from analysis.stats import (
    MIN_SEEDS,
    Interval,
    compare_arms,
    difference,
    interval,
    iqm,
    normalise,
    paired_difference,
    probability_of_improvement,
    stratified_interval,
)


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


# --- arms over worlds: normalise first, one statistic, one bootstrap --------------------------------

# two worlds of very different scale: a rich one (random 5, expert 10) and a poor one (random 0,
# expert 0.5); five seeds per arm. Arm "wide" is at 60% of the expert in the rich world and 90% in
# the poor one; arm "narrow" at 80% and 10%.
RANDOM, EXPERT = np.array([5.0, 0.0]), np.array([10.0, 0.5])
WIDE = np.array([[8.0, 0.45], [8.1, 0.44], [7.9, 0.46], [8.0, 0.45], [8.05, 0.44]])
NARROW = np.array([[9.0, 0.05], [9.1, 0.04], [8.9, 0.06], [9.0, 0.05], [8.95, 0.06]])


def test_normalise_puts_random_at_0_and_the_expert_at_1():
    assert normalise(RANDOM, RANDOM, EXPERT) == pytest.approx([0, 0])
    assert normalise(EXPERT, RANDOM, EXPERT) == pytest.approx([1, 1])
    assert np.isnan(normalise(3.0, 2.0, 2.0))  # an expert no better than random: nothing to measure by


def test_per_world_normalisation_orders_arms_that_pooled_raw_meals_misorder():
    # pooled raw meals: the rich world's numbers decide, and "narrow" looks better
    assert iqm(NARROW.ravel()) > iqm(WIDE.ravel()) and NARROW.mean() > WIDE.mean()
    c = compare_arms({"narrow": normalise(NARROW, RANDOM, EXPERT), "wide": normalise(WIDE, RANDOM, EXPERT)})
    assert c.values["wide"].value > c.values["narrow"].value  # 0.6-0.9 of the expert against 0.1-0.8
    assert c.differences[("wide", "narrow")].low > 0
    assert c.improvement[("wide", "narrow")].value == pytest.approx(0.5)  # wins one world of two
    assert c.omitted is None


def test_the_difference_is_the_difference_of_the_arms_iqms_under_the_same_bootstrap():
    rng = np.random.default_rng(4)
    a, b = rng.normal(0.6, 0.2, (6, 4)), rng.normal(0.4, 0.2, (5, 4))
    c = compare_arms({"b": b, "a": a}, seed=7)
    d = c.differences[("a", "b")]
    assert d.value == pytest.approx(c.values["a"].value - c.values["b"].value)
    assert d.value == pytest.approx(iqm(a.ravel()) - iqm(b.ravel()))
    # the same resamples: rebuild them the way compare_arms draws them, arm after arm
    draw = np.random.default_rng(7)
    boots = {}
    for name, s in (("b", b), ("a", a)):
        idx = draw.integers(0, s.shape[0], size=(2000, *s.shape))
        boots[name] = iqm(np.take_along_axis(s[None], idx, axis=1).reshape(2000, -1), axis=1)
    low_high = tuple(np.quantile(boots["a"], [0.025, 0.975]))
    assert (c.values["a"].low, c.values["a"].high) == pytest.approx(low_high)
    assert (d.low, d.high) == pytest.approx(tuple(np.quantile(boots["a"] - boots["b"], [0.025, 0.975])))
    assert compare_arms({"b": b, "a": a}, seed=7) == c  # deterministic for a seed


def test_probability_of_improvement_counts_wins_per_world_and_ties_half():
    a = np.array([[1.0, 0.0], [2.0, 0.0]])
    b = np.array([[0.0, 0.0], [1.5, 0.0]])
    # world 1: a beats b in 3 of 4 pairs; world 2: all ties (1/2)
    assert probability_of_improvement(a, b) == pytest.approx((0.75 + 0.5) / 2)
    assert probability_of_improvement(b, a) == pytest.approx(1 - (0.75 + 0.5) / 2)


def test_fewer_than_five_seeds_give_no_interval_and_say_why():
    assert MIN_SEEDS == 5
    c = compare_arms({"x": WIDE[:4], "y": NARROW})
    assert c.omitted == "seeds per arm x 4, fewer than 5"
    for iv in [*c.values.values(), *c.differences.values(), *c.improvement.values()]:
        assert np.isfinite(iv.value) and np.isnan(iv.low) and np.isnan(iv.high)
    with pytest.raises(ValueError, match="same tasks"):
        compare_arms({"x": WIDE, "y": NARROW[:, :1]})
