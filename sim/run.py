"""`python -m sim.run`: the main job from the command line, writing a run folder anyone can rerun.

It evaluates a fisher, scripted (scripted:NAME) or trained (a policy file, a training run
folder or a model .zip; see agents.policies.load_policy): N worlds simulated in one batch
with a progress bar, the first K episodes recorded, metrics with 95% bootstrap intervals
over worlds, and a run folder:

    RUN_DIR/config.json       resolved arguments, protocol, the world's full params, seeds
    RUN_DIR/command.txt       the exact command line
    RUN_DIR/versions.json     python, numpy and the project's other packages (and the git commit)
    RUN_DIR/metrics.json      every metric: mean, 95% interval and per-world values
    RUN_DIR/episodes/episode_000.npz ...  recorded episodes (format: sim.record)

Bad flags or files end with one line on stderr ("error: --flag: what is wrong") and exit
status 2; `main(argv)` returns the exit status, so tests call it directly.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import json
import math
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sim.cli import EXIT_USAGE, OutFolderError, Parser, int_at_least, new_run_folder, parse, slug
from sim.record import EpisodeRecorder
from worlds.loader import World, WorldFileError, list_worlds, load_world

DEFAULT_RECORD = 2
MIN_WORLDS_FOR_INTERVAL = 3  # below this, metrics report a mean and no interval
METRICS = ("meals_per_day", "survival", "deaths_per_day", "storm_sheltered", "reel_empty_rate",
           "cast_rate_falling", "cast_rate_steady", "catches_per_day")
METRIC_LABELS = {
    "meals_per_day": "meals per fisher-day", "survival": "alive at the end (share)",
    "deaths_per_day": "deaths per fisher-day", "storm_sheltered": "storm ticks sheltered (share)",
    "reel_empty_rate": "empty reels per waiting tick", "catches_per_day": "catches per fisher-day",
    "cast_rate_falling": "casts per tick, barometer falling", "cast_rate_steady": "casts per tick, steady",
}
TRAIN = "train"  # the --policy that trains the hungry fisher first (the main job)
REPORT_SCALES = ("quick", "full", "smoke", "none")
REPORT_PROBE_EVERY = 8  # the main job probes every 8th checkpoint (and the last): minutes matter
REFERENCES = ("random", "impatient", "weather_blind", "expert")  # scripted fishers beside a trained one
# packages whose versions are recorded when the project's own metadata cannot list them
FALLBACK_PACKAGES = ("numpy", "scipy", "rich", "gymnasium", "pettingzoo", "stable-baselines3",
                     "sb3-contrib", "torch", "mesa", "pygame", "imageio")
REPO_ROOT = Path(__file__).resolve().parents[1]


class UsageError(Exception):
    """A bad flag or file: reported as one line, exit status 2."""

    def __init__(self, flag: str, message: str):
        self.flag = flag
        super().__init__(f"{flag}: {message}")


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
    p.add_argument("--episodes", type=int_at_least(1), default=8,
                   help="worlds simulated together in one batch (default: 8)")
    p.add_argument("--fishers", type=int_at_least(1), default=4, help="fisher slots per world (default: 4)")
    p.add_argument("--ticks", type=int_at_least(1), default=None,
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


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="python -m sim.run",
        description="Run fishers in a world and write a run folder: config, command, versions, "
                    "metrics with 95% intervals, recorded episodes. The policy is a scripted fisher "
                    "or a trained one (the hungry fisher itself) exported by training.",
        epilog="Recorded episodes are .npz files (format: sim.record, read them with "
               "sim.record.load_episode); watch one with python -m viz.playback EPISODE.npz (or the "
               "run folder). When training, the run ends with the skill report (analysis.report): "
               "RUN_DIR/report/report.md.",
    )
    add_run_flags(p, out_default="runs/WORLD-POLICY-YYYYmmdd-HHMMSS", seed_help="base seed (default: 0)")
    p.add_argument("--policy", default=TRAIN,
                   help="'train' (default): train a hungry fisher (reward: meals only) with PPO, then "
                        "evaluate it beside scripted references; scripted:NAME for a scripted fisher; a "
                        "trained policy: a policy.json/.npz, a training run folder, or a model .zip (a "
                        ".zip only when its run folder's manifest.json lists it, or with --trust-zip)")
    p.add_argument("--steps", type=int_at_least(1), default=None,
                   help="training budget in samples (fisher-ticks) when training (default: "
                        "agents/hyperparams.toml's n_timesteps for the world)")
    p.add_argument("--list-worlds", action="store_true", help="list the shipped worlds and exit")
    p.add_argument("--report", default="quick", choices=REPORT_SCALES,
                   help="when training: probe the hungry fisher, measure emergence over its checkpoints "
                        "and its transfer to the other shipped worlds, and write RUN_DIR/report/ "
                        "(analysis.report) at this probe scale; 'none' skips it (default: quick)")
    return p


# --- resolving the arguments -------------------------------------------------------------------

def resolve_world(spec: str) -> World:
    try:
        return load_world(spec)
    except WorldFileError as err:
        raise UsageError("--world", str(err)) from None
    except ImportError as err:
        raise UsageError("--world", f"{spec!r} needs a module that is not there yet ({err})") from None
    except (ValueError, OSError) as err:
        raise UsageError("--world", f"{spec!r}: {err}") from None


def resolve_policy(spec: str, seed: int, trust_zip: bool = False, deterministic: bool = True,
                   flag: str = "--policy") -> object:
    """scripted:NAME, or a trained policy through agents.policies.load_policy; errors name `flag`."""
    from agents.scripted import SCRIPTED_NAMES, scripted_policy

    kind, sep, name = spec.partition(":")
    names = ", ".join(SCRIPTED_NAMES)
    if kind == "scripted" and sep:
        try:  # scripted:NAME or scripted:NAME:KEY=INT,... (e.g. scripted:patient:patience_ticks=20)
            return scripted_policy(spec, seed=seed)
        except ValueError as err:
            raise UsageError(flag, str(err)) from None
    if not Path(spec).exists():
        hint = f" (did you mean scripted:{spec}?)" if spec in SCRIPTED_NAMES else ""
        raise UsageError(flag, f"{spec!r} is neither scripted:NAME nor an existing file or folder: "
                               f"expected scripted:NAME with NAME one of {names}, or a trained policy "
                               f"(trained policies arrive with training: a policy.json/.npz, a training "
                               f"run folder or a model .zip){hint}")
    from agents.policies import PolicyFileError, load_policy

    try:
        return load_policy(spec, trust_zip=trust_zip, deterministic=deterministic, seed=seed)
    except PolicyFileError as err:
        raise UsageError(flag, " ".join(str(err).split())) from None


def prepare_out(out: str | None, world: World, policy: str) -> Path:
    """The run folder, created now (so a bad --out fails before simulating); it must be new or empty."""
    try:
        path = new_run_folder(out, f"{slug(world.name)}-{slug(policy)}")
    except OutFolderError as err:
        raise UsageError("--out", str(err)) from None
    (path / "episodes").mkdir(exist_ok=True)
    return path


# --- what goes into the run folder ---------------------------------------------------------------

def rollout_seeds(seed: int, n: int) -> list[int]:
    """The world seeds agents.rollout.run_policy uses (checked against the rollout at its first step)."""
    return [seed * 100_003 + i for i in range(n)]


def versions() -> dict[str, Any]:
    out: dict[str, Any] = {"python": sys.version.split()[0], "platform": sys.platform}
    names = ["hungry-fisher", "numpy"]
    try:
        requires = importlib.metadata.requires("hungry-fisher") or []
        names += [re.split(r"[\s<>=!~;\[(]", r, maxsplit=1)[0] for r in requires if "extra ==" not in r]
    except importlib.metadata.PackageNotFoundError:
        names += list(FALLBACK_PACKAGES)
    for name in dict.fromkeys(names):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    try:
        git = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True,
                             timeout=5)
        if git.returncode == 0:
            out["git_commit"] = git.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return out


def _number(x: float) -> float | None:
    """JSON has no NaN: a metric that could not be measured (no storm came) is null."""
    return None if x is None or math.isnan(x) else float(x)


def summarize(rollout) -> dict[str, dict[str, Any]]:
    from agents.rollout import interval

    out = {}
    for name in METRICS:
        values = rollout.per_world(name)
        mean, low, high = interval(values)
        if np.count_nonzero(~np.isnan(values)) < MIN_WORLDS_FOR_INTERVAL:
            low = high = math.nan  # a bootstrap over one or two worlds is no interval
        out[name] = {"mean": _number(mean), "low": _number(low), "high": _number(high),
                     "per_world": [_number(v) for v in values]}
    return out


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n")


# --- the run -------------------------------------------------------------------------------------

def _list_worlds() -> int:
    for name in list_worlds():
        try:
            description = load_world(name).description or "(no description)"
        except WorldFileError as err:
            description = f"(broken: {err})"
        print(f"{name}: {description}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad flags or files)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse(build_parser(), argv)
    if isinstance(args, int):  # --help, or a bad flag (already reported in one line)
        return args
    if args.list_worlds:
        return _list_worlds()
    try:
        return _run(args, argv)
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    if args.record is not None and args.record > args.episodes:  # before any training or simulating
        raise UsageError("--record", f"expected at most --episodes ({args.episodes}), got {args.record}")
    world = resolve_world(args.world)
    if args.policy != TRAIN:
        if args.steps is not None:
            raise UsageError("--steps", "only applies when training (--policy train)")
        policy = resolve_policy(args.policy, args.seed, trust_zip=args.trust_zip)
        return execute(args, argv, world, policy)
    return train_and_evaluate(args, argv, world)


def train_and_evaluate(args: argparse.Namespace, argv: list[str], world: World) -> int:
    """The main job: train a hungry fisher, evaluate it, and put it beside the scripted references."""
    from agents.train import UsageError as TrainUsageError
    from agents.train import train

    run_dir = prepare_out(args.out, world, "hungry-fisher")
    try:
        training = train(world=args.world, steps=args.steps, seed=args.seed, out=run_dir / "training",
                         progress=not (args.json or args.quiet) and sys.stderr.isatty(),
                         command=shlex.join(["python", "-m", "sim.run", *argv]))
    except TrainUsageError as err:
        raise UsageError("--world", str(err)) from None
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
    from rich.console import Console

    from analysis.probe import render_cards
    from analysis.report import build_report

    quiet = args.json or args.quiet
    console = Console(stderr=True, quiet=bool(quiet))
    path = build_report(run_dir, out=run_dir / "report", world=args.world, seed=args.seed, scale=args.report,
                        probe_every=REPORT_PROBE_EVERY, progress=lambda m: console.log(f"report: {m}"),
                        command=f"python -m analysis.report {shlex.quote(str(run_dir))} --probe-every "
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
    from agents.rollout import run_policy
    from agents.scripted import make_scripted

    ticks = args.ticks if args.ticks is not None else world.params.time.horizon
    rows = {"hungry fisher": json.loads((run_dir / "metrics.json").read_text())["metrics"]}
    for name in REFERENCES:
        rollout = run_policy(make_scripted(name, seed=args.seed), world, n_worlds=args.episodes,
                             n_fishers=args.fishers, ticks=ticks, seed=args.seed, respawn=not args.cohort)
        rows[name] = summarize(rollout)
    _write_json(run_dir / "references.json", {k: v for k, v in rows.items() if k != "hungry fisher"})
    if not (args.json or args.quiet):
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"The hungry fisher beside scripted fishers on {world.name} (means)")
        table.add_column("metric")
        for name in rows:
            table.add_column(name, justify="right")
        for metric in ("meals_per_day", "survival", "reel_empty_rate", "storm_sheltered",
                       "cast_rate_falling", "cast_rate_steady"):
            table.add_row(METRIC_LABELS[metric], *(_fmt(rows[n][metric]["mean"]) for n in rows))
        table.caption = ("patience: empty reels per waiting tick (lower is more patient); weather reading: "
                         "storm ticks sheltered, and casting when the barometer falls vs steady")
        Console().print(table)
    return rows


def execute(args: argparse.Namespace, argv: list[str], world: World, policy: object,
            module: str = "sim.run", out_label: str | None = None, run_dir: Path | None = None) -> int:
    """Run `policy` as `args` say and write the run folder; shared by sim.run and agents.evaluate.

    `args` needs: policy (the label recorded everywhere), episodes, fishers, ticks, seed, cohort,
    record, out, json, quiet; every field is written to config.json. `module` names the command
    in command.txt; `out_label` replaces the policy in the default run folder's name.
    """
    from agents.rollout import run_policy

    ticks = args.ticks if args.ticks is not None else world.params.time.horizon
    if args.record is None:
        args.record = min(DEFAULT_RECORD, args.episodes)
    elif args.record > args.episodes:
        raise UsageError("--record", f"expected at most --episodes ({args.episodes}), got {args.record}")
    if run_dir is None:
        run_dir = prepare_out(args.out, world, out_label or args.policy)
    seeds = rollout_seeds(args.seed, args.episodes)
    respawn_delay = None if args.cohort else world.params.time.day_length  # run_policy's own default
    protocol = "cohort" if args.cohort else f"respawn after {respawn_delay} ticks"

    resolved = {**vars(args), "ticks": ticks, "out": str(run_dir)}
    _write_json(run_dir / "config.json", {
        "args": resolved, "protocol": protocol, "respawn_delay": respawn_delay, "seeds": seeds,
        "recorded_episodes": [f"episodes/episode_{i:03d}.npz" for i in range(args.record)],
        "world": {"name": world.name, "source": world.source, "description": world.description,
                  "shape": list(world.shape), "params": dataclasses.asdict(world.params)},
    })
    (run_dir / "command.txt").write_text(shlex.join(["python", "-m", module, *argv]) + "\n")
    _write_json(run_dir / "versions.json", versions())

    recorders = _recorders(world, args, seeds, protocol, run_dir)
    show_progress = not (args.json or args.quiet) and sys.stderr.isatty()
    start = time.perf_counter()
    # a policy with memory (an LSTM) is told which slots began a new life, as in training
    new_lives = getattr(policy, "new_lives", None)
    live = None
    if getattr(args, "render", None) is not None:  # --render: the live view (pygame, imported only now)
        from viz.live import LiveView

        live = LiveView(speed=args.render, policy=args.policy,
                        title=f"{args.policy} on {world.name} (world 0 of {args.episodes})")
    with _progress(show_progress, ticks, f"{args.policy} on {world.name}") as advance:
        def on_step(sim, actions, result) -> None:
            for rec in recorders:
                rec.record(actions, result, sim=sim)
            if new_lives is not None:
                new_lives(sim.state.lives)
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
    _write_json(run_dir / "metrics.json", {
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
    from sim.core import Simulation

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
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("ticks"), TimeRemainingColumn(), console=Console(stderr=True),
                            transient=True)
        self.bar.start()
        task = self.bar.add_task(self.label, total=self.total)
        return lambda: self.bar.advance(task)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _print_table(head: dict[str, Any], metrics: dict[str, dict[str, Any]], episodes: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{head['policy']} on {head['world']}: {head['episodes']} worlds x "
                        f"{head['fishers']} fishers, {head['ticks']} ticks, {head['protocol']}")
    table.caption = (f"95% CI: bootstrap over worlds; n/a where fewer than {MIN_WORLDS_FOR_INTERVAL} "
                     "worlds measured it (storm metrics need a storm)")
    table.add_column("metric")
    table.add_column("mean", justify="right")
    table.add_column("95% CI", justify="right")
    for name, m in metrics.items():
        ci = "n/a" if m["low"] is None else f"[{m['low']:.3f}, {m['high']:.3f}]"
        table.add_row(METRIC_LABELS.get(name, name), _fmt(m["mean"]), ci)
    console = Console()
    console.print(table)
    console.print(f"run folder: {head['run_dir']}", highlight=False, soft_wrap=True)
    if episodes:
        console.print(f"watch it: python -m viz.playback {episodes[0]}", highlight=False, soft_wrap=True)


def cli(entry: Callable[[], int] | None = None) -> None:
    """The console entry point: `main` (or `entry`) on sys.argv, quiet when a reader closes the pipe."""
    try:
        code = (entry or main)()
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        code = 1
    raise SystemExit(code)


if __name__ == "__main__":
    cli()
