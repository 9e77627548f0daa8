"""The teach-vs-incentivize report: the eating reward against teaching, each tuned as fairly.

Arms are of two kinds: incentivized (`reward = "eat"`) and taught (any other reward: `shaped`,
potential-based shaping, or the older additive `taught`). Each kind may come in several
settings (the eating arm's entropy, the shaping's scale: the same number of tries for each)
and, with `[train] budgets`, at several budgets. At each budget the report picks, per kind,
the setting whose learning curve ends highest in its curve world (the lake: a world in neither
the training pool nor the test worlds, so the choice never sees a test world), then compares
the two picks:

- weather reading in the focus world (the mirror, where fish bite in sunshine: reading the sky
  there is not the lake's rule), IQM over seeds;
- zero-shot normalised meals on the held-out worlds (`analysis.stats.compare_arms`);
- learning speed: meals per day in the curve world early (the first curve point at or past a
  quarter of the smallest budget) and late (the last point of the largest budget);
- fine-tuning in the mirror against training there from scratch (Taylor & Stone's metrics).
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from analysis.stats import Comparison, compare_arms, iqm
from experiments.report_parts import (
    NORMALISED,
    SKILL_ORDER,
    STARVING,
    _bars,
    _comparison,
    _finetune_part,
    _fmt,
    _iv,
    _matrix,
    _omitted,
    _starving_part,
    all_starve,
    normalised_scores,
)

REWARD_KINDS = ("incentivized", "taught")


def kind_of(arm: dict[str, Any]) -> str:
    """incentivized for the eating reward alone, taught for any teaching (see `pick` for references)."""
    return "incentivized" if arm.get("reward", "eat") == "eat" else "taught"


def pick(spec: dict[str, Any], curves: pd.DataFrame, arms_seen: set[str]) -> tuple[dict, list[str]]:
    """{(kind, budget): arm name} of the setting whose training curve ends highest (IQM over seeds of
    its last point's meals per day), and lines saying what was chosen among what."""
    groups: dict[tuple[str, int], list[str]] = {}
    for arm in spec["arms"]:
        if "policy" not in arm and arm["name"] in arms_seen:
            groups.setdefault((kind_of(arm), arm.get("budget", 1)), []).append(arm["name"])
    # without a trained taught arm, a scripted reference (all skills written in) takes the taught side
    references = [a["name"] for a in spec["arms"] if "policy" in a and a["name"] in arms_seen]
    if references and not any(kind == "taught" for kind, _ in groups):
        for budget in {b for _, b in groups}:
            groups[("taught", budget)] = references
    train = curves[curves.role == "train"] if len(curves) else curves
    chosen, lines = {}, []
    for key, names in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        ends = {}
        for name in names:
            c = train[train.arm == name] if len(train) else train
            if len(c):
                last = c[c.timesteps == c.timesteps.max()].meals_per_day.dropna()
                ends[name] = float(iqm(last.to_numpy())) if len(last) else -math.inf
        best = max(ends, key=ends.get) if ends else names[0]
        chosen[key] = best
        if len(names) > 1:
            tries = ", ".join(f"{n} {ends[n]:.3g}" if n in ends else f"{n} n/a" for n in names)
            lines.append(f"- {key[0]} at x{key[1]}: {best} (training curve's end, IQM over seeds: {tries})")
    return chosen, lines


def _speed(curves: pd.DataFrame, inc: str, taught: str, at: str) -> tuple[int | None, Comparison | None]:
    """Meals per day in the curve world of the two arms at the first point at or past `at` samples
    (or their last point, for at = "end"): (samples, comparison)."""
    train = curves[(curves.role == "train") & curves.arm.isin([inc, taught])] if len(curves) else curves
    if not len(train):
        return None, None
    if at == "end":
        step = int(train.timesteps.max())
    else:
        later = train.timesteps[train.timesteps >= int(at)]
        if not len(later):
            return None, None
        step = int(later.min())
    at_step = train[train.timesteps == step]
    per = {a: at_step[at_step.arm == a].groupby("seed").meals_per_day.mean().dropna().to_numpy()
           for a in (inc, taught)}
    if any(len(v) == 0 for v in per.values()):
        return step, None
    return step, compare_arms({a: v[:, None] for a, v in per.items()}, pairs=[(inc, taught)])


def teach(spec: dict[str, Any], t: dict[str, Any]) -> tuple[str, list[str], Any]:
    """(answer, table lines, figure) of a teach-vs-incentivize study folder's tables."""
    evals, probes = t["evaluations"], t["probes"]
    curves = t.get("curves", pd.DataFrame(columns=["arm", "seed", "role", "timesteps", "meals_per_day"]))
    seen = set(evals.arm) | set(probes.arm)
    chosen, choice_lines = pick(spec, curves, seen)
    budgets = sorted(b for b in {b for _, b in chosen} if all((k, b) in chosen for k in REWARD_KINDS))
    if not budgets:
        raise ValueError("no budget has both an incentivized and a taught arm with results")
    top = budgets[-1]
    inc, taught = chosen[("incentivized", top)], chosen[("taught", top)]
    focus = "mirror" if "mirror" in set(probes.world) else (sorted(set(probes.world)) or ["lake"])[0]
    wr = probes[(probes.world == focus) & (probes.skill == "weather_reading")]
    a, b = (wr[wr.arm == n].groupby("seed").value.mean().dropna() for n in (inc, taught))
    if not len(a) or not len(b):
        raise ValueError(f"no weather reading of {inc} or {taught} in {focus}")
    reading = compare_arms({inc: a.to_numpy()[:, None], taught: b.to_numpy()[:, None]}, pairs=[(inc, taught)])
    worlds = spec["evaluate"]["worlds"] if "evaluate" in spec else []
    skills = [s for s in SKILL_ORDER if s in set(probes.skill)]
    fig = plt.figure(figsize=(13, 4.5))
    grid = fig.add_gridspec(2, 3 + max(1, math.ceil(len(skills) / 2)))
    meals_ax, ft_ax = fig.add_subplot(grid[:, :2]), fig.add_subplot(grid[:, 2])
    picked = choice_lines or ["- one setting per kind: nothing to pick"]
    lines = ["Settings picked per kind and budget (the learning curve's last point in its curve world; "
             "no test world is seen):", "", *picked, ""]
    names = [chosen[(k, b)] for b in budgets for k in REWARD_KINDS]
    if all_starve(evals, names, worlds):
        held_out, starving_lines, _ = _starving_part(names, worlds, evals)
        lines += starving_lines
        meals_ax.set_axis_off()
        meals_ax.text(0.5, 0.5, STARVING, ha="center", va="center")
    else:
        held_out = _held_out(t, worlds, budgets, chosen, meals_ax, lines)
    early_at = max(1, spec.get("train", {}).get("steps", 4) // 4)
    speed = []
    for label, at in (("early", early_at), ("late", "end")):
        step, c = _speed(curves, inc, taught, at)
        if c is not None:
            speed.append(f"{label} (at {step:,} samples) {_comparison(c, inc, taught)}{_omitted(c)}")
    ft_t = {**t, "curves": curves[curves.arm.isin([inc, taught]) | curves.arm.str.startswith("scratch-")]
            if len(curves) else curves}
    ft_sentence, ft_lines = _finetune_part(ft_t, ft_ax) if "tasks" in t else ("fine-tuning not measured", [])
    lines += ["", *ft_lines]
    for j, skill in enumerate(skills):
        ax = fig.add_subplot(grid[j % 2, 3 + j // 2])
        sub = probes[(probes.world == focus) & (probes.skill == skill)]
        ivs = [_iv(sub[sub.arm == arm].groupby("seed").value.mean()) for arm in (inc, taught)]
        _bars(ax, [inc, taught], ivs, color=["C0", "C1"])
        ax.set_xticks(range(2), [inc, taught], fontsize=8)
        ax.set_title(f"{skill} in {focus}", fontsize=9)
    fig.tight_layout()
    sentence = (f"At the largest budget (x{top}), in the {focus} world the incentivized fisher's weather "
                f"reading against the taught one's (IQM over {len(a)} and {len(b)} seeds): "
                f"{_comparison(reading, inc, taught)}{_omitted(reading)}; {held_out}; learning speed in "
                f"the curve world, meals per day: {'; '.join(speed) or 'no learning curves'}; "
                f"{ft_sentence}.")
    return sentence, lines, fig


def _held_out(t, worlds, budgets, chosen, ax, lines) -> str:
    """Normalised meals of the two picks at each budget on the held-out worlds (table lines, bars)."""
    scores = normalised_scores(t, worlds)
    lines += [f"Held-out worlds, {NORMALISED}: IQM over seeds per world; all worlds: IQM over seeds x "
              f"worlds (stratified bootstrap), the incentivized pick minus the taught one, and the "
              f"probability that it beats it under the same resamples.", "",
              "| budget | arm | " + " | ".join(worlds) + " | all | incentivized minus taught | P(beats) |",
              "|---|---|" + "---|" * (len(worlds) + 3)]
    answer, width = "", 0.8 / (2 * len(budgets))
    for i, b in enumerate(budgets):
        inc, taught = chosen[("incentivized", b)], chosen[("taught", b)]
        mats = {n: _matrix(scores, n, worlds) for n in (inc, taught)}
        if any(m.size == 0 for m in mats.values()):
            raise ValueError(f"no evaluation of {inc} or {taught} in every world of {', '.join(worlds)}")
        c = compare_arms(mats, pairs=[(inc, taught)])
        for k, name in enumerate((inc, taught)):
            ivs = [_iv(mats[name][:, j]) for j in range(len(worlds))]
            _bars(ax, worlds, ivs, offset=(2 * i + k - len(budgets) + 0.5) * width, width=width,
                  label=f"{name} (x{b})")
            vs = [_fmt(c.differences[(inc, taught)]), _fmt(c.improvement[(inc, taught)])] if name == inc \
                else ["-", "-"]
            lines.append(f"| x{b} | {name} | " + " | ".join(_fmt(v) for v in ivs)
                         + f" | {_fmt(c.values[name])} | " + " | ".join(vs) + " |")
        answer = (f"on the held-out worlds at x{b} (normalised meals, 0 = random, 1 = the tuned expert; IQM "
                  f"over seeds x worlds) {_comparison(c, inc, taught)}{_omitted(c)}")
    ax.set_xticks(range(len(worlds)), worlds, rotation=30)
    ax.axhline(1.0, color="grey", ls=":")
    ax.set_ylabel("normalised meals (IQM over seeds, 95% CI)\n0 random, 1 tuned expert")
    ax.legend(fontsize=7)
    return answer

