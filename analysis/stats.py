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
- `normalise(x, floor, reference)`: (x - floor) / (reference - floor), the per-world scale that
  makes worlds of different richness comparable (floor: random; reference: the tuned expert).
- `compare_arms({arm: scores})`: arms scored on the same worlds ((seeds, worlds) each, normalised
  first): each arm's IQM, the difference of IQMs and the probability of improvement, all from one
  stratified bootstrap (rliable's `aggregate_iqm` and `probability_of_improvement`), so an arm's
  value and the difference printed beside it are the same statistic. Fewer than `MIN_SEEDS` seeds:
  point values only, and the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

Statistic = str | Callable[[np.ndarray], float]
N_RESAMPLES = 2000
MIN_SEEDS = 5  # a headline needs this many seeds per arm (DESIGN, "Headline experiments"); below: no interval


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


def normalise(x: object, floor: object, reference: object) -> np.ndarray:
    """(x - floor) / (reference - floor), elementwise (broadcast); NaN where the reference is no
    farther from the floor than rounding (nothing to measure against). With floor = random and
    reference = the tuned expert (agents.references.NORMALISE): 0 is random's level, 1 the expert's."""
    x, lo, hi = (np.asarray(a, dtype=np.float64) for a in (x, floor, reference))
    span = hi - lo
    ok = np.abs(span) > 1e-12
    return np.where(ok, (x - lo) / np.where(ok, span, 1.0), np.nan)


def probability_of_improvement(a: object, b: object) -> float:
    """P(X > Y) of a run X of `a` and a run Y of `b` in the same task, averaged over tasks (ties count
    half): a, b of shape (runs, tasks) with the same tasks (Agarwal et al. 2021, eq. in section 4)."""
    x, y = _runs_by_tasks(a, "a"), _runs_by_tasks(b, "b")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"probability_of_improvement: a and b must have the same tasks, got {x.shape[1]} "
                         f"and {y.shape[1]}")
    return float(_improvement(x[None], y[None])[0])


def _improvement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """P(X > Y) of (R, n, T) and (R, m, T) stacks: (R,)."""
    gt = (x[:, :, None, :] > y[:, None, :, :]).mean(axis=(1, 2))
    eq = (x[:, :, None, :] == y[:, None, :, :]).mean(axis=(1, 2))
    return (gt + 0.5 * eq).mean(axis=1)


def _runs_by_tasks(scores: object, name: str) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim == 1:
        s = s[:, None]
    if s.ndim != 2 or s.shape[0] < 1 or s.shape[1] < 1 or np.isnan(s).any():
        raise ValueError(f"{name}: expected a (runs, tasks) array without NaN, got shape {s.shape}")
    return s


@dataclass(frozen=True)
class Comparison:
    """Arms scored on the same tasks, aggregated by one statistic under one bootstrap.

    values: each arm's IQM over runs x tasks; differences[(a, b)]: IQM(a) - IQM(b), its interval from
    the same resamples as the arms' (the difference of each resample's two IQMs); improvement[(a, b)]:
    P(a run of a beats a run of b in the same task). omitted: why the intervals are absent (NaN low
    and high), else None."""

    values: dict[str, Interval]
    differences: dict[tuple[str, str], Interval]
    improvement: dict[tuple[str, str], Interval]
    seeds: dict[str, int]
    tasks: int
    omitted: str | None


def compare_arms(scores: Mapping[str, object], pairs: Sequence[tuple[str, str]] | None = None,
                 min_seeds: int = MIN_SEEDS, confidence: float = 0.95, seed: int = 0,
                 n_resamples: int = N_RESAMPLES) -> Comparison:
    """IQMs of arms, their differences and probabilities of improvement, from one stratified bootstrap.

    scores: {arm: (runs, tasks)} with the same tasks in the same order (scores normalised per task
    first: `normalise`); runs (seeds) are resampled with replacement within each task, independently
    per arm, and every reported statistic is taken on the same resamples. pairs: (a, b) to compare
    (default: every later arm against the first). An arm with fewer than `min_seeds` runs: every
    interval is left out (NaN) and `omitted` says why.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence: expected a number in (0, 1), got {confidence!r}")
    arms = {name: _runs_by_tasks(s, name) for name, s in scores.items()}
    if not arms:
        raise ValueError("scores: expected at least one arm")
    names = list(arms)
    tasks = {s.shape[1] for s in arms.values()}
    if len(tasks) != 1:
        raise ValueError(f"scores: every arm must be scored on the same tasks, got {sorted(tasks)} tasks")
    pairs = [(a, names[0]) for a in names[1:]] if pairs is None else [tuple(p) for p in pairs]
    for a, b in pairs:
        if a not in arms or b not in arms:
            raise ValueError(f"pairs: ({a!r}, {b!r}) names an arm not in scores ({', '.join(names)})")
    seeds = {name: s.shape[0] for name, s in arms.items()}
    few = sorted(name for name, n in seeds.items() if n < min_seeds)
    omitted = None
    if few:
        omitted = (f"seeds per arm {', '.join(f'{name} {seeds[name]}' for name in few)}, fewer than "
                   f"{min_seeds}")
    rng = np.random.default_rng(seed)
    boot = {}
    if omitted is None:
        for name, s in arms.items():  # runs resampled within each task (rliable's stratified bootstrap)
            runs, t = s.shape
            idx = rng.integers(0, runs, size=(n_resamples, runs, t))
            boot[name] = np.take_along_axis(s[None], idx, axis=1)
    alpha = (1 - confidence) / 2

    def interval_of(value: float, samples: np.ndarray | None, n: int) -> Interval:
        if samples is None:
            return Interval(float(value), float("nan"), float("nan"), n, confidence)
        low, high = np.quantile(samples, [alpha, 1 - alpha])
        return Interval(float(value), float(low), float(high), n, confidence)

    point = {name: float(iqm(s.ravel())) for name, s in arms.items()}
    boot_iqm = {name: iqm(b.reshape(n_resamples, -1), axis=1) for name, b in boot.items()}
    values = {name: interval_of(point[name], boot_iqm.get(name), arms[name].size) for name in names}
    differences, improvement = {}, {}
    for a, b in pairs:
        n = arms[a].size + arms[b].size
        diff = boot_iqm[a] - boot_iqm[b] if boot else None
        differences[(a, b)] = interval_of(point[a] - point[b], diff, n)
        poi = _improvement(boot[a], boot[b]) if boot else None
        improvement[(a, b)] = interval_of(probability_of_improvement(arms[a], arms[b]), poi, n)
    return Comparison(values, differences, improvement, seeds, tasks.pop(), omitted)
