"""A study's report: one sentence that answers its question, one figure, the numbers behind them.

Every number is over seeds (the independent training runs; a run's simulated worlds are
averaged first), as an interquartile mean with a 95% percentile-bootstrap interval from
analysis.stats. Meals in several test worlds are first normalised per world,
(x - random) / (expert - random) with the scripted references every evaluation world gets
(agents.references.NORMALISE: random, the tuned expert; 0 is random's level, 1 the expert's),
so a rich world cannot outweigh a poor one; arms are then compared by
analysis.stats.compare_arms: each arm's IQM over seeds x worlds, the difference of those IQMs
and the probability of improvement, all under one stratified bootstrap (seeds resampled within
each world). With fewer than five seeds (analysis.stats.MIN_SEEDS) no interval is shown and the
report says why; a comparison in which every arm starves (no fisher alive at the end of any
evaluation) says so and ranks nothing.

    report.md, report.png     in the study folder, beside tables/*.csv
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.stats import MIN_SEEDS, Interval, compare_arms, iqm, paired_difference  # noqa: E402
from experiments.report_parts import (  # noqa: E402
    NAN,
    NORMALISED,
    SKILL_ORDER,
    STARVING,
    _comparison,
    _few,
    _finetune_part,
    _fmt,
    _iv,
    _matrix,
    _omitted,
    _starving_part,
    all_starve,
    breadth,
    normalised_scores,
)
from experiments.report_teach import teach  # noqa: E402
from experiments.report_thesis import thesis  # noqa: E402
from experiments.tables import write_tables  # noqa: E402

# --- one function per kind of study ----------------------------------------------------------------

def _change(df: pd.DataFrame, step: int, start: int) -> Interval:
    """The paired change of a skill (checkpoint x seed table) from `start` to `step`: no interval
    below MIN_SEEDS seeds."""
    d = paired_difference(df.loc[step].to_numpy(), df.loc[start].to_numpy())
    return d if d.n >= MIN_SEEDS else Interval(d.value, NAN, NAN, d.n)


def _improved(d: Interval, lower_is_better: bool) -> bool:
    """The whole interval of a change on the improving side of 0 (no interval: never)."""
    return bool(d.high < 0) if lower_is_better else bool(d.low > 0)


def _emergence(spec, t) -> tuple[str, list[str]]:
    probes = t["probes"][t["probes"].checkpoint >= 0]
    skills = [s for s in SKILL_ORDER if s in set(probes.skill)] or sorted(set(probes.skill))
    world = spec["probe"]["worlds"][0]
    probes = probes[probes.world == world]
    # a skill can be unmeasurable at every checkpoint (knowing fish when no fisher ever cast)
    unmeasured = [s for s in skills if not probes[probes.skill == s].value.notna().any()]
    skills = [s for s in skills if s not in unmeasured]
    n = probes.seed.nunique()
    fig, axes = plt.subplots(1, len(skills), figsize=(3.2 * len(skills), 3), squeeze=False)
    appeared, lines = [], ["| skill | better when | at start | at the end | change (paired over seeds) | "
                           "first checkpoint clearly better than the start |", "|---|---|---|---|---|---|"]
    for ax, skill in zip(axes[0], skills, strict=True):
        sub = probes[probes.skill == skill]
        # a distance (patience: ticks from the best give-up time) improves by falling
        lower = "higher_is" in sub and (sub.higher_is == "worse").any()
        df = sub.pivot_table(index="checkpoint", columns="seed", values="value")
        steps = df.index.to_numpy()
        ivs = [_iv(df.loc[s].dropna()) for s in steps]
        ax.plot(steps, [v.value for v in ivs], marker="o")
        ax.fill_between(steps, [v.low for v in ivs], [v.high for v in ivs], alpha=0.25)
        ax.set_title(f"{skill} ({'lower' if lower else 'higher'} is better)")
        ax.set_xlabel("training samples")
        first = next((int(s) for s in steps[1:] if _improved(_change(df, s, steps[0]), lower)), None)
        end = _change(df, steps[-1], steps[0])
        lines.append(f"| {skill} | {'lower' if lower else 'higher'} | {_fmt(ivs[0])} | {_fmt(ivs[-1])} | "
                     f"{_fmt(end)} | {'-' if first is None else f'{first:,}'} |")
        if first is not None:
            appeared.append(f"{skill} by {first:,} samples")
        else:
            appeared.append(f"{skill} not clearly (change {_fmt(end)})")
    axes[0][0].set_ylabel(f"value in {world} (IQM over seeds, 95% CI)")
    fig.tight_layout()
    total = int(probes.checkpoint.max()) if len(probes) else 0
    appeared += [f"{skill} not measured (no value at any checkpoint)" for skill in unmeasured]
    sentence = (f"Trained on {world} for {total:,} samples ({n} seeds{_few(n)}), the skills improved on "
                f"where they started (95% interval of the paired change above 0, or below 0 for a distance "
                f"such as patience's): {'; '.join(appeared)}.")
    return sentence, lines, fig


def _transfer(spec, t) -> tuple[str, list[str], Any]:
    worlds = spec["evaluate"]["worlds"]
    evals = t["evaluations"]
    arms = [a["name"] for a in spec["arms"] if a["name"] in set(evals.arm)]
    home = {a["name"]: a.get("world") for a in spec["arms"]}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    ft_sentence, ft_lines = _finetune_part(t, axes[1])
    if all_starve(evals, arms, worlds):
        axes[0].set_axis_off()
        axes[0].text(0.5, 0.5, STARVING, ha="center", va="center")
        fig.tight_layout()
        starving, lines, _ = _starving_part(arms, worlds, evals)
        return f"Zero-shot, {starving}; {ft_sentence}.", lines + [""] + ft_lines, fig
    scores = normalised_scores(t, worlds)
    grid = np.full((len(arms), len(worlds)), np.nan)
    cells: dict[tuple[str, str], pd.Series] = {}  # (arm, world) -> normalised score per seed
    for i, arm in enumerate(arms):
        wide = scores[scores.arm == arm].pivot(index="seed", columns="world", values="value")
        wide = wide.reindex(columns=worlds).dropna()
        for j, w in enumerate(worlds):
            if len(wide):
                grid[i, j] = float(iqm(wide[w].to_numpy()))
                cells[(arm, w)] = wide[w]
    # in the worlds an arm never trained in vs in its own: (seeds, cells), seeds every arm has
    table = pd.DataFrame(cells).dropna()
    away = [c for c in cells if c[1] != home[c[0]]]
    own = [c for c in cells if c[1] == home[c[0]]]
    parts = {}
    for name, cols in (("away", away), ("home", own)):
        if cols and len(table):
            parts[name] = compare_arms({name: table[cols].to_numpy()})
    away_iv = parts["away"].values["away"] if "away" in parts else Interval(NAN, NAN, NAN, 0)
    home_iv = parts["home"].values["home"] if "home" in parts else Interval(NAN, NAN, NAN, 0)
    im = axes[0].imshow(grid, cmap="viridis")
    axes[0].set_xticks(range(len(worlds)), worlds, rotation=45)
    axes[0].set_yticks(range(len(arms)), arms)
    axes[0].set_xlabel("tested in (zero-shot)")
    axes[0].set_ylabel("trained in")
    for (i, j), v in np.ndenumerate(grid):
        axes[0].text(j, i, "" if math.isnan(v) else f"{v:.2f}", ha="center", va="center", color="w")
    fig.colorbar(im, ax=axes[0], label="normalised meals (IQM over seeds; 0 random, 1 tuned expert)")
    lines = [f"Zero-shot, {NORMALISED}, IQM over seeds:", "",
             "| trained in | " + " | ".join(worlds) + " |", "|---|" + "---|" * len(worlds)]
    for i, arm in enumerate(arms):
        lines.append(f"| {arm} | " + " | ".join(f"{v:.3g}" for v in grid[i]) + " |")
    fig.tight_layout()
    n = len(table)
    few = f" (intervals omitted: {n} seeds, fewer than {MIN_SEEDS})" if n < MIN_SEEDS else ""
    sentence = (f"Zero-shot, a fisher reaches {_fmt(away_iv)} of the tuned expert's level (normalised meals, "
                f"0 = random; IQM over {n} seeds x the worlds it never trained in, stratified bootstrap) "
                f"against {_fmt(home_iv)} in its own world{few}; {ft_sentence}.")
    return sentence, lines + [""] + ft_lines, fig


def _specialist(spec, t) -> tuple[str, list[str], Any]:
    worlds = spec["evaluate"]["worlds"]
    evals = t["evaluations"]
    arms = sorted((a for a in spec["arms"] if a["name"] in set(evals.arm)), key=breadth)
    names = [a["name"] for a in arms]
    if all_starve(evals, names, worlds):
        sentence, lines, fig = _starving_part(names, worlds, evals)
        return f"On {len(worlds)} held-out worlds {sentence}.", lines, fig
    scores = normalised_scores(t, worlds)
    mats = {a["name"]: _matrix(scores, a["name"], worlds) for a in arms}
    arms = [a for a in arms if mats[a["name"]].size]
    if not arms:
        raise ValueError(f"no arm evaluated in every world of {', '.join(worlds)}")
    spec_arm, gen_arm = arms[0], arms[-1]
    base = spec_arm["name"]
    c = compare_arms({a["name"]: mats[a["name"]] for a in arms}, pairs=[(a["name"], base) for a in arms[1:]])
    fig, ax = plt.subplots(figsize=(6, 4))
    xs = [breadth(a) for a in arms]
    ivs = [c.values[a["name"]] for a in arms]
    ax.errorbar(xs, [v.value for v in ivs], yerr=np.nan_to_num([[v.value - v.low for v in ivs],
                                                                [v.high - v.value for v in ivs]]),
                marker="o", capsize=4)
    for x, a in zip(xs, arms, strict=True):
        per_seed = mats[a["name"]].mean(axis=1)
        ax.scatter([x] * len(per_seed), per_seed, color="grey", s=10, zorder=3)
    ax.axhline(1.0, color="grey", ls=":")
    ax.set_xscale("log")
    ax.set_xlabel("training worlds (breadth)")
    ax.set_ylabel(f"normalised meals on {len(worlds)} held-out worlds\n"
                  f"(IQM over seeds x worlds, 95% CI; dots: seed means)")
    fig.tight_layout()
    lines = [f"Held-out worlds, {NORMALISED}; IQM over seeds x worlds (stratified bootstrap), the difference "
             f"from {base} and the probability of beating it under the same resamples{_omitted(c)}.", "",
             f"| arm | training worlds | seeds | normalised meals (IQM) | minus {base} | P(beats {base}) |",
             "|---|---|---|---|---|---|"]
    for a in arms:
        n = a["name"]
        vs = ["-", "-"] if n == base else [_fmt(c.differences[(n, base)]), _fmt(c.improvement[(n, base)])]
        lines.append(f"| {n} | {breadth(a)} | {c.seeds[n]} | {_fmt(c.values[n])} | {' | '.join(vs)} |")
    lines += ["", "Per world (IQM over seeds of the normalised meals):", "",
              "| arm | " + " | ".join(worlds) + " |", "|---|" + "---|" * len(worlds)]
    lines += [f"| {a['name']} | " + " | ".join(f"{iqm(col):.3g}" for col in mats[a["name"]].T) + " |"
              for a in arms]
    sentence = (f"On {len(worlds)} held-out worlds, same budget, in normalised meals (0 = random, 1 = the "
                f"tuned expert; IQM over seeds x worlds): the fisher raised on {breadth(gen_arm)} worlds "
                f"against the one raised on {breadth(spec_arm)}: "
                + (_comparison(c, gen_arm["name"], base) if gen_arm is not spec_arm else _fmt(c.values[base]))
                + f"{_omitted(c)}.")
    return sentence, lines, fig


def _ecosystem(spec, t) -> tuple[str, list[str], Any]:
    sw = t["sweep"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    lines = ["| fishers | regrowth | stock at the end / at the start | meals per fisher-day |",
             "|---|---|---|---|"]
    sustained, fed = {}, {}
    n = spec["sweep"]["replicates"]
    # with fewer than MIN_SEEDS seeds there is no lower bound: the IQM alone decides, and the answer says so
    bound = (lambda iv: iv.low) if n >= MIN_SEEDS else (lambda iv: iv.value)  # noqa: E731
    for regrowth, df in sw.groupby("regrowth"):
        stock = {f: _iv(g[g.metric == "stock_ratio"].value) for f, g in df.groupby("fishers")}
        meals = {f: _iv(g[g.metric == "meals_per_fisher_day"].value) for f, g in df.groupby("fishers")}
        fs = sorted(stock)
        for ax, d in ((axes[0], stock), (axes[1], meals)):
            err = [[d[f].value - d[f].low for f in fs], [d[f].high - d[f].value for f in fs]]
            ax.errorbar(fs, [d[f].value for f in fs], yerr=np.nan_to_num(err),
                        marker="o", capsize=3, label=f"regrowth {regrowth:g}")
        ok = [f for f in fs if bound(stock[f]) >= 0.5]
        sustained[regrowth] = max(ok) if ok else 0
        fed[regrowth] = (meals[fs[0]], meals[fs[-1]], fs[0], fs[-1])
        lines += [f"| {f} | {regrowth:g} | {_fmt(stock[f])} | {_fmt(meals[f])} |" for f in fs]
    axes[0].axhline(0.5, color="grey", ls=":")
    axes[0].set_ylabel("fish stock at the end / at the start")
    axes[1].set_ylabel("meals per fisher-day")
    for ax in axes:
        ax.set_xlabel("fishers")
        ax.set_xscale("log", base=2)
        ax.legend()
    fig.tight_layout()
    sw_spec = spec["sweep"]
    parts = [f"{n} at regrowth {r:g}" for r, n in sorted(sustained.items())]
    low = min(fed)
    few, many, nf, nm = fed[low]
    by = "lower 95% bound" if n >= MIN_SEEDS else f"IQM alone{_few(n)}"
    sentence = (f"Over {sw_spec['ticks']} ticks of {sw_spec['world']} ({sw_spec['policy']} fishers, "
                f"{sw_spec['replicates']} seeds per cell), the most fishers that leave at least half the "
                f"fish ({by}) are {', '.join(parts)}; at regrowth {low:g} each fisher eats "
                f"{_fmt(few)} meals a day among {nf} and {_fmt(many)} among {nm}.")
    return sentence, lines, fig


KINDS = {"emergence": _emergence, "transfer": _transfer, "teach_vs_incentivize": teach,
         "specialist_vs_generalist": _specialist, "thesis": thesis, "ecosystem": _ecosystem}


def write_report(folder: str | Path) -> Path:
    """Tables, report.md and report.png of a study folder (from whatever results it holds)."""
    folder = Path(folder)
    spec = json.loads((folder / "study.json").read_text())
    tables = write_tables(folder)
    status = tables["tasks"].status.value_counts().to_dict()
    head = [f"# Study: {spec['name']} ({spec['scale']} scale)", "", f"**Question.** {spec['question']}", ""]
    try:
        sentence, lines, fig = KINDS[spec["report"]](spec, tables)
        fig.savefig(folder / "report.png", dpi=110)
        plt.close(fig)
        body = [f"**Answer.** {sentence}", "", "![figure](report.png)", "", *lines]
    except (ValueError, KeyError, IndexError) as err:  # too few results to answer yet
        body = [f"**Answer.** Not enough finished results to answer yet ({type(err).__name__}: {err})."]
    tail = ["", "## Tasks", "", ", ".join(f"{v} {k}" for k, v in sorted(status.items())), ""]
    failed = tables["tasks"][tables["tasks"].status.isin(["failed", "skipped"])]
    tail += [f"- `{r.id}` {r.status}: {r.error}" for r in failed.itertuples()]
    tail += ["", f"Spec: `{spec['spec_file']}` (sha256 {spec['spec_sha256'][:12]}); tables in `tables/`.", ""]
    path = folder / "report.md"
    tmp = folder / ".report.md.tmp"
    tmp.write_text("\n".join(head + body + tail))
    tmp.replace(path)
    return path
