"""The main job: train a hungry fisher, evaluate it beside the scripted references, and report its
skills (`python -m sim.run --world lake`, the project's one-command experiment).

    RUN_DIR/training/         the training run (agents.train): checkpoints, learning curve, policy
    RUN_DIR/metrics.json ...  the evaluation's run folder files (app.evaluation)
    RUN_DIR/references.json   the scripted references under the same protocol
    RUN_DIR/report/           the skill report (analysis.report)
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from agents.policy_spec import resolve_policy
from agents.references import BESIDE_TRAINED
from agents.rollout import run_policy
from agents.scripted import make_scripted
from agents.train import train
from analysis.probe import render_cards
from analysis.report import build_report
from analysis.transfer import FINDING_MARGIN
from app.evaluation import METRIC_LABELS, execute, fmt, prepare_out, summarize, write_json
from sim.cli import shown_path
from worlds.loader import World

REPORT_PROBE_EVERY = 8  # the main job probes every 8th checkpoint (and the last): minutes matter


def train_and_evaluate(args: argparse.Namespace, argv: list[str], world: World) -> int:
    """The main job: train a hungry fisher, evaluate it, and put it beside the scripted references.
    Bad arguments raise sim.cli.UsageError naming the flag (training's own checks name theirs)."""
    run_dir = prepare_out(args.out, world, "hungry-fisher")
    training = train(world=args.world, steps=args.steps, seed=args.seed, out=run_dir / "training",
                     progress=not (args.json or args.quiet),  # a bar, or plain lines in a log
                     command=shlex.join(["python", "-m", "sim.run", *argv]))
    args.policy = str(training)
    policy = resolve_policy(args.policy, args.seed, trust_zip=False)
    code = execute(args, argv, world, policy, run_dir=run_dir)
    if code == 0:
        compare_references(args, world, run_dir)
        if args.report != "none":
            skill_report(args, run_dir)
    return code


def skill_report(args: argparse.Namespace, run_dir: Path) -> Path:
    """Probe, emergence and transfer for the run just trained (analysis.report); prints the skill card."""
    quiet = args.json or args.quiet
    console = Console(stderr=True, quiet=bool(quiet))
    path = build_report(run_dir, out=run_dir / "report", world=args.world, seed=args.seed, scale=args.report,
                        probe_every=REPORT_PROBE_EVERY, progress=lambda m: console.log(f"report: {m}"),
                        command=f"python -m analysis.report {shlex.quote(shown_path(run_dir))} --probe-every "
                                f"{REPORT_PROBE_EVERY} --scale {args.report}")
    if not quiet:
        data = json.loads((path.parent / "report.json").read_text())
        out = Console()
        out.print(render_cards([data["card"]], {k: [v] for k, v in data["references"].items()}))
        for verdict in data["verdicts"].values():
            out.print(f"- {verdict['sentence']}", highlight=False)
        out.print(f"report: {path}", highlight=False, soft_wrap=True)
    return path


def compare_references(args: argparse.Namespace, world: World, run_dir: Path) -> dict[str, Any]:
    """The scripted references under the same protocol; writes references.json and prints a table."""
    ticks = args.ticks if args.ticks is not None else world.params.time.horizon
    rows = {"hungry fisher": json.loads((run_dir / "metrics.json").read_text())["metrics"]}
    for name in BESIDE_TRAINED:
        rollout = run_policy(make_scripted(name, seed=args.seed), world, n_worlds=args.episodes,
                             n_fishers=args.fishers, ticks=ticks, seed=args.seed, respawn=not args.cohort)
        rows[name] = summarize(rollout)
    write_json(run_dir / "references.json", {k: v for k, v in rows.items() if k != "hungry fisher"})
    if not (args.json or args.quiet):
        table = Table(title=f"The hungry fisher beside scripted fishers on {world.name} (means)")
        table.add_column("metric")
        for name in rows:
            table.add_column(name, justify="right")
        for metric in ("meals_per_day", "survival", "reel_empty_rate", "storm_sheltered",
                       "cast_rate_falling", "cast_rate_steady"):
            table.add_row(METRIC_LABELS[metric], *(fmt(rows[n][metric]["mean"]) for n in rows))
        table.caption = ("patience: empty reels per waiting tick (lower is more patient); weather reading: "
                         "storm ticks sheltered, and casting when the barometer falls vs steady; expert: "
                         "tuned per world (agents/expert_params.toml); reactive: the expert acting only "
                         "once the storm is on; oracle: the expert seeing the hidden state")
        Console().print(table)
        share = _share_of_expert(rows)
        if share is not None:
            above = (f" (more than {FINDING_MARGIN:.0%} above it: a finding about the reference)"
                     if share > 1 + FINDING_MARGIN else "")
            Console().print(f"hungry fisher: {share:.0%} of the tuned expert's meals per fisher-day{above}",
                            highlight=False)
    return rows


def _share_of_expert(rows: dict[str, Any]) -> float | None:
    """The hungry fisher's meals per day as a share of the tuned expert's (None without an expert)."""
    expert = rows.get("expert", {}).get("meals_per_day", {}).get("mean")
    return rows["hungry fisher"]["meals_per_day"]["mean"] / expert if expert else None
