"""Honest aggregates: interquartile means and bootstrap intervals (Agarwal et al. 2021).

Every number a report shows comes with an interval. Units (worlds, scenes, seeds) are
the independent samples that get resampled; a run's fishers share one world's fish, so
they are not independent and are averaged per world before anything here sees them.

- `interval(values, statistic)`: a percentile bootstrap interval of the mean, median or
  IQM of independent units.
- `stratified_interval(scores)`: scores of shape (runs, tasks); runs are resampled with
  replacement within each task (the stratified bootstrap of rliable), the statistic
  (IQM by default) is taken over all runs x tasks.
- `difference(a, b)`: an interval on mean(a) - mean(b) of two independent samples
  (an effect: cue swapped vs not, trained vs random).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

Statistic = str | Callable[[np.ndarray], float]
N_RESAMPLES = 2000


def iqm(values: np.ndarray, axis: int | None = None) -> np.ndarray | float:
    """Interquartile mean: the mean of the middle 50% (robust like a median, efficient like a mean)."""
    return stats.trim_mean(np.asarray(values, dtype=np.float64), 0.25, axis=axis)


def _statistic(name: Statistic) -> Callable[..., float]:
    if callable(name):
        return name
    table = {"mean": np.mean, "median": np.median, "iqm": iqm}
    if name not in table:
        raise ValueError(f"statistic: expected one of {sorted(table)} or a callable, got {name!r}")
    return table[name]


@dataclass(frozen=True)
class Interval:
    """A point estimate with its confidence interval and the number of units behind it."""

    value: float
    low: float
    high: float
    n: int
    confidence: float = 0.95

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)

    def excludes(self, x: float) -> bool:
        """True when x lies outside the interval (e.g. an effect clearly different from 0)."""
        return bool(x < self.low or x > self.high)

    def above(self, other: Interval) -> bool:
        """True when this interval lies wholly above the other (non-overlapping)."""
        return bool(self.low > other.high)

    def __str__(self) -> str:
        return f"{self.value:.3g} [{self.low:.3g}, {self.high:.3g}]"


def _clean(values: object, name: str) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64).ravel()
    return a[~np.isnan(a)]


def interval(values: object, statistic: Statistic = "mean", confidence: float = 0.95,
             seed: int = 0, n_resamples: int = N_RESAMPLES) -> Interval:
    """The statistic of independent units (NaNs dropped) with a percentile bootstrap interval.
    A named statistic (mean, median, iqm) takes the vectorised path (`bootstrap_interval`)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence: expected a number in (0, 1), got {confidence!r}")
    fn = _statistic(statistic)
    if isinstance(statistic, str):
        return bootstrap_interval(values, statistic, confidence, seed, n_resamples)
    a = _clean(values, "values")
    if a.size == 0:
        return Interval(float("nan"), float("nan"), float("nan"), 0, confidence)
    value = float(fn(a))
    if a.size < 3 or np.all(a == a[0]):
        return Interval(value, value, value, int(a.size), confidence)
    res = stats.bootstrap((a,), fn, confidence_level=confidence, n_resamples=n_resamples,
                          method="percentile", random_state=np.random.default_rng(seed), vectorized=False)
    return Interval(value, float(res.confidence_interval.low), float(res.confidence_interval.high),
                    int(a.size), confidence)


def stratified_interval(scores: object, statistic: Statistic = "iqm", confidence: float = 0.95,
                        seed: int = 0, n_resamples: int = N_RESAMPLES) -> Interval:
    """An aggregate over tasks: scores (runs, tasks); runs resampled within each task."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim == 1:
        s = s[:, None]
    if s.ndim != 2 or s.shape[0] < 1 or np.isnan(s).any():
        raise ValueError(f"scores: expected a (runs, tasks) array without NaN, got shape {s.shape}")
    fn = _statistic(statistic)
    value = float(fn(s.ravel()))
    runs, tasks = s.shape
    if runs < 2:
        return Interval(value, value, value, s.size, confidence)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, runs, size=(n_resamples, runs, tasks))
    boot = np.take_along_axis(s[None], idx, axis=1).reshape(n_resamples, -1)
    if fn is iqm:
        samples = iqm(boot, axis=1)
    else:
        samples = np.array([fn(row) for row in boot])
    alpha = (1 - confidence) / 2
    low, high = np.quantile(samples, [alpha, 1 - alpha])
    return Interval(value, float(low), float(high), s.size, confidence)


def difference(a: object, b: object, confidence: float = 0.95, seed: int = 0,
               n_resamples: int = N_RESAMPLES) -> Interval:
    """mean(a) - mean(b) for two independent samples, with a percentile bootstrap interval."""
    x, y = _clean(a, "a"), _clean(b, "b")
    if x.size == 0 or y.size == 0:
        return Interval(float("nan"), float("nan"), float("nan"), 0, confidence)
    value = float(x.mean() - y.mean())
    if x.size < 2 or y.size < 2:
        return Interval(value, value, value, int(x.size + y.size), confidence)
    res = stats.bootstrap((x, y), lambda u, v, axis=-1: u.mean(axis=axis) - v.mean(axis=axis),
                          confidence_level=confidence, n_resamples=n_resamples, method="percentile",
                          random_state=np.random.default_rng(seed), vectorized=True)
    return Interval(value, float(res.confidence_interval.low), float(res.confidence_interval.high),
                    int(x.size + y.size), confidence)


def paired_difference(a: object, b: object, confidence: float = 0.95, seed: int = 0,
                      n_resamples: int = N_RESAMPLES) -> Interval:
    """mean(a - b) over paired units (the same scene with and without a cue)."""
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"paired_difference: a and b must have the same length, got {x.size} and {y.size}")
    return interval(x - y, "mean", confidence, seed, n_resamples)


def resample_counts(n_units: int, n_resamples: int = N_RESAMPLES, seed: int = 0) -> np.ndarray:
    """(n_resamples, n_units) counts: how often each unit is drawn in each bootstrap resample.

    Why counts: a statistic built from per-unit sums (correct predictions, squared errors) is then
    resampled for all resamples at once as `counts @ sums`, with no per-resample Python loop.
    """
    if n_units < 1:
        raise ValueError(f"n_units: expected an integer >= 1, got {n_units!r}")
    rng = np.random.default_rng(seed)
    return rng.multinomial(n_units, np.full(n_units, 1.0 / n_units), size=n_resamples).astype(np.float64)


def percentile_interval(value: float, samples: object, n: int, confidence: float = 0.95) -> Interval:
    """An Interval from a point estimate and its bootstrap samples (NaN samples dropped)."""
    s = _clean(samples, "samples")
    if s.size == 0 or not np.isfinite(value):
        return Interval(float(value), float("nan"), float("nan"), int(n), confidence)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(s, [alpha, 1 - alpha])
    return Interval(float(value), float(low), float(high), int(n), confidence)


def bootstrap_interval(values: object, statistic: str = "mean", confidence: float = 0.95, seed: int = 0,
                       n_resamples: int = N_RESAMPLES) -> Interval:
    """`interval` for the mean, median or IQM, with every resample drawn and scored at once.

    Why: `interval` calls the statistic once per resample (2,000 Python calls), which dominates a
    probe that reports dozens of intervals; here one (n_resamples, n) index array is drawn and the
    statistic taken along its rows. The same percentile bootstrap and the same degenerate cases
    (no units: NaN; fewer than 3 or all equal: the value itself), other random draws.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence: expected a number in (0, 1), got {confidence!r}")
    if statistic not in ("mean", "median", "iqm"):
        raise ValueError(f"statistic: expected mean, median or iqm, got {statistic!r}")
    a = _clean(values, "values")
    if a.size == 0:
        return Interval(float("nan"), float("nan"), float("nan"), 0, confidence)
    fn = {"mean": np.mean, "median": np.median, "iqm": iqm}[statistic]
    value = float(fn(a))
    if a.size < 3 or np.all(a == a[0]):
        return Interval(value, value, value, int(a.size), confidence)
    idx = np.random.default_rng(seed).integers(0, a.size, size=(n_resamples, a.size))
    samples = fn(a[idx], axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(samples, [alpha, 1 - alpha])
    return Interval(value, float(low), float(high), int(a.size), confidence)


def paired_bootstrap_interval(a: object, b: object, confidence: float = 0.95, seed: int = 0,
                              n_resamples: int = N_RESAMPLES) -> Interval:
    """`paired_difference` (mean(a - b) over paired units) through `bootstrap_interval`."""
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"paired_bootstrap_interval: a and b must have the same length, got {x.size} and "
                         f"{y.size}")
    return bootstrap_interval(x - y, "mean", confidence, seed, n_resamples)


def clear_of(card: dict, other: dict) -> bool:
    """True when a skill card's interval lies wholly on the better side of another's: above it, or
    below it for a card whose "higher_is" is "worse" (patience: a distance from the best give-up time)."""
    if card.get("higher_is") == "worse":
        return bool(card["high"] < other["low"])
    return bool(card["low"] > other["high"])
