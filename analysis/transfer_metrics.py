"""Taylor & Stone (2009) transfer metrics from two learning curves: with transfer and from scratch.

A curve is (x, y): samples trained on and performance (meals per fisher-day) measured there.
Both learners get the same budget in the same target world; the transfer learner starts from
weights trained elsewhere. Metrics (Taylor & Stone 2009, JMLR 10, section 3.1):

    jumpstart            y_transfer(0) - y_scratch(0): how much better it starts
    asymptotic           the difference of the final performance (mean of the last `tail`
                         points of each curve): does the head start last?
    total_transfer,      the areas under the curves (trapezoid rule over the common x range):
    total_scratch        the "total reward" each learner collected while learning
    transfer_ratio       total_transfer / total_scratch
    area_ratio           (total_transfer - total_scratch) / total_scratch
    time_to_threshold    samples until each curve first reaches `threshold` (linear
                         interpolation between points; None if never); time_saved is the
                         scratch time minus the transfer time (None if scratch never gets there;
                         then `reached` says who did)

The threshold defaults to `threshold_fraction` (0.8) of the better final performance of the
two, so that it is reachable by at least one learner. Areas depend on where y = 0 lies;
meals per day are >= 0 and 0 means starving, so they are meaningful as they are.
Over several seeds, `summarize_pairs` pairs curves by seed and gives each metric its IQM
(4+ seeds, else the mean) and a bootstrap interval over seeds (analysis.stats; none below 3 seeds).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from analysis import stats

Curve = tuple[Sequence[float], Sequence[float]]
METRICS = ("jumpstart", "asymptotic", "total_transfer", "total_scratch", "transfer_ratio", "area_ratio",
           "time_transfer", "time_scratch", "time_saved")


def _curve(curve: Curve, name: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(curve[0], dtype=np.float64)
    y = np.asarray(curve[1], dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or x.size < 2:
        raise ValueError(f"{name}: expected (x, y) of the same length >= 2, got {x.shape} and {y.shape}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError(f"{name}: x and y must be finite")
    if np.any(np.diff(x) <= 0):
        raise ValueError(f"{name}: x (samples) must increase")
    return x, y


def area(x: np.ndarray, y: np.ndarray, end: float) -> float:
    """Area under a piecewise-linear curve from x[0] to `end` (interpolated at `end`)."""
    keep = x < end
    xs = np.append(x[keep], end)
    ys = np.append(y[keep], np.interp(end, x, y))
    return float(np.trapezoid(ys, xs))


def time_to(x: np.ndarray, y: np.ndarray, threshold: float) -> float | None:
    """The first x at which the curve reaches threshold (interpolated), or None."""
    hit = np.flatnonzero(y >= threshold)
    if hit.size == 0:
        return None
    i = int(hit[0])
    if i == 0:
        return float(x[0])
    x0, x1, y0, y1 = x[i - 1], x[i], y[i - 1], y[i]
    return float(x0 + (threshold - y0) / (y1 - y0) * (x1 - x0))


def transfer_metrics(transfer: Curve, scratch: Curve, threshold: float | None = None,
                     threshold_fraction: float = 0.8, tail: int = 1) -> dict[str, Any]:
    """The metrics of one pair of curves (see the module docstring); JSON-serialisable."""
    xt, yt = _curve(transfer, "transfer")
    xs, ys = _curve(scratch, "scratch")
    if tail < 1:
        raise ValueError(f"tail: expected an integer >= 1, got {tail!r}")
    start, end = max(xt[0], xs[0]), min(xt[-1], xs[-1])
    if end <= start:
        raise ValueError("the two curves share no range of samples")
    final_t, final_s = float(yt[-tail:].mean()), float(ys[-tail:].mean())
    if threshold is None:
        threshold = threshold_fraction * max(final_t, final_s)
    at, as_ = area(xt[xt >= start], yt[xt >= start], end), area(xs[xs >= start], ys[xs >= start], end)
    tt, ts = time_to(xt, yt, threshold), time_to(xs, ys, threshold)
    ratio = at / as_ if as_ > 0 else None
    return {
        "jumpstart": float(yt[0] - ys[0]),
        "start_transfer": float(yt[0]), "start_scratch": float(ys[0]),
        "asymptotic": final_t - final_s, "final_transfer": final_t, "final_scratch": final_s,
        "total_transfer": at, "total_scratch": as_,
        "transfer_ratio": ratio, "area_ratio": None if ratio is None else ratio - 1.0,
        "threshold": float(threshold), "time_transfer": tt, "time_scratch": ts,
        "time_saved": None if tt is None or ts is None else ts - tt,
        "reached": {"transfer": tt is not None, "scratch": ts is not None},
        "range": [float(start), float(end)],
    }


def summarize_pairs(pairs: Sequence[tuple[Curve, Curve]], threshold: float | None = None,
                    threshold_fraction: float = 0.8, tail: int = 1, seed: int = 0) -> dict[str, Any]:
    """Metrics of several (transfer, scratch) pairs, one per seed: each metric's IQM and 95% interval.

    One threshold for all pairs (given, or the fraction of the best final performance over all
    curves), so that times are comparable across seeds.
    """
    if not pairs:
        raise ValueError("pairs: expected at least one (transfer, scratch) pair")
    if threshold is None:
        finals = [float(np.mean(np.asarray(c[1], dtype=np.float64)[-tail:])) for p in pairs for c in p]
        threshold = threshold_fraction * max(finals)
    per_seed = [transfer_metrics(t, s, threshold=threshold, tail=tail) for t, s in pairs]
    out: dict[str, Any] = {"threshold": threshold, "n_seeds": len(pairs), "per_seed": per_seed, "metrics": {}}
    for name in METRICS:
        values = [m[name] for m in per_seed if m[name] is not None]
        if not values:
            out["metrics"][name] = None
            continue
        iv = stats.interval(values, "iqm" if len(values) >= 4 else "mean", seed=seed)
        entry = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                 for k, v in iv.to_dict().items()}
        if len(values) < 3:  # a bootstrap of 1-2 seeds says nothing: no interval rather than a false one
            entry["low"] = entry["high"] = None
        out["metrics"][name] = entry
        out["metrics"][name]["missing"] = len(per_seed) - len(values)
    return out
