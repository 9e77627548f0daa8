"""`python -m agents.train`: train hungry fishers (SB3 PPO or sb3_contrib RecurrentPPO); write a run folder.

    python -m agents.train --world lake --algo ppo --steps 5000000 --seed 0 --out runs/lake-ppo-0
    python -m agents.train --resume runs/lake-ppo-0          # continue an interrupted run
    python -m agents.train --world ice --init runs/lake-ppo-0 --steps 500000   # fine-tune (transfer)

One shared policy acts for every fisher slot of a batched FisherVecEnv (agents.vec_env).
Hyperparameters come from agents/hyperparams.toml (agents.hyperparams): [ALGO.default], then
[ALGO.KEY] for --hyperparams-key KEY, or else for the world's (or pool's) registry name
("lake", "generated", "suite:train"); a world given by path gets [ALGO.default] only.
The run folder's files are described in agents.run_folders; the model is built by
agents.models; the bookkeeping (curve, checkpoints, manifest) and --resume are agents.training_run.

Seeds: the model's seed seeds torch, numpy, python's random and the VecEnv (world i of epoch k
gets seed + i + k * n_worlds), so the same seed and steps give the same final weights (with one
torch thread; two threads may differ in the last bits). Checkpoints hold everything a run needs
to continue exactly: a run killed at any moment and resumed with --resume loses only the work
since its last checkpoint and ends with the same weights as if it had never stopped.

`steps` is rounded up to whole rollouts (n_steps x n_worlds x n_fishers samples).
Bad flags or files: one line on stderr ("error: --flag: ...") and exit status 2.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agents import checkpoints as ck
from agents import models  # first: it sets OMP_WAIT_POLICY before torch is imported
from agents.hyperparams import (
    ALGOS,
    HYPERPARAMS_FILE,
    HyperparamsError,
    load_hyperparams,
    parse_override,
    world_keys,
)
from agents.learning_curve import eval_protocol
from agents.rewards import check_reward
from agents.run_folders import CONFIG_FORMAT, new_training_folder, write_start_files
from agents.run_lock import RunLock
from agents.training_run import Run, learn, resume_run
from sim.cli import Parser, UsageError, cli, int_at_least, run_command

DEFAULT_CHECKPOINT_EVERY = 500_000
DEFAULT_EVAL_EVERY = 250_000


@dataclass(frozen=True)
class TrainConfig:
    """What defines a training run (config.json records it, resolved); checked when made.

    Args:
        world: the training world, and where the learning curve is measured.
        worlds: a training pool instead ("suite:NAME", "generated:N", or a list of world specs).
        algo: "ppo" or "recurrent_ppo".
        steps: samples (fisher-ticks) to train on, rounded up to whole rollouts
            (None: the hyperparameters' n_timesteps).
        seed: seeds the model, the VecEnv and python's and numpy's RNGs.
        reward: "eat" (the incentive) or "taught" (shaped, for comparison).
        out: the run folder, new or empty (None: runs/train-...).
        checkpoint_every, eval_every: in samples (0: only at the start and the end; None: defaults).
        threads: torch threads (None: 1).
        hyperparams: a TOML file like agents/hyperparams.toml (None: that one).
        hyperparams_key: the [ALGO.KEY] section to use (None: the world's registry name, if any).
        overrides: {key: value} on top of the file's sections.
        init_from: start from these weights instead of random ones (fine-tuning, for transfer):
            anything agents.policies.load_policy reads (a run folder, a policy file, a
            manifest-listed zip) of the same algo and network (net_arch, activation, LSTM
            sizes). The whole policy (actor and critic) is copied; the optimizer starts fresh.
    Raises UsageError (a ValueError) for a bad value, naming its flag.
    """

    world: str = "lake"
    worlds: str | Sequence[str] | None = None
    algo: str = "ppo"
    steps: int | None = None
    seed: int = 0
    reward: str = "eat"
    out: str | Path | None = None
    checkpoint_every: int | None = None
    eval_every: int | None = None
    threads: int | None = None
    hyperparams: str | Path | None = None
    hyperparams_key: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    init_from: str | Path | None = None

    def __post_init__(self) -> None:
        if self.algo not in ALGOS:
            raise UsageError("--algo", f"expected one of {', '.join(ALGOS)}, got {self.algo!r}")
        problem = check_reward(self.reward)
        if problem:
            raise UsageError("--reward", f"expected {problem}, got {self.reward!r}")
        for flag, value in (("--steps", self.steps), ("--checkpoint-every", self.checkpoint_every),
                            ("--eval-every", self.eval_every), ("--seed", self.seed),
                            ("--threads", self.threads)):
            low = 1 if flag in ("--steps", "--threads") else 0
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | np.integer)
                                      or value < low):
                raise UsageError(flag, f"expected an integer >= {low}, got {value!r}")
        if self.hyperparams_key is not None and (not isinstance(self.hyperparams_key, str)
                                                 or not self.hyperparams_key):
            raise UsageError("--hyperparams-key", f"expected a section name, got {self.hyperparams_key!r}")


def _hyperparams(cfg: TrainConfig) -> tuple[dict[str, Any], list[str], Path]:
    """(resolved hyperparameters, the sections used, the file) of a run; an explicit key must exist."""
    hp_path = Path(cfg.hyperparams) if cfg.hyperparams is not None else HYPERPARAMS_FILE
    try:
        hp, used = load_hyperparams(cfg.algo, world_keys(cfg.world, cfg.worlds, cfg.hyperparams_key), hp_path,
                                    cfg.overrides)
    except HyperparamsError as err:
        flag = "--set" if str(err).startswith("--set") else "--hyperparams"
        raise UsageError(flag, str(err).removeprefix("--set: ")) from None
    key = cfg.hyperparams_key
    if key not in (None, "default") and f"{cfg.algo}.{key}" not in used:
        raise UsageError("--hyperparams-key", f"{hp_path} has no [{cfg.algo}.{key}] section")
    return hp, used, hp_path


def start_run(cfg: TrainConfig, progress: bool = True, callbacks: Sequence[Any] = (),
              command: str | None = None) -> Path:
    """Train a new run of `cfg` and write its run folder; returns its path.

    progress: a progress bar and a summary; callbacks: extra SB3 callbacks, called like the
    run's own; command: the command line for command.txt (default: the python call).
    Raises UsageError for bad arguments or files, before training starts.
    """
    threads = int(cfg.threads or 1)
    pool = models.training_pool(cfg.world, cfg.worlds)
    hp, used, hp_path = _hyperparams(cfg)
    source = models.init_source(cfg.init_from, cfg.algo, hp) if cfg.init_from is not None else None
    slots = hp["n_worlds"] * hp["n_fishers"]
    rollout = hp["n_steps"] * slots
    requested = int(cfg.steps if cfg.steps is not None else hp["n_timesteps"])
    total = -(-requested // rollout) * rollout
    worlds = cfg.worlds
    path = new_training_folder(cfg.out, f"{cfg.world if worlds is None else 'pool'}-{cfg.algo}-s{cfg.seed}")
    config = {
        "format": CONFIG_FORMAT,
        "algo": cfg.algo, "world": cfg.world,
        "worlds": worlds if isinstance(worlds, str | None) else list(worlds),
        "resolved_worlds": pool, "reward": cfg.reward, "seed": int(cfg.seed),
        "seeds": {"model": int(cfg.seed), "vec_env": int(cfg.seed), "eval": hp["eval_seed"],
                  "vec_env_rule": "world i of epoch k: seed + i + k * n_worlds"},
        "steps_requested": requested, "steps": total, "rollout_samples": rollout, "slots": slots,
        "checkpoint_every": int(DEFAULT_CHECKPOINT_EVERY if cfg.checkpoint_every is None
                                else cfg.checkpoint_every),
        "eval_every": int(DEFAULT_EVAL_EVERY if cfg.eval_every is None else cfg.eval_every),
        "threads": threads,
        "hyperparams_file": str(hp_path.resolve()), "hyperparams_key": cfg.hyperparams_key,
        "hyperparams_sections": used, "overrides": dict(cfg.overrides or {}), "hyperparams": hp,
        "policy": "MlpPolicy" if cfg.algo == "ppo" else "MlpLstmPolicy",
        "eval": eval_protocol(cfg.world, hp),
        "init_from": None if source is None else source[1],
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "gomp_spincount": os.environ.get("GOMP_SPINCOUNT"),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    command = command or (f"# python: agents.train.train(world={cfg.world!r}, worlds={worlds!r}, "
                          f"algo={cfg.algo!r}, steps={total}, seed={cfg.seed}, reward={cfg.reward!r}, "
                          f"out={str(path)!r})")
    with RunLock(path, "--out"):  # one writer per run folder (a --resume of it waits its turn)
        manifest = ck.Manifest(path)
        manifest.record(*write_start_files(path, config, command))
        manifest.write()
        run = Run(path, config, manifest, {})
        model = models.make_model(config, path, threads)
        if source is not None:
            models.load_init_weights(model, source[0], cfg.init_from)
        return learn(run, model, progress, callbacks, reset=True)


def train(world: str = "lake", worlds: str | Sequence[str] | None = None, algo: str = "ppo",
          steps: int | None = None, seed: int = 0, reward: str = "eat", out: str | Path | None = None,
          resume: str | Path | None = None, checkpoint_every: int | None = None,
          eval_every: int | None = None, progress: bool = True, threads: int | None = None,
          hyperparams: str | Path | None = None, overrides: dict[str, Any] | None = None,
          callbacks: Sequence[Any] = (), command: str | None = None,
          init_from: str | Path | None = None, hyperparams_key: str | None = None) -> Path:
    """Train a policy and write a run folder (start_run with a TrainConfig of these keywords), or
    continue one (`resume`: resume_run; every argument but progress, threads, callbacks and
    command is then ignored). Returns the run folder's path. See TrainConfig for the arguments."""
    if resume is not None:
        return resume_run(resume, progress=progress, threads=threads, callbacks=callbacks, command=command)
    cfg = TrainConfig(world=world, worlds=worlds, algo=algo, steps=steps, seed=seed, reward=reward, out=out,
                      checkpoint_every=checkpoint_every, eval_every=eval_every, threads=threads,
                      hyperparams=hyperparams, hyperparams_key=hyperparams_key,
                      overrides=dict(overrides or {}), init_from=init_from)
    return start_run(cfg, progress=progress, callbacks=callbacks, command=command)


# --- the command line ------------------------------------------------------------------------------

def reward_spelling(text: str) -> str:
    """An argparse type: a reward spelling (agents.rewards.check_reward)."""
    problem = check_reward(text)
    if problem:
        raise argparse.ArgumentTypeError(f"expected {problem}, got {text!r}")
    return text


# flags that define a run: with --resume, the run's own config.json decides them
RUN_FLAGS = ("world", "worlds", "algo", "steps", "seed", "reward", "out", "checkpoint_every", "eval_every",
             "hyperparams", "hyperparams_key", "set", "init")


def build_parser() -> argparse.ArgumentParser:
    """The command's flags (every default None, so that --resume can refuse the ones given)."""
    p = Parser(prog="python -m agents.train",
               description="Train hungry fishers (one shared policy for every fisher slot) and write a run "
                           "folder: config, command, versions, tensorboard logs, checkpoints, a learning "
                           "curve, final.zip and a manifest of sha256s.",
               epilog="Hyperparameters: agents/hyperparams.toml ([ALGO.default], then [ALGO.KEY] for "
                      "--hyperparams-key KEY or the world's registry name; a world path: default only).")
    p.add_argument("--world", default=None, help="training world, and where the learning curve is measured "
                                                 "(default: lake)")
    p.add_argument("--worlds", default=None,
                   help="train on a pool instead: suite:NAME, generated:N, or a comma-separated list")
    p.add_argument("--algo", choices=ALGOS, default=None,
                   help="ppo (default) or recurrent_ppo (MlpLstmPolicy)")
    p.add_argument("--steps", type=int_at_least(1), default=None,
                   help="samples (fisher-ticks), rounded up to whole rollouts (default: n_timesteps)")
    p.add_argument("--seed", type=int_at_least(0), default=None, help="seed (default: 0)")
    p.add_argument("--reward", type=reward_spelling, default=None, metavar="REWARD",
                   help="eat (default: the incentive, the only signal); for comparison taught (additive "
                        "skill rewards) or shaped[:SCALE] (potential-based shaping, agents.rewards)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="run folder (default: runs/train-...); new or empty")
    p.add_argument("--resume", default=None, metavar="DIR",
                   help="continue an interrupted run from its last checkpoint, to its original --steps")
    p.add_argument("--checkpoint-every", type=int_at_least(0), default=None, metavar="STEPS",
                   help=f"samples between checkpoints (default: {DEFAULT_CHECKPOINT_EVERY:,}; "
                        f"0: start and end)")
    p.add_argument("--eval-every", type=int_at_least(0), default=None, metavar="STEPS",
                   help=f"samples between learning-curve points (default: {DEFAULT_EVAL_EVERY:,}; 0: start "
                        f"and end)")
    p.add_argument("--threads", type=int_at_least(1), default=None,
                   help="torch threads: 1 (default; bit-reproducible) or 2")
    p.add_argument("--hyperparams", default=None, metavar="FILE",
                   help="a hyperparameter file like agents/hyperparams.toml")
    p.add_argument("--hyperparams-key", default=None, metavar="KEY",
                   help="use the file's [ALGO.KEY] section (default: the world's or pool's registry name, "
                        "e.g. lake or suite:train, when the file has one; none for a world given by path)")
    p.add_argument("--set", action="append", default=None, metavar="KEY=VALUE",
                   help="override one hyperparameter (repeatable), e.g. --set n_worlds=16")
    p.add_argument("--init", default=None, metavar="RUN_OR_POLICY",
                   help="start from these weights (fine-tuning): a run folder or a policy file of the same "
                        "algo and network")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad flags or files)."""
    return run_command(build_parser(), argv, _train)


def _train(args: argparse.Namespace, argv: list[str]) -> int:
    command = "python -m agents.train " + shlex.join(argv)
    if args.resume is not None:
        given = [f"--{k.replace('_', '-')}" for k in RUN_FLAGS if getattr(args, k) is not None]
        if given:
            raise UsageError(given[0], "cannot be combined with --resume: a resumed run keeps its own "
                                       "config.json")
        resume_run(args.resume, progress=not args.quiet, threads=args.threads, command=command)
        return 0
    cfg = TrainConfig(world=args.world or "lake", worlds=args.worlds, algo=args.algo or "ppo",
                      steps=args.steps, seed=args.seed or 0, reward=args.reward or "eat", out=args.out,
                      checkpoint_every=args.checkpoint_every, eval_every=args.eval_every,
                      threads=args.threads, hyperparams=args.hyperparams,
                      hyperparams_key=args.hyperparams_key,
                      overrides=dict(parse_override(s) for s in args.set or []), init_from=args.init)
    start_run(cfg, progress=not args.quiet, command=command)
    return 0


if __name__ == "__main__":
    cli(main)
