"""Time to competence and emergence over seeds, from training runs' checkpoints.

    python -m benchmarks.competence RUN [RUN ...] [--png FILE] [--json]

RUN is a training run folder (agents.train --out) or a sim.run folder that trained (its
`training/` is used). Every checkpoint of each run is measured on the main job's protocol
(analysis.emergence: the deterministic policy, 8 lake worlds x 4 fishers x 1000 ticks,
respawn a day after a death), and the scripted references (random, impatient,
weather_blind, expert) on the same protocol. Then, per run:

- time to competence: the first checkpoint where the hungry fisher reaches >= 80% of the
  expert's meals per day AND beats the impatient, weather-blind and random fishers
  (training seconds, the learning-curve evaluations excluded, and samples);
- emergence at the end of the budget: empty reels per waiting tick (patience; against the
  impatient fisher's) and the share of storm ticks sheltered (weather reading; against the
  weather-blind and expert fishers').

Medians over runs are printed (a run that never got there counts as never); `--png` draws
every run's checkpoints with the references. `--held-out` adds each run's final policy on the
held-out worlds (suite:held_out, zero-shot: analysis.transfer.zero_shot, deterministic, 16 worlds x
4 fishers x 600 ticks each), as the normalised score (random 0, tuned expert 1) averaged over the
worlds, and that score per hour of training (training seconds, evaluations excluded): what a
faster configuration buys when both train for the same samples. Nothing is trained here: the runs are made
with `python -m sim.run --world lake --seed S` (docs/main_job.md has the commands).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from agents.references import BESIDE_TRAINED
from agents.scripted import make_scripted
from analysis.emergence import PROTOCOL, RunFolderError, emergence, first_reaching, measure

COMPETENT_SHARE = 0.8


def references(world: str) -> dict[str, dict[str, Any]]:
    """The scripted fishers on the emergence protocol."""
    return {name: measure(make_scripted(name, seed=PROTOCOL["seed"]), world) for name in BESIDE_TRAINED}


def _v(point: dict[str, Any], metric: str) -> float:
    return float(point[metric]["value"])


def analyse_run(run: str | Path, refs: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """One run: its checkpoints on the emergence protocol, time to competence, emergence at the end."""
    em = emergence(run)
    refs = refs or references(em["world"])
    target = COMPETENT_SHARE * _v(refs["expert"], "meals_per_day")
    bar = max(_v(refs[n], "meals_per_day") for n in ("random", "impatient", "weather_blind"))
    competent = first_reaching(em["points"], lambda p: _v(p, "meals_per_day") >= target
                               and _v(p, "meals_per_day") > bar)
    beats = first_reaching(em["points"], lambda p: _v(p, "meals_per_day") > bar)
    end = em["points"][-1]
    return {
        "run": em["run"], "seed": em["seed"], "algo": em["algo"], "world": em["world"],
        "protocol": em["protocol"], "references": refs, "points": em["points"],
        "target_meals_per_day": target,
        "competence_seconds": competent["train_seconds"] if competent else None,
        "competence_samples": competent["samples"] if competent else None,
        "beats_references_samples": beats["samples"] if beats else None,
        "beats_references_seconds": beats["train_seconds"] if beats else None,
        "end": {"samples": end["samples"], "seconds": end["train_seconds"],
                "meals_per_day": _v(end, "meals_per_day"),
                "share_of_expert": _v(end, "meals_per_day") / _v(refs["expert"], "meals_per_day"),
                "reel_empty_rate": _v(end, "reel_empty_rate"), "storm_sheltered": _v(end, "storm_sheltered")},
    }


def held_out_score(run: dict[str, Any], worlds: str = "suite:held_out") -> dict[str, Any]:
    """The run's final policy zero-shot on the held-out worlds: the mean normalised score and its
    rate per hour of the run's training."""
    from agents.policies import load_policy
    from agents.run_folders import training_folder
    from analysis.transfer import zero_shot
    from worlds.registry import expand

    policy = load_policy(training_folder(run["run"]), deterministic=True, seed=0)
    names = expand(worlds)
    result = zero_shot(policy, names)
    scores = {w: result["worlds"][w]["normalised"]["value"] for w in names}
    mean = float(np.mean([v for v in scores.values() if v is not None]))
    hours = run["end"]["seconds"] / 3600
    return {"worlds": scores, "mean": mean, "train_hours": hours, "per_hour": mean / hours if hours else None}


def _median(values: list[float | None]) -> float | None:
    """The median over runs; a run that never got there counts as infinitely late."""
    if not values:
        return None
    v = np.array([math.inf if x is None else x for x in values], dtype=float)
    m = float(np.median(v))
    return None if math.isinf(m) else m


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "runs": len(runs),
        "median_competence_seconds": _median([r["competence_seconds"] for r in runs]),
        "median_competence_samples": _median([r["competence_samples"] for r in runs]),
        "median_end_share_of_expert": _median([r["end"]["share_of_expert"] for r in runs]),
        "median_end_reel_empty_rate": _median([r["end"]["reel_empty_rate"] for r in runs]),
        "median_end_storm_sheltered": _median([r["end"]["storm_sheltered"] for r in runs]),
        "median_held_out": _median([r["held_out"]["mean"] for r in runs if "held_out" in r]),
        "median_held_out_per_hour": _median([r["held_out"]["per_hour"] for r in runs if "held_out" in r]),
    }


def plot(runs: list[dict[str, Any]], png: Path) -> Path:
    """Meals per day, empty reels and storm sheltering against training time, references dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    panels = (("meals_per_day", "meals per fisher-day"), ("reel_empty_rate", "empty reels per waiting tick"),
              ("storm_sheltered", "share of storm ticks sheltered"))
    colours = {"random": "0.6", "impatient": "tab:orange", "weather_blind": "tab:purple",
               "expert": "tab:green"}
    for ax, (metric, label) in zip(axes, panels, strict=True):
        for r in runs:
            t = [p["samples"] / 1e6 for p in r["points"]]  # samples: wall time depends on the machine's load
            ax.plot(t, [p[metric]["value"] for p in r["points"]], marker=".",
                    label=f"hungry fisher, seed {r['seed']}")
        ref = runs[0]["references"]
        for name, colour in colours.items():
            ax.axhline(ref[name][metric]["value"], ls="--", color=colour, lw=1, label=name)
        if metric == "meals_per_day":
            ax.axhline(runs[0]["target_meals_per_day"], ls=":", color="k", lw=1, label="80% of expert")
        ax.set_xlabel("training samples (M)")
        ax.set_title(label)
    axes[0].legend(fontsize=7, loc="upper left")
    proto = runs[0]["protocol"]
    fig.suptitle(f"{runs[0]['algo']} on {runs[0]['world']}, reward 'eat' only; each checkpoint "
                 f"(deterministic): {proto['n_worlds']} worlds x {proto['n_fishers']} fishers x "
                 f"{proto['ticks']} ticks")
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return png


def _table(runs: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    def f(x: float | None, unit: str = "") -> str:
        return "never" if x is None else f"{x:,.0f}{unit}"

    lines = ["| seed | beats random, impatient, weather-blind (samples) | competence (s) "
             "| competence (samples) | end: share of expert | end: empty reels/tick "
             "| end: storm ticks sheltered |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        e = r["end"]
        lines.append(f"| {r['seed']} | {f(r['beats_references_samples'])} | {f(r['competence_seconds'])} | "
                     f"{f(r['competence_samples'])} | "
                     f"{e['share_of_expert']:.2f} | {e['reel_empty_rate']:.4f} | "
                     f"{e['storm_sheltered']:.2f} |")
    ref = runs[0]["references"]
    lines.append("")
    lines.append("references on the same protocol (meals/day, empty reels/tick, sheltered): " + "; ".join(
        f"{n} {_v(v, 'meals_per_day'):.2f}, {_v(v, 'reel_empty_rate'):.4f}, {_v(v, 'storm_sheltered'):.2f}"
        for n, v in ref.items()))
    if any("held_out" in r for r in runs):
        lines.append("")
        lines.append("| seed | training (s) | held-out score (random 0, expert 1) "
                     "| held-out score per hour |")
        lines.append("|---:|---:|---:|---:|")
        for r in runs:
            h = r["held_out"]
            lines.append(f"| {r['seed']} | {r['end']['seconds']:,.0f} | {h['mean']:.3f} "
                         f"| {h['per_hour']:.2f} |")
        lines.append("")
        lines.append(f"median held-out score {summary['median_held_out']:.3f}, per hour of training "
                     f"{summary['median_held_out_per_hour']:.2f} (worlds: "
                     f"{', '.join(runs[0]['held_out']['worlds'])})")
    lines.append(f"median over {summary['runs']} runs: "
                 f"competence {f(summary['median_competence_seconds'], ' s')}, "
                 f"end share of expert {summary['median_end_share_of_expert']:.2f}, "
                 f"storm ticks sheltered {summary['median_end_storm_sheltered']:.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.competence", description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", metavar="RUN", help="training run folders (or sim.run folders)")
    p.add_argument("--png", type=Path, default=None, help="write the learning curves here")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--held-out", action="store_true",
                   help="also the final policies zero-shot on suite:held_out, and that score per hour "
                        "of training")
    args = p.parse_args(argv)
    try:
        first = analyse_run(args.runs[0])
        runs = [first] + [analyse_run(r, first["references"]) for r in args.runs[1:]]
    except (RunFolderError, OSError, json.JSONDecodeError, KeyError) as err:
        print(f"python -m benchmarks.competence: error: {err}", file=sys.stderr)
        return 2
    if args.held_out:
        for r in runs:
            r["held_out"] = held_out_score(r)
    summary = summarise(runs)
    if args.png:
        plot(runs, args.png)
    if args.json:
        print(json.dumps({"summary": summary, "runs": runs}, indent=1))
    else:
        print(_table(runs, summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
