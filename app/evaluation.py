"""Evaluate a fisher and write a run folder anyone can rerun: what `python -m sim.run` and
`python -m agents.evaluate` share.

N worlds simulated in one batch with a progress bar, the first K episodes recorded, metrics with
95% bootstrap intervals over worlds, and a run folder:

    RUN_DIR/config.json       resolved arguments, protocol, the world's full params, seeds
    RUN_DIR/command.txt       the exact command line
    RUN_DIR/versions.json     python, numpy and the project's other packages (and the git commit)
    RUN_DIR/metrics.json      every metric: mean, 95% interval and per-world values
    RUN_DIR/episodes/episode_000.npz ...  recorded episodes (format: sim.record)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from agents.rollout import interval, run_policy, world_seeds
from sim.cli import OutFolderError, UsageError, int_at_least, new_run_folder, slug, versions
from sim.core import Simulation
from sim.record import EpisodeRecorder
from worlds.loader import World

DEFAULT_RECORD = 2
# one batch lives in memory: these bounds keep the largest under a few GB (a typo like
# --episodes 1000000000 is refused at once instead of ending in a MemoryError after a minute)
MAX_EPISODES, MAX_FISHERS, MAX_TICKS = 65_536, 256, 10_000_000
MIN_WORLDS_FOR_INTERVAL = 3  # below this, metrics report a mean and no interval
METRICS = ("meals_per_day", "survival", "deaths_per_day", "storm_sheltered", "reel_empty_rate",
           "cast_rate_falling", "cast_rate_steady", "catches_per_day")
METRIC_LABELS = {
    "meals_per_day": "meals per fisher-day", "survival": "alive at the end (share)",
    "deaths_per_day": "deaths per fisher-day", "storm_sheltered": "storm ticks sheltered (share)",
    "reel_empty_rate": "empty reels per waiting tick", "catches_per_day": "catches per fisher-day",
    "cast_rate_falling": "casts per tick, barometer falling", "cast_rate_steady": "casts per tick, steady",
}

def _ticks_per_second(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value >= 0:  # NaN too
        raise argparse.ArgumentTypeError(f"expected ticks per second, a number >= 0 (0: as fast as it "
                                         f"runs), got {text!r}")
    return value


def add_run_flags(p: argparse.ArgumentParser, out_default: str, seed_help: str) -> None:
    """The flags of every command that runs a fisher and writes a run folder (sim.run, agents.evaluate)."""
    p.add_argument("--world", default="lake",
                   help="a shipped world name (see python -m sim.run --list-worlds), a world folder, a "
                        "world.toml path, or generated:SEED (default: lake)")
    p.add_argument("--episodes", type=int_at_least(1, MAX_EPISODES), default=8,
                   help=f"worlds simulated together in one batch (default: 8; at most {MAX_EPISODES:,})")
    p.add_argument("--fishers", type=int_at_least(1, MAX_FISHERS), default=4,
                   help=f"fisher slots per world (default: 4; at most {MAX_FISHERS})")
    p.add_argument("--ticks", type=int_at_least(1, MAX_TICKS), default=None,
                   help="ticks per episode (default: the world's time.horizon)")
    p.add_argument("--seed", type=int_at_least(0), default=0, help=seed_help)
    p.add_argument("--cohort", action="store_true",
                   help="no respawn: a fisher that starved scores nothing afterwards "
                        "(default: a newcomer takes the slot a day after a death)")
    p.add_argument("--record", type=int_at_least(0), default=None, metavar="K",
                   help=f"record the first K episodes (default: {DEFAULT_RECORD}, or all if fewer)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help=f"run folder (default: {out_default}); must be new or empty")
    p.add_argument("--json", action="store_true", help="print only a JSON summary on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary table")
    p.add_argument("--trust-zip", action="store_true",
                   help="load a model .zip in full even when no manifest vouches for it: loading "
                        "a .zip can run code stored in it, so only for files you created")
    p.add_argument("--render", nargs="?", const=8.0, default=None, type=_ticks_per_second, metavar="TPS",
                   help="show the first world in a live pygame window as it runs (viz.live), TPS ticks "
                        "a second (default 8; 0: as fast as it runs); the run waits while the view is paused")


def prepare_out(out: str | None, world: World, policy: str) -> Path:
    """The run folder, created now (so a bad --out fails before simulating); it must be new or empty."""
    try:
        path = new_run_folder(out, f"{slug(world.name)}-{slug(policy)}")
    except OutFolderError as err:
        raise UsageError("--out", str(err)) from None
    (path / "episodes").mkdir(exist_ok=True)
    return path


def _number(x: float) -> float | None:
    """JSON has no NaN: a metric that could not be measured (no storm came) is null."""
    return None if x is None or math.isnan(x) else float(x)


def summarize(rollout) -> dict[str, dict[str, Any]]:
    out = {}
    for name in METRICS:
        values = rollout.per_world(name)
        mean, low, high = interval(values)
        if np.count_nonzero(~np.isnan(values)) < MIN_WORLDS_FOR_INTERVAL:
            low = high = math.nan  # a bootstrap over one or two worlds is no interval
        out[name] = {"mean": _number(mean), "low": _number(low), "high": _number(high),
                     "per_world": [_number(v) for v in values]}
    return out


def write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n")


def execute(args: argparse.Namespace, argv: list[str], world: World, policy: object,
            module: str = "sim.run", out_label: str | None = None, run_dir: Path | None = None) -> int:
    """Run `policy` as `args` say and write the run folder; shared by sim.run and agents.evaluate.

    `args` needs: policy (the label recorded everywhere), episodes, fishers, ticks, seed, cohort,
    record, out, json, quiet; every field is written to config.json. `module` names the command
    in command.txt; `out_label` replaces the policy in the default run folder's name.
    """
    ticks = args.ticks if args.ticks is not None else world.params.time.horizon
    if args.record is None:
        args.record = min(DEFAULT_RECORD, args.episodes)
    elif args.record > args.episodes:
        raise UsageError("--record", f"expected at most --episodes ({args.episodes}), got {args.record}")
    if run_dir is None:
        run_dir = prepare_out(args.out, world, out_label or args.policy)
    seeds = world_seeds(args.seed, args.episodes)
    respawn_delay = None if args.cohort else world.params.time.day_length  # run_policy's own default
    protocol = "cohort" if args.cohort else f"respawn after {respawn_delay} ticks"

    resolved = {**vars(args), "ticks": ticks, "out": str(run_dir)}
    write_json(run_dir / "config.json", {
        "args": resolved, "protocol": protocol, "respawn_delay": respawn_delay, "seeds": seeds,
        "recorded_episodes": [f"episodes/episode_{i:03d}.npz" for i in range(args.record)],
        "world": {"name": world.name, "source": world.source, "description": world.description,
                  "shape": list(world.shape), "params": dataclasses.asdict(world.params)},
    })
    (run_dir / "command.txt").write_text(shlex.join(["python", "-m", module, *argv]) + "\n")
    write_json(run_dir / "versions.json", versions())

    recorders = _recorders(world, args, seeds, protocol, run_dir)
    show_progress = not (args.json or args.quiet) and sys.stderr.isatty()
    start = time.perf_counter()
    live = None
    if getattr(args, "render", None) is not None:  # --render: the live view (pygame only when asked)
        from viz.live import LiveView  # deferred: heavy at start-up

        live = LiveView(speed=args.render, policy=args.policy,
                        title=f"{args.policy} on {world.name} (world 0 of {args.episodes})")
    with _progress(show_progress, ticks, f"{args.policy} on {world.name}") as advance:
        def on_step(sim, actions, result) -> None:
            for rec in recorders:
                rec.record(actions, result, sim=sim)
            if live is not None:
                live(sim, actions, result)
            advance()

        try:
            rollout = run_policy(policy, world, n_worlds=args.episodes, n_fishers=args.fishers, ticks=ticks,
                                 seed=args.seed, respawn=not args.cohort, on_step=on_step)
        finally:
            if live is not None:
                live.close()
    wall = time.perf_counter() - start
    episodes = [str(rec.save(run_dir / "episodes" / f"episode_{i:03d}.npz"))
                for i, rec in enumerate(recorders)]

    metrics = summarize(rollout)
    head = {"world": world.name, "policy": args.policy, "protocol": protocol, "episodes": args.episodes,
            "fishers": args.fishers, "ticks": ticks, "seeds": seeds, "run_dir": str(run_dir)}
    write_json(run_dir / "metrics.json", {
        **head, "confidence": 0.95, "metrics": metrics, "wall_seconds": round(wall, 3),
        "agent_steps_per_second": round(args.episodes * args.fishers * ticks / max(wall, 1e-9)),
    })
    if args.json:
        summary = {**head, "recorded": episodes,
                   **{k: {key: m[key] for key in ("mean", "low", "high")} for k, m in metrics.items()}}
        print(json.dumps(summary, allow_nan=False))
    elif not args.quiet:
        _print_table(head, metrics, episodes)
    return 0


def _recorders(world: World, args: argparse.Namespace, seeds: list[int], protocol: str,
               run_dir: Path) -> list[EpisodeRecorder]:
    """One recorder per recorded episode, tick 0 taken from a simulation seeded like the rollout's."""
    if args.record == 0:
        return []
    # run_policy builds its Simulation inside; tick 0 depends only on the world and the seed
    # (a world alone equals the same world in a batch), so a twin gives the initial frames
    # and each recorder checks the rollout's seed and tick at every step.
    twin = Simulation(world, args.fishers, seeds=seeds[: args.record], respawn=False)
    info = {"protocol": protocol, "run_dir": str(run_dir), "episode_seeds": seeds}
    out = []
    for i in range(args.record):
        rec = EpisodeRecorder(twin, world=i, policy=args.policy, info={**info, "episode": i})
        rec.capture_initial()
        out.append(rec)
    return out


class _progress:
    """A rich progress bar on stderr over ticks, or nothing; yields a function that advances it."""

    def __init__(self, enabled: bool, total: int, label: str):
        self.enabled, self.total, self.label = enabled, total, label
        self.bar = None

    def __enter__(self):
        if not self.enabled:
            return lambda: None
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("ticks"), TimeRemainingColumn(), console=Console(stderr=True),
                            transient=True)
        self.bar.start()
        task = self.bar.add_task(self.label, total=self.total)
        return lambda: self.bar.advance(task)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


def fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _print_table(head: dict[str, Any], metrics: dict[str, dict[str, Any]], episodes: list[str]) -> None:
    table = Table(title=f"{head['policy']} on {head['world']}: {head['episodes']} worlds x "
                        f"{head['fishers']} fishers, {head['ticks']} ticks, {head['protocol']}")
    table.caption = (f"95% CI: bootstrap over worlds; n/a where fewer than {MIN_WORLDS_FOR_INTERVAL} "
                     "worlds measured it (storm metrics need a storm)")
    table.add_column("metric")
    table.add_column("mean", justify="right")
    table.add_column("95% CI", justify="right")
    for name, m in metrics.items():
        ci = "n/a" if m["low"] is None else f"[{m['low']:.3f}, {m['high']:.3f}]"
        table.add_row(METRIC_LABELS.get(name, name), fmt(m["mean"]), ci)
    console = Console()
    console.print(table)
    console.print(f"run folder: {head['run_dir']}", highlight=False, soft_wrap=True)
    if episodes:
        console.print(f"watch it: python -m viz.playback {episodes[0]}", highlight=False, soft_wrap=True)


