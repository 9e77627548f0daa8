"""What every study report shares: per-world normalised scores, intervals as text, the starving rule.

Helpers of experiments.report and of the reports with their own module (report_teach,
report_thesis): kept here so no report module imports another.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from agents.references import NORMALISE  # noqa: E402
from analysis.stats import MIN_SEEDS, Comparison, Interval, iqm, normalise, stratified_interval  # noqa: E402
from analysis.transfer_metrics import summarize_pairs  # noqa: E402
from worlds.registry import breadth as pool_breadth  # noqa: E402

SKILL_ORDER = ("patience", "weather_reading", "knowing_fish", "survival", "feeding", "sheltering")
NORMALISED = (f"normalised meals per fisher-day ((x - {NORMALISE[0]}) / (tuned {NORMALISE[1]} - "
              f"{NORMALISE[0]}))")
STARVING = "every arm starves in every test world:\nnot ranked"
NAN = float("nan")


def _iv(values: Any, min_units: int = MIN_SEEDS) -> Interval:
    """IQM over independent units (seeds) with a 95% percentile-bootstrap interval; fewer than
    `min_units` units: the IQM alone (NaN bounds; _fmt says "no interval")."""
    a = np.asarray(values, dtype=float).ravel()
    a = a[~np.isnan(a)]
    if a.size == 0:
        return Interval(NAN, NAN, NAN, 0)
    if a.size < min_units:
        return Interval(float(iqm(a)), NAN, NAN, int(a.size))
    return stratified_interval(a[:, None], "iqm")


def _fmt(iv: Interval) -> str:
    if math.isnan(iv.value):
        return "n/a"
    if math.isnan(iv.low):
        return f"{iv.value:.3g} (n={iv.n}, no interval)"
    return f"{iv.value:.3g} [{iv.low:.3g}, {iv.high:.3g}]"


def _few(n: int, what: str = "seeds") -> str:
    """Why intervals are missing, or ''."""
    if n >= MIN_SEEDS:
        return ""
    return f"; {n} {what}, fewer than {MIN_SEEDS}: no intervals, so nothing counts as clear"


def seed_scores(evals: pd.DataFrame, metric: str = "meals_per_day") -> pd.DataFrame:
    """Per (arm, seed, world): the metric's mean over simulated worlds."""
    df = evals[evals.metric == metric]
    return df.groupby(["arm", "seed", "world"], as_index=False)["value"].mean()


def normalised_scores(t: dict[str, pd.DataFrame], worlds: list[str]) -> pd.DataFrame:
    """Per (arm, seed, world): meals per fisher-day normalised in each world by its references
    (their mean over the same simulated worlds): (x - random) / (expert - random).

    Raises ValueError naming the worlds without both references (a study folder from before the
    reference tasks: rerun it to add them) or whose expert is no better than random."""
    scores = seed_scores(t["evaluations"])
    refs = t.get("references", pd.DataFrame(columns=["reference", "world", "metric", "value"]))
    refs = refs[refs.metric == "meals_per_day"].groupby(["reference", "world"]).value.mean()
    floor, top = NORMALISE
    missing = [w for w in worlds if (floor, w) not in refs.index or (top, w) not in refs.index]
    if missing:
        raise ValueError(f"no {floor} and {top} reference results in {', '.join(missing)}: normalised scores "
                         f"need the reference/NAME/WORLD tasks (rerun the study to add them)")
    flat = [w for w in worlds if not refs[(top, w)] > refs[(floor, w)]]
    if flat:
        raise ValueError(f"the tuned {top} eats no more than {floor} in {', '.join(flat)}: nothing to "
                         f"normalise by")
    scores = scores[scores.world.isin(worlds)].copy()
    scores["value"] = normalise(scores.value.to_numpy(), [refs[(floor, w)] for w in scores.world],
                                [refs[(top, w)] for w in scores.world])
    return scores


def _matrix(scores: pd.DataFrame, arm: str, worlds: list[str]) -> np.ndarray:
    """(seeds, worlds) of one arm, seeds missing a world dropped."""
    wide = scores[scores.arm == arm].pivot(index="seed", columns="world", values="value")
    wide = wide.reindex(columns=worlds).dropna()
    return wide.to_numpy()


def all_starve(evals: pd.DataFrame, arms: list[str], worlds: list[str]) -> bool:
    """True when no fisher of any arm is alive at the end of any evaluation in these worlds
    (survival 0 everywhere): a comparison of such arms answers nothing."""
    sv = evals[(evals.metric == "survival") & evals.arm.isin(arms) & evals.world.isin(worlds)].value
    return len(sv) > 0 and bool((sv.fillna(0) <= 0).all())


def _starving_part(arms: list[str], worlds: list[str], evals: pd.DataFrame) -> tuple[str, list[str], Any]:
    """The answer when every arm starves: say so, rank nothing (no values side by side)."""
    n = evals[(evals.metric == "survival") & evals.arm.isin(arms)].groupby(["arm", "seed", "world"]).ngroups
    sentence = (f"every arm ({', '.join(arms)}) starves in every test world ({', '.join(worlds)}): no fisher "
                f"is alive at the end of any of the {n} evaluations, so this comparison answers nothing and "
                f"the arms are not ranked")
    fig, ax = plt.subplots(figsize=(6, 2))
    ax.set_axis_off()
    ax.text(0.5, 0.5, STARVING, ha="center", va="center")
    return sentence, [f"Survival at the end: 0 for every arm, seed and world ({n} evaluations)."], fig


def _comparison(c: Comparison, a: str, b: str) -> str:
    """'A v_a and B v_b; difference d, P(A > B) p' from one compare_arms result."""
    return (f"{a} {_fmt(c.values[a])} and {b} {_fmt(c.values[b])}; difference of the IQMs "
            f"{_fmt(c.differences[(a, b)])}, probability that {a} beats {b} {_fmt(c.improvement[(a, b)])}")


def _omitted(c: Comparison) -> str:
    return f" (intervals omitted: {c.omitted})" if c.omitted else ""


def _bars(ax, labels: list[str], ivs: list[Interval], color: str | list[str] | None = None,
          offset: float = 0.0, width: float = 0.8, label: str | None = None) -> None:
    x = np.arange(len(labels)) + offset
    vals = np.array([v.value for v in ivs])
    err = np.array([[v.value - v.low for v in ivs], [v.high - v.value for v in ivs]])
    ax.bar(x, vals, width, yerr=np.nan_to_num(err), capsize=3, color=color, label=label)


def _finetune_part(t, ax) -> tuple[str, list[str]]:
    """Fine-tuned vs from scratch in the same world with the same budget: Taylor & Stone's metrics
    (analysis.transfer_metrics), the curves paired by seed and world."""
    curves = t["curves"]
    ft = curves[curves.role == "finetune"]
    if ft.empty:
        ax.set_axis_off()
        skipped = t["tasks"][(t["tasks"].kind == "finetune") & (t["tasks"].status != "done")]
        why = skipped.error.iloc[0] if len(skipped) else "no fine-tuning in this spec"
        return f"fine-tuning was not measured ({why})", []
    scratch = curves[curves.role == "scratch"]
    pairs = []
    for (_arm, seed, world), a in ft.groupby(["arm", "seed", "world"]):
        b = scratch[(scratch.seed == seed) & (scratch.world == world)]
        a, b = a.dropna(subset=["meals_per_day"]), b.dropna(subset=["meals_per_day"])
        if len(a) >= 2 and len(b) >= 2:
            pairs.append(((a.timesteps.to_numpy(), a.meals_per_day.to_numpy()),
                          (b.timesteps.to_numpy(), b.meals_per_day.to_numpy())))
    for role, df in (("fine-tuned", ft), ("from scratch", scratch)):
        mean = df.groupby("timesteps").meals_per_day.mean()
        ax.plot(mean.index, mean.to_numpy(), marker="o", label=role)
    ax.set_xlabel("samples in the new world")
    ax.set_ylabel("meals per fisher-day (mean over runs)")
    ax.legend()
    if not pairs:
        return "fine-tuning curves too short to compare", []
    m = summarize_pairs(pairs)["metrics"]

    def show(name: str) -> str:
        e = m.get(name)
        if not e:
            return "n/a"
        if e["low"] is None or e["n"] < MIN_SEEDS:  # fewer than MIN_SEEDS pairs: no interval
            return f"{e['value']:.3g} (n={e['n']}, no interval)"
        return f"{e['value']:.3g} [{e['low']:.3g}, {e['high']:.3g}]"

    lines = [f"Fine-tuned vs from scratch, {len(pairs)} pairs of learning curves (Taylor & Stone 2009, "
             f"analysis.transfer_metrics):", "", "| metric | value |", "|---|---|"]
    names = ("jumpstart", "asymptotic", "area_ratio", "time_saved")
    lines += [f"| {name} | {show(name)} |" for name in names]
    sentence = (f"fine-tuned there it starts {show('jumpstart')} meals per day above training from scratch "
                f"(jumpstart) and ends {show('asymptotic')} above it with the same budget")
    return sentence, lines


def breadth(arm: dict[str, Any]) -> int:
    """How many worlds an arm trained on (the breadth knob)."""
    return 1 if arm.get("worlds") is None else pool_breadth(arm["worlds"])
