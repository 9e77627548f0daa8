"""`python -m sim.run`: the main job from the command line, writing a run folder anyone can rerun.

It evaluates a fisher, scripted (scripted:NAME) or trained (a policy file, a training run
folder or a model .zip; see agents.policy_spec), in a world (app.evaluation), or, by default,
trains the hungry fisher first and reports its skills (app.main_job).

Bad flags or files end with one line on stderr ("error: --flag: what is wrong") and exit
status 2; `main(argv)` returns the exit status, so tests call it directly.
"""

from __future__ import annotations

import argparse

from agents.policy_spec import resolve_policy
from analysis.scales import SCALES
from app.evaluation import add_run_flags, execute
from sim.cli import Parser, UsageError, cli, int_at_least, load_world_arg, run_command
from worlds.loader import WorldFileError, list_worlds, load_world

TRAIN = "train"  # the --policy that trains the hungry fisher first (the main job)
REPORT_SCALES = (*SCALES, "none")  # a probe scale for the report, or no report


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
    return run_command(build_parser(), argv, _run)


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    if args.list_worlds:
        return _list_worlds()
    if args.record is not None and args.record > args.episodes:  # before any training or simulating
        raise UsageError("--record", f"expected at most --episodes ({args.episodes}), got {args.record}")
    world = load_world_arg(args.world)
    if args.policy != TRAIN:
        if args.steps is not None:
            raise UsageError("--steps", "only applies when training (--policy train)")
        policy = resolve_policy(args.policy, args.seed, trust_zip=args.trust_zip)
        return execute(args, argv, world, policy)
    from app.main_job import train_and_evaluate  # torch, SB3 and matplotlib: only when training

    return train_and_evaluate(args, argv, world)


if __name__ == "__main__":
    cli(main)
