"""The thesis study's report: does breadth beat the specialist, and does compute make it so?

The talk behind the project claims that a generalist given more compute overtakes the
specialist, on worlds neither saw and in the end on the specialist's own world. The study
(`experiments/studies/thesis.toml`) trains one family of arms per breadth (the lake alone; 10,
100, 1000 generated worlds), each at several multiples of one budget (`[train] budgets`,
`experiments.spec.with_budgets`: arm NAME-xB). This report compares, at each budget, every
generalist with the specialist of the same budget (`analysis.stats.compare_arms`: the IQM of
normalised meals over seeds x worlds, the difference of the IQMs and the probability of
improvement from one stratified bootstrap), on the held-out worlds and on the specialist's own
world apart.

"Overtakes" means the difference's 95% interval lies above 0. With fewer than MIN_SEEDS seeds
there are no intervals, nothing counts as overtaking, and the report says so.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from analysis.stats import Comparison, compare_arms
from experiments.report_parts import (
    NORMALISED,
    _fmt,
    _matrix,
    _starving_part,
    all_starve,
    breadth,
    normalised_scores,
)


def overtakes(c: Comparison, a: str, b: str) -> bool:
    """a's IQM clear above b's: the difference's lower bound above 0 (never without an interval)."""
    d = c.differences[(a, b)]
    return not math.isnan(d.low) and d.low > 0


def _families(spec: dict[str, Any], arms_seen: set[str]) -> dict[str, dict[int, dict[str, Any]]]:
    """{family: {budget: arm}} of the trained arms with evaluations, families ordered by breadth."""
    out: dict[str, dict[int, dict[str, Any]]] = {}
    for arm in sorted((a for a in spec["arms"] if "policy" not in a and a["name"] in arms_seen), key=breadth):
        out.setdefault(arm.get("family", arm["name"]), {})[arm.get("budget", 1)] = arm
    return out


def _compare(scores, families, budget: int, worlds: list[str], base: str) -> Comparison | None:
    """The arms of one budget on these worlds, each generalist against the specialist `base`."""
    mats = {fam[budget]["name"]: _matrix(scores, fam[budget]["name"], worlds)
            for fam in families.values() if budget in fam}
    mats = {k: m for k, m in mats.items() if m.size}
    if base not in mats or len(mats) < 2:
        return None
    return compare_arms(mats, pairs=[(a, base) for a in mats if a != base])


def thesis(spec: dict[str, Any], t: dict[str, Any]) -> tuple[str, list[str], Any]:
    """(answer, table lines, figure) of a thesis study folder's tables."""
    evals = t["evaluations"]
    families = _families(spec, set(evals.arm))
    if len(families) < 2:
        raise ValueError("the thesis needs a specialist and at least one generalist with evaluations")
    specialist = next(iter(families.values()))
    home = next(iter(specialist.values()))["world"]
    worlds = spec["evaluate"]["worlds"]
    held = [w for w in worlds if w != home]
    names = [a["name"] for fam in families.values() for a in fam.values()]
    if all_starve(evals, names, worlds):
        sentence, lines, fig = _starving_part(names, worlds, evals)
        return f"On {len(worlds)} test worlds {sentence}.", lines, fig
    scores = normalised_scores(t, worlds)
    budgets = sorted({b for fam in families.values() for b in fam})
    parts = {"held-out": held, home: [home] if home in worlds else []}
    results: dict[tuple[str, int], Comparison] = {}
    for part, ws in parts.items():
        for b in budgets:
            if ws and b in specialist:
                c = _compare(scores, families, b, ws, specialist[b]["name"])
                if c is not None:
                    results[(part, b)] = c
    if not results:
        raise ValueError(f"no budget has the specialist and a generalist evaluated in every world of "
                         f"{', '.join(worlds)}")

    fig, axes = plt.subplots(1, len([p for p in parts if parts[p]]), figsize=(11, 4), squeeze=False)
    lines = [f"{NORMALISED}; at each budget every arm's IQM over seeds x worlds (stratified bootstrap), its "
             f"difference from the specialist of the same budget and the probability of beating it under "
             f"the same resamples. Held-out: {', '.join(held)}.", "",
             "| arm | training worlds | budget | part | seeds | normalised meals (IQM) | minus specialist "
             "| P(beats specialist) |", "|---|---|---|---|---|---|---|---|"]
    for ax, (part, ws) in zip(axes[0], [(p, w) for p, w in parts.items() if w], strict=True):
        for k, (family, fam) in enumerate(families.items()):
            xs, ivs = [], []
            for b in budgets:
                c = results.get((part, b))
                if c is None or b not in fam or fam[b]["name"] not in c.values:
                    continue
                name, base = fam[b]["name"], specialist[b]["name"]
                xs.append(b)
                ivs.append(c.values[name])
                vs = ["-", "-"] if name == base else [_fmt(c.differences[(name, base)]),
                                                      _fmt(c.improvement[(name, base)])]
                lines.append(f"| {name} | {breadth(fam[b])} | x{b} | {part} | {c.seeds[name]} | "
                             f"{_fmt(c.values[name])} | {' | '.join(vs)} |")
            err = [[v.value - v.low for v in ivs], [v.high - v.value for v in ivs]]
            ax.errorbar(np.array(xs) * (1 + 0.04 * k), [v.value for v in ivs], yerr=np.nan_to_num(err),
                        marker="o", capsize=3, label=f"{family} ({breadth(next(iter(fam.values())))} worlds)")
        ax.set_xscale("log", base=2)
        ax.set_xticks(budgets, [f"x{b}" for b in budgets])
        ax.axhline(1.0, color="grey", ls=":")
        ax.set_xlabel(f"budget (multiples of {spec['train']['steps']:,} samples)")
        ax.set_ylabel("normalised meals (IQM, 95% CI)\n0 random, 1 tuned expert")
        ax.set_title(f"{part} ({len(ws)} world{'s' if len(ws) > 1 else ''})", fontsize=10)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return _answer(results, families, specialist, home, held, budgets), lines, fig


def _answer(results, families, specialist, home, held, budgets) -> str:
    """Where a generalist first overtakes the specialist on the held-out worlds, and whether one does on
    the specialist's own world at the largest budget."""
    omitted = next((c.omitted for c in results.values() if c.omitted), None)
    first = None
    for b in budgets:
        c = results.get(("held-out", b))
        base = specialist[b]["name"] if b in specialist else None
        wins = [f for f, fam in families.items() if c and b in fam and fam[b]["name"] != base
                and overtakes(c, fam[b]["name"], base)]
        if wins:
            first = (b, wins)
            break
    if first:
        b, wins = first
        c = results[("held-out", b)]
        base = specialist[b]["name"]
        each = "; ".join(f"{families[f][b]['name']} ({breadth(families[f][b])} worlds) minus {base} "
                         f"{_fmt(c.differences[(families[f][b]['name'], base)])}" for f in wins)
        held_part = (f"on {len(held)} held-out worlds a generalist first overtakes the specialist at "
                     f"x{b}: {each}")
    else:
        held_part = (f"on {len(held)} held-out worlds no generalist overtakes the specialist at any budget "
                     f"({', '.join(f'x{b}' for b in budgets)})")
    top = budgets[-1]
    c = results.get((home, top))
    if c is None:
        home_part = f"on {home} itself there is no comparison at x{top}"
    else:
        broad = list(families)[-1]
        name, base = families[broad][top]["name"], specialist[top]["name"]
        verdict = "overtakes" if overtakes(c, name, base) else "does not overtake"
        home_part = (f"on {home} itself, at the largest budget (x{top}), the broadest generalist {verdict} "
                     f"the specialist: {name} {_fmt(c.values[name])} against {base} {_fmt(c.values[base])}, "
                     f"difference {_fmt(c.differences[(name, base)])}")
    tail = f" (intervals omitted: {omitted}; nothing counts as overtaking)" if omitted else ""
    return f"In normalised meals (0 = random, 1 = the tuned expert), {held_part}; {home_part}{tail}."

