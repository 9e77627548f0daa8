"""A study's report: one sentence that answers its question, one figure, the numbers behind them.

Every number is over seeds (the independent training runs; a run's simulated worlds
are averaged first), as an interquartile mean with a 95% percentile-bootstrap interval
from analysis.stats; aggregates over several test worlds use the stratified bootstrap
(seeds resampled within each world). With fewer than three seeds an interval collapses
to its point: the report says how many seeds stand behind it.

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

from analysis.stats import Interval, difference, interval, paired_difference, stratified_interval  # noqa: E402
from analysis.transfer_metrics import summarize_pairs
from experiments.tables import write_tables  # noqa: E402
from worlds.registry import breadth as pool_breadth

SKILL_ORDER = ("patience", "weather_reading", "knowing_fish", "survival", "feeding", "sheltering")


def _iv(values: Any) -> Interval:
    """IQM over independent units with a 95% percentile-bootstrap interval. Through
    stratified_interval with one task: the same resampling as interval(values, "iqm"), but
    vectorized (interval() calls the IQM once per resample, about 2 s per interval)."""
    a = np.asarray(values, dtype=float).ravel()
    a = a[~np.isnan(a)]
    if a.size < 3:  # as analysis.stats.interval: no interval from fewer than three units
        return interval(a, "iqm")
    return stratified_interval(a[:, None], "iqm")


def _fmt(iv: Interval) -> str:
    if math.isnan(iv.value):
        return "n/a"
    if iv.n < 3:
        return f"{iv.value:.3g} (n={iv.n}, no interval)"
    return f"{iv.value:.3g} [{iv.low:.3g}, {iv.high:.3g}]"


def seed_scores(evals: pd.DataFrame, metric: str = "meals_per_day") -> pd.DataFrame:
    """Per (arm, seed, world): the metric's mean over simulated worlds."""
    df = evals[evals.metric == metric]
    return df.groupby(["arm", "seed", "world"], as_index=False)["value"].mean()


def _matrix(scores: pd.DataFrame, arm: str, worlds: list[str]) -> np.ndarray:
    """(seeds, worlds) of one arm, seeds missing a world dropped."""
    wide = scores[scores.arm == arm].pivot(index="seed", columns="world", values="value")
    wide = wide.reindex(columns=worlds).dropna()
    return wide.to_numpy()


def _bars(ax, labels: list[str], ivs: list[Interval], color: str | list[str] | None = None,
          offset: float = 0.0, width: float = 0.8, label: str | None = None) -> None:
    x = np.arange(len(labels)) + offset
    vals = np.array([v.value for v in ivs])
    err = np.array([[v.value - v.low for v in ivs], [v.high - v.value for v in ivs]])
    ax.bar(x, vals, width, yerr=np.nan_to_num(err), capsize=3, color=color, label=label)


# --- one function per kind of study ----------------------------------------------------------------

def _emergence(spec, t) -> tuple[str, list[str]]:
    probes = t["probes"][t["probes"].checkpoint >= 0]
    skills = [s for s in SKILL_ORDER if s in set(probes.skill)] or sorted(set(probes.skill))
    world = spec["probe"]["worlds"][0]
    probes = probes[probes.world == world]
    # a skill can be unmeasurable at every checkpoint (knowing fish when no fisher ever cast)
    unmeasured = [s for s in skills if not probes[probes.skill == s].value.notna().any()]
    skills = [s for s in skills if s not in unmeasured]
    fig, axes = plt.subplots(1, len(skills), figsize=(3.2 * len(skills), 3), squeeze=False)
    appeared, lines = [], ["| skill | at start | at the end | change (paired over seeds) | first checkpoint "
                           "clearly above the start |", "|---|---|---|---|---|"]
    for ax, skill in zip(axes[0], skills, strict=True):
        df = probes[probes.skill == skill].pivot_table(index="checkpoint", columns="seed", values="value")
        steps = df.index.to_numpy()
        ivs = [_iv(df.loc[s].dropna()) for s in steps]
        ax.plot(steps, [v.value for v in ivs], marker="o")
        ax.fill_between(steps, [v.low for v in ivs], [v.high for v in ivs], alpha=0.25)
        ax.set_title(skill)
        ax.set_xlabel("training samples")
        first = None
        for s in steps[1:]:
            d = paired_difference(df.loc[s].to_numpy(), df.loc[steps[0]].to_numpy())
            if d.n >= 3 and d.low > 0:  # an interval needs three seeds; a point is no evidence
                first = int(s)
                break
        change = paired_difference(df.loc[steps[-1]].to_numpy(), df.loc[steps[0]].to_numpy())
        lines.append(f"| {skill} | {_fmt(ivs[0])} | {_fmt(ivs[-1])} | {_fmt(change)} | "
                     f"{'-' if first is None else f'{first:,}'} |")
        if first is not None:
            appeared.append(f"{skill} by {first:,} samples")
        else:
            appeared.append(f"{skill} not clearly (change {_fmt(change)})")
    axes[0][0].set_ylabel(f"value in {world} (IQM over seeds, 95% CI)")
    fig.tight_layout()
    n = probes.seed.nunique()
    total = int(probes.checkpoint.max()) if len(probes) else 0
    few = "; too few for intervals, so nothing counts as clear" if n < 3 else ""
    appeared += [f"{skill} not measured (no value at any checkpoint)" for skill in unmeasured]
    sentence = (f"Trained on {world} for {total:,} samples ({n} seeds{few}), the skills rose above where "
                f"they started (95% interval of the paired change above 0): {'; '.join(appeared)}.")
    return sentence, lines, fig


def _transfer(spec, t) -> tuple[str, list[str], Any]:
    scores = seed_scores(t["evaluations"])
    arms = [a["name"] for a in spec["arms"] if a["name"] in set(scores.arm)]
    home = {a["name"]: a.get("world") for a in spec["arms"]}
    worlds = spec["evaluate"]["worlds"]
    grid = np.full((len(arms), len(worlds)), np.nan)
    away_rows, home_rows = [], []
    for i, arm in enumerate(arms):
        m = _matrix(scores, arm, worlds)
        if m.size:
            grid[i] = [float(_iv(m[:, j]).value) for j in range(len(worlds))]
            away = [j for j, w in enumerate(worlds) if w != home[arm]]
            if away:
                away_rows.append(m[:, away].mean(axis=1))
            if home[arm] in worlds:
                home_rows.append(m[:, worlds.index(home[arm])])
    away_iv = _iv(np.concatenate(away_rows)) if away_rows else _iv([])
    home_iv = _iv(np.concatenate(home_rows)) if home_rows else _iv([])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    im = axes[0].imshow(grid, cmap="viridis")
    axes[0].set_xticks(range(len(worlds)), worlds, rotation=45)
    axes[0].set_yticks(range(len(arms)), arms)
    axes[0].set_xlabel("tested in (zero-shot)")
    axes[0].set_ylabel("trained in")
    for (i, j), v in np.ndenumerate(grid):
        axes[0].text(j, i, "" if math.isnan(v) else f"{v:.2f}", ha="center", va="center", color="w")
    fig.colorbar(im, ax=axes[0], label="meals per fisher-day (IQM over seeds)")
    lines = ["| trained in | " + " | ".join(worlds) + " |", "|---|" + "---|" * len(worlds)]
    for i, arm in enumerate(arms):
        lines.append(f"| {arm} | " + " | ".join(f"{v:.3g}" for v in grid[i]) + " |")
    ft_sentence, ft_lines = _finetune_part(t, axes[1])
    fig.tight_layout()
    sentence = (f"Zero-shot, a fisher eats {_fmt(away_iv)} meals per day in worlds it never trained in, "
                f"against {_fmt(home_iv)} in its own world; {ft_sentence}.")
    return sentence, lines + [""] + ft_lines, fig


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
        if e["low"] is None:
            return f"{e['value']:.3g} (n={e['n']}, no interval)"
        return f"{e['value']:.3g} [{e['low']:.3g}, {e['high']:.3g}]"

    lines = [f"Fine-tuned vs from scratch, {len(pairs)} pairs of learning curves (Taylor & Stone 2009, "
             f"analysis.transfer_metrics):", "", "| metric | value |", "|---|---|"]
    names = ("jumpstart", "asymptotic", "area_ratio", "time_saved")
    lines += [f"| {name} | {show(name)} |" for name in names]
    sentence = (f"fine-tuned there it starts {show('jumpstart')} meals per day above training from scratch "
                f"(jumpstart) and ends {show('asymptotic')} above it with the same budget")
    return sentence, lines


def _teach(spec, t) -> tuple[str, list[str], Any]:
    arms = [a["name"] for a in spec["arms"]]
    rewards = {a["name"]: a.get("reward", "reference") for a in spec["arms"]}
    inc = next((a for a in arms if rewards[a] == "eat"), arms[0])
    taught = next((a for a in arms if rewards[a] == "taught"), arms[-1])
    probes = t["probes"]
    focus = "mirror" if "mirror" in set(probes.world) else (sorted(set(probes.world)) or ["lake"])[0]
    wr = probes[(probes.world == focus) & (probes.skill == "weather_reading")]
    a = wr[wr.arm == inc].groupby("seed").value.mean()
    b = wr[wr.arm == taught].groupby("seed").value.mean()
    d = difference(a, b)
    scores = seed_scores(t["evaluations"])
    worlds = spec["evaluate"]["worlds"] if "evaluate" in spec else []
    skills = [s for s in SKILL_ORDER if s in set(probes.skill)]
    # meals per world on the left; one panel per skill on the right, each on its own scale
    fig = plt.figure(figsize=(12, 4.5))
    grid = fig.add_gridspec(2, 2 + max(1, math.ceil(len(skills) / 2)))
    meals_ax = fig.add_subplot(grid[:, :2])
    width = 0.8 / max(len(arms), 1)
    lines = ["| arm | " + " | ".join(worlds) + " | all (stratified IQM) |",
             "|---|" + "---|" * (len(worlds) + 1)]
    overall = {}
    for k, arm in enumerate(arms):
        m = _matrix(scores, arm, worlds)
        ivs = [_iv(m[:, j]) if m.size else _iv([]) for j in range(len(worlds))]
        overall[arm] = stratified_interval(m) if m.size else _iv([])
        _bars(meals_ax, worlds, ivs, offset=(k - (len(arms) - 1) / 2) * width, width=width, label=arm)
        lines.append(f"| {arm} | " + " | ".join(_fmt(v) for v in ivs) + f" | {_fmt(overall[arm])} |")
    meals_ax.set_xticks(range(len(worlds)), worlds)
    meals_ax.set_ylabel("meals per fisher-day (IQM over seeds, 95% CI)")
    meals_ax.legend()
    for j, skill in enumerate(skills):
        ax = fig.add_subplot(grid[j % 2, 2 + j // 2])
        sub = probes[(probes.world == focus) & (probes.skill == skill)]
        ivs = [_iv(sub[sub.arm == arm].groupby("seed").value.mean()) for arm in arms]
        _bars(ax, arms, ivs, color=[f"C{k}" for k in range(len(arms))])
        ax.set_xticks(range(len(arms)), arms, fontsize=8)
        ax.set_title(f"{skill} in {focus}", fontsize=9)
    fig.tight_layout()
    eat_inc, eat_taught = overall.get(inc, _iv([])), overall.get(taught, _iv([]))
    sentence = (f"In the {focus} world the incentivized fisher's weather reading is {_fmt(_iv(a))}, "
                f"the taught one's {_fmt(_iv(b))} (IQM over seeds; difference of means {_fmt(d)}, "
                f"{len(a)} and {len(b)} seeds); "
                f"on held-out worlds they eat {_fmt(eat_inc)} and {_fmt(eat_taught)} meals per fisher-day.")
    return sentence, lines, fig


def breadth(arm: dict[str, Any]) -> int:
    """How many worlds an arm trained on (the breadth knob)."""
    return 1 if arm.get("worlds") is None else pool_breadth(arm["worlds"])


def _specialist(spec, t) -> tuple[str, list[str], Any]:
    scores = seed_scores(t["evaluations"])
    worlds = spec["evaluate"]["worlds"]
    arms = [a for a in spec["arms"] if a["name"] in set(scores.arm)]
    rows = []
    for arm in arms:
        m = _matrix(scores, arm["name"], worlds)
        rows.append((arm["name"], breadth(arm), stratified_interval(m) if m.size else _iv([]),
                     m.mean(axis=1) if m.size else np.array([])))
    rows.sort(key=lambda r: r[1])
    fig, ax = plt.subplots(figsize=(6, 4))
    xs = [r[1] for r in rows]
    ax.errorbar(xs, [r[2].value for r in rows], yerr=[[r[2].value - r[2].low for r in rows],
                                                      [r[2].high - r[2].value for r in rows]],
                marker="o", capsize=4)
    for x, r in zip(xs, rows, strict=True):
        ax.scatter([x] * len(r[3]), r[3], color="grey", s=10, zorder=3)
    ax.set_xscale("log")
    ax.set_xlabel("training worlds (breadth)")
    ax.set_ylabel(f"meals per fisher-day on {len(worlds)} held-out worlds\n"
                  f"(stratified IQM, 95% CI; dots: seeds)")
    fig.tight_layout()
    lines = ["| arm | training worlds | held-out meals/day (stratified IQM) |", "|---|---|---|"]
    lines += [f"| {name} | {b} | {_fmt(iv)} |" for name, b, iv, _ in rows]
    spec_row, gen_row = rows[0], rows[-1]
    d = difference(gen_row[3], spec_row[3])
    sentence = (f"On {len(worlds)} held-out worlds the fisher raised on {gen_row[1]} worlds eats "
                f"{_fmt(gen_row[2])} meals per fisher-day and the one raised on {spec_row[1]} "
                f"{_fmt(spec_row[2])} "
                f"(difference of seed means {_fmt(d)}, same budget).")
    return sentence, lines, fig


def _ecosystem(spec, t) -> tuple[str, list[str], Any]:
    sw = t["sweep"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    lines = ["| fishers | regrowth | stock at the end / at the start | meals per fisher-day |",
             "|---|---|---|---|"]
    sustained, fed = {}, {}
    for regrowth, df in sw.groupby("regrowth"):
        stock = {f: _iv(g[g.metric == "stock_ratio"].value) for f, g in df.groupby("fishers")}
        meals = {f: _iv(g[g.metric == "meals_per_fisher_day"].value) for f, g in df.groupby("fishers")}
        fs = sorted(stock)
        for ax, d in ((axes[0], stock), (axes[1], meals)):
            ax.errorbar(fs, [d[f].value for f in fs], yerr=[[d[f].value - d[f].low for f in fs],
                                                             [d[f].high - d[f].value for f in fs]],
                        marker="o", capsize=3, label=f"regrowth {regrowth:g}")
        ok = [f for f in fs if stock[f].low >= 0.5]
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
    sentence = (f"Over {sw_spec['ticks']} ticks of {sw_spec['world']} ({sw_spec['policy']} fishers, "
                f"{sw_spec['replicates']} seeds per cell), the most fishers that leave at least half the "
                f"fish (lower 95% bound) are {', '.join(parts)}; at regrowth {low:g} each fisher eats "
                f"{_fmt(few)} meals a day among {nf} and {_fmt(many)} among {nm}.")
    return sentence, lines, fig


KINDS = {"emergence": _emergence, "transfer": _transfer, "teach_vs_incentivize": _teach,
         "specialist_vs_generalist": _specialist, "ecosystem": _ecosystem}


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
