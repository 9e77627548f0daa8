"""`python -m agents.train`: train hungry fishers (SB3 PPO or sb3_contrib RecurrentPPO); write a run folder.

    python -m agents.train --world lake --algo ppo --steps 5000000 --seed 0 --out runs/lake-ppo-0
    python -m agents.train --resume runs/lake-ppo-0          # continue an interrupted run
    python -m agents.train --world ice --init runs/lake-ppo-0 --steps 500000   # fine-tune (transfer)

One shared policy acts for every fisher slot of a batched FisherVecEnv (agents.vec_env).
Hyperparameters come from agents/hyperparams.toml ([ALGO.default] then [ALGO.WORLD]).
The run folder:

    config.json          every resolved argument, the hyperparameters and the sections they came
                         from, the resolved world list, the seeds and the evaluation protocol
    command.txt          the command line (a resumed run appends its own)
    versions.json        python, numpy, torch, stable-baselines3, sb3-contrib, gymnasium, pettingzoo,
                         mesa, tensorboard (and the git commit)
    tensorboard/         SB3's tensorboard logs plus eval/* scalars (tensorboard --logdir RUN/tensorboard)
    checkpoints/         step_NNNNNNNNNNNN.zip + .state.npz at 0, every --checkpoint-every samples
                         (at the first rollout boundary past each multiple) and at the end
                         (format: agents.checkpoints)
    learning_curve.csv   timesteps, training seconds (wall time of learning, excluding evaluation
                         and checkpoint writing), and the current stochastic policy's meals per
                         fisher-day and survival with 95% bootstrap intervals over worlds, measured by
                         agents.rollout.run_policy on a fixed seed in --world (cohort, no respawn)
    final.zip            the trained model (SB3 format)
    policy.json, .npz    the same policy as a weights-only file (agents.policies.export_policy), which
                         agents.policies.load_policy(RUN) prefers
    manifest.json        every file above with its sha256; --resume (and the policy loader) load a
                         zip only when it is listed here and matches

Seeds: the model's seed seeds torch, numpy, python's random and the VecEnv (world i of epoch k
gets seed + i + k * n_worlds), so the same seed and steps give the same final weights (with one
torch thread; two threads may differ in the last bits). Checkpoints hold everything a run needs
to continue exactly: a run killed at any moment and resumed with --resume loses only the work
since its last checkpoint and ends with the same weights as if it had never stopped.

`steps` is rounded up to whole rollouts (n_steps x n_worlds x n_fishers samples).
Bad flags or files: one line on stderr ("error: --flag: ...") and exit status 2.
OMP_WAIT_POLICY=PASSIVE is set (if unset) before torch is imported: with the default policy,
torch's spinning OpenMP worker starves the numpy environment on 2 threads (PROTOTYPE.md).
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import io
import json
import math
import os
import shlex
import sys
import time
import tomllib
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents import checkpoints as ck
from sim.cli import (
    EXIT_USAGE,
    OutFolderError,
    Parser,
    UsageError,
    int_at_least,
    new_run_folder,
    parse,
    slug,
    versions,
)

ALGOS = ("ppo", "recurrent_ppo")
REWARD_NAMES = ("eat", "taught")
HYPERPARAMS_FILE = Path(__file__).resolve().with_name("hyperparams.toml")
DEFAULT_CHECKPOINT_EVERY = 500_000
DEFAULT_EVAL_EVERY = 250_000
REPO_ROOT = Path(__file__).resolve().parents[1]
CURVE = "learning_curve.csv"
CURVE_COLUMNS = ("timesteps", "train_seconds", "meals_per_day", "meals_per_day_low", "meals_per_day_high",
                 "survival", "survival_low", "survival_high", "reel_empty_rate", "storm_sheltered",
                 "eval_seconds")
CONFIG_FORMAT = 1


class HyperparamsError(ValueError):
    """A hyperparameter file (or override) with an unknown section or key, or a bad value."""


# --- hyperparameters -----------------------------------------------------------------------------

def _int(low: int):
    def check(v: object) -> str | None:
        ok = isinstance(v, int) and not isinstance(v, bool) and v >= low
        return None if ok else f"expected an integer >= {low}"
    return check


def _float(low: float, high: float = math.inf, low_open: bool = False):
    def check(v: object) -> str | None:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            return "expected a number"
        if v < low or v > high or (low_open and v == low):
            lo = "(" if low_open else "["
            return f"expected a number in {lo}{low}, {high}]"
        return None
    return check


def _bool(v: object) -> str | None:
    return None if isinstance(v, bool) else "expected true or false"


def _layers(v: object) -> str | None:
    ok = isinstance(v, list) and all(isinstance(x, int) and not isinstance(x, bool) and x >= 1 for x in v)
    return None if ok else "expected a list of layer sizes (integers >= 1), e.g. [64, 64]"


def _activation(v: object) -> str | None:
    return None if v in ("tanh", "relu") else 'expected "tanh" or "relu"'


# key -> check; keys in RECURRENT_KEYS are for recurrent_ppo only
SCHEMA = {
    "n_timesteps": _int(1), "n_worlds": _int(1), "n_fishers": _int(1), "horizon": _int(0),
    "n_steps": _int(2), "batch_size": _int(2), "n_epochs": _int(1),
    "learning_rate": _float(0.0, low_open=True), "gamma": _float(0.0, 1.0), "gae_lambda": _float(0.0, 1.0),
    "clip_range": _float(0.0, low_open=True), "ent_coef": _float(0.0), "vf_coef": _float(0.0),
    "max_grad_norm": _float(0.0, low_open=True), "normalize_advantage": _bool, "target_kl": _float(0.0),
    "net_arch": _layers, "activation": _activation,
    "lstm_hidden_size": _int(1), "n_lstm_layers": _int(1), "shared_lstm": _bool, "enable_critic_lstm": _bool,
    "eval_worlds": _int(1), "eval_fishers": _int(1), "eval_ticks": _int(1), "eval_seed": _int(0),
}
RECURRENT_KEYS = ("lstm_hidden_size", "n_lstm_layers", "shared_lstm", "enable_critic_lstm")


def allowed_keys(algo: str) -> list[str]:
    return [k for k in SCHEMA if algo == "recurrent_ppo" or k not in RECURRENT_KEYS]


def _check_section(algo: str, section: str, table: object, where: str) -> None:
    if not isinstance(table, dict):
        raise HyperparamsError(f"{where}: [{algo}.{section}] must be a table of key = value")
    allowed = allowed_keys(algo)
    for key, value in table.items():
        if key not in allowed:
            hint = " (recurrent_ppo only)" if key in RECURRENT_KEYS else ""
            raise HyperparamsError(f"{where}: [{algo}.{section}] unknown key {key!r}{hint}; "
                                   f"expected one of {', '.join(allowed)}")
        problem = SCHEMA[key](value)
        if problem:
            raise HyperparamsError(f"{where}: [{algo}.{section}] {key} = {value!r}: {problem}")


def read_hyperparams_file(path: Path | str = HYPERPARAMS_FILE) -> dict[str, dict[str, dict[str, Any]]]:
    """Parse and validate a whole hyperparameter file: {algo: {section: {key: value}}}."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as err:
        raise HyperparamsError(f"{path}: cannot be read ({err.strerror or err})") from None
    except tomllib.TOMLDecodeError as err:
        raise HyperparamsError(f"{path}: not valid TOML ({err})") from None
    for algo, sections in data.items():
        if algo not in ALGOS:
            raise HyperparamsError(f"{path}: unknown algorithm section [{algo}]; "
                                   f"expected one of {', '.join(ALGOS)}")
        if not isinstance(sections, dict) or not all(isinstance(v, dict) for v in sections.values()):
            raise HyperparamsError(f"{path}: [{algo}] must hold sections like [{algo}.default], "
                                   f"[{algo}.lake], not keys")
        for section, table in sections.items():
            _check_section(algo, section, table, str(path))
    return data


def world_keys(world: str, worlds: object = None) -> list[str]:
    """Section names tried after `default`, first match wins: the pool spec ("suite:train",
    then "suite"), else the world ("generated:7", then "generated"; a path's folder name)."""
    spec = worlds if isinstance(worlds, str) else (None if worlds else world)
    if spec is None:
        return []
    keys = [spec, spec.split(":", 1)[0], Path(spec).name, Path(spec).parent.name]
    return [k for k in dict.fromkeys(keys) if k]


def load_hyperparams(algo: str, keys: Sequence[str] = (), path: Path | str | None = None,
                     overrides: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    """The resolved hyperparameters for an algorithm and world: [algo.default], then the first of
    [algo.KEY] for KEY in keys, then `overrides`. Returns (params, the sections used)."""
    path = Path(path or HYPERPARAMS_FILE)
    data = read_hyperparams_file(path)
    if algo not in ALGOS:
        raise HyperparamsError(f"algo: expected one of {', '.join(ALGOS)}, got {algo!r}")
    sections = data.get(algo, {})
    if "default" not in sections:
        raise HyperparamsError(f"{path}: [{algo}.default] is missing")
    params = dict(sections["default"])
    used = [f"{algo}.default"]
    for key in keys:
        if key != "default" and key in sections:
            params.update(sections[key])
            used.append(f"{algo}.{key}")
            break
    if overrides:
        _check_section(algo, "overrides", dict(overrides), "--set")
        params.update(overrides)
    missing = [k for k in allowed_keys(algo) if k not in params]
    if missing:
        raise HyperparamsError(f"{path}: [{algo}.default] lacks {', '.join(missing)}")
    if algo == "recurrent_ppo" and params["shared_lstm"] and params["enable_critic_lstm"]:
        raise HyperparamsError(f"{path}: shared_lstm = true needs enable_critic_lstm = false")
    return params, used


def parse_override(text: str) -> tuple[str, Any]:
    """KEY=VALUE with VALUE in TOML syntax (bare words are strings)."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UsageError("--set", f"expected KEY=VALUE, got {text!r}")
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    return key, parsed


# --- run folder pieces -----------------------------------------------------------------------------

def _prepare_out(out: str | Path | None, name: str) -> Path:
    try:
        path = new_run_folder(out, f"train-{slug(name)}", hint=f" (or --resume {out} to continue a run)")
    except OutFolderError as err:
        raise UsageError("--out", str(err)) from None
    return path.resolve()  # absolute: the manifest lists files relative to it, wherever the cwd is


def _json(data: object) -> str:
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def _resolve_pool(world: str, worlds: object) -> list[str]:
    """The training pool as world specs, each checked now (a bad name fails before any training)."""
    from agents.vec_env import resolve_pool
    from worlds.loader import WorldFileError, load_world

    flag = "--worlds" if worlds is not None else "--world"
    if not isinstance(world, str):
        raise UsageError("--world", f"expected a world name or path, got {world!r}")
    if isinstance(worlds, str) and "," in worlds:
        worlds = [w.strip() for w in worlds.split(",") if w.strip()]
    try:
        pool = resolve_pool(world, worlds)
    except ValueError as err:
        raise UsageError(flag, str(err)) from None
    if not pool:
        raise UsageError(flag, "expected at least one world")
    specs = []
    checked_generated = False
    for w in pool:
        if not isinstance(w, str):
            raise UsageError(flag, f"expected world names or paths, got {w!r}")
        specs.append(w)
    for w in dict.fromkeys(specs + [world]):
        is_generated = w.startswith("generated:")
        if is_generated and checked_generated:
            continue  # generated worlds are valid by construction; check the form once
        checked_generated |= is_generated
        try:
            load_world(w)
        except (WorldFileError, ValueError, OSError) as err:
            raise UsageError("--world" if w == world else flag, str(err)) from None
    return specs


# --- evaluation ------------------------------------------------------------------------------------

class PolicyAct:
    """`.act(obs)` for agents.rollout.run_policy from an SB3 model (stochastic by default).
    A recurrent policy keeps its LSTM state across calls (one run_policy rollout per instance)."""

    def __init__(self, model, deterministic: bool = False):
        self.model = model
        self.deterministic = deterministic
        self.recurrent = hasattr(model.policy, "lstm_actor")
        self.state = None

    def act(self, obs: np.ndarray) -> np.ndarray:
        if not self.recurrent:
            actions, _ = self.model.policy.predict(obs, deterministic=self.deterministic)
            return actions
        starts = np.zeros(len(obs), dtype=bool)
        if self.state is None or self.state[0].shape[1] != len(obs):
            self.state, starts = None, np.ones(len(obs), dtype=bool)
        actions, self.state = self.model.policy.predict(obs, state=self.state, episode_start=starts,
                                                        deterministic=self.deterministic)
        return actions


def evaluate(model, world: str, protocol: dict[str, Any]) -> dict[str, float]:
    """The learning-curve measurement; it draws from its own seeded RNG and leaves the training
    RNGs (torch, numpy) as they were, so evaluating never changes what training does."""
    import torch

    from agents.rollout import interval, run_policy

    np_state = np.random.get_state()  # noqa: NPY002  (SB3 draws from numpy's global RNG)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(protocol["seed"])
            roll = run_policy(PolicyAct(model), world, n_worlds=protocol["n_worlds"],
                              n_fishers=protocol["n_fishers"], ticks=protocol["ticks"], seed=protocol["seed"],
                              respawn=False)
    finally:
        np.random.set_state(np_state)  # noqa: NPY002
    meals = interval(roll.per_world("meals_per_day"))
    surv = interval(roll.per_world("survival"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN (no storm came)
        reel = float(np.nanmean(roll.per_world("reel_empty_rate")))
        shelter = float(np.nanmean(roll.per_world("storm_sheltered")))
    return {"meals_per_day": meals[0], "meals_per_day_low": meals[1], "meals_per_day_high": meals[2],
            "survival": surv[0], "survival_low": surv[1], "survival_high": surv[2],
            "reel_empty_rate": reel, "storm_sheltered": shelter}


def read_curve(path: Path) -> list[dict[str, str]]:
    """The learning curve's rows (a partial last line, from a killed run, is dropped)."""
    if not path.exists():
        return []
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines = lines[:-1]
    rows = list(csv.DictReader(io.StringIO("".join(lines))))
    return [r for r in rows if len(r) == len(CURVE_COLUMNS) and None not in r.values()]


def _fmt(v: float) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.6g}"


# --- building the env and model ------------------------------------------------------------------

def build_env(config: dict[str, Any]):
    from stable_baselines3.common.vec_env import VecMonitor

    from agents.vec_env import INFO_KEYWORDS, make_vec_env

    hp = config["hyperparams"]
    env = make_vec_env(world=config["world"], worlds=config["resolved_worlds"], n_worlds=hp["n_worlds"],
                       n_fishers=hp["n_fishers"], seed=config["seed"], reward=config["reward"],
                       horizon=hp["horizon"] or None)
    return VecMonitor(env, info_keywords=INFO_KEYWORDS)


def build_model(algo: str, env, hp: dict[str, Any], seed: int, tensorboard_log: str | None):
    """A fresh SB3 model from resolved hyperparameters (the same code builds, resumes and benchmarks)."""
    from torch import nn

    policy_kwargs: dict[str, Any] = {"net_arch": list(hp["net_arch"]),
                                     "activation_fn": {"tanh": nn.Tanh, "relu": nn.ReLU}[hp["activation"]]}
    common = dict(learning_rate=hp["learning_rate"], n_steps=hp["n_steps"], batch_size=hp["batch_size"],
                  n_epochs=hp["n_epochs"], gamma=hp["gamma"], gae_lambda=hp["gae_lambda"],
                  clip_range=hp["clip_range"], ent_coef=hp["ent_coef"], vf_coef=hp["vf_coef"],
                  max_grad_norm=hp["max_grad_norm"], normalize_advantage=hp["normalize_advantage"],
                  target_kl=hp["target_kl"] or None, tensorboard_log=tensorboard_log, seed=seed,
                  device="cpu", verbose=0)
    if algo == "ppo":
        from stable_baselines3 import PPO

        model = PPO("MlpPolicy", env, policy_kwargs=policy_kwargs, **common)
    else:
        from sb3_contrib import RecurrentPPO

        policy_kwargs.update({k: hp[k] for k in RECURRENT_KEYS})
        model = RecurrentPPO("MlpLstmPolicy", env, policy_kwargs=policy_kwargs, **common)
    if tensorboard_log is None:
        # without a log folder SB3 makes an empty /tmp/SB3-<time> folder at every learn() call
        from stable_baselines3.common.logger import Logger

        model.set_logger(Logger(folder=None, output_formats=[]))
    return model


# --- the training loop's bookkeeping ---------------------------------------------------------------

def _callback_class():
    from stable_baselines3.common.callbacks import BaseCallback

    class RunCallback(BaseCallback):
        """Evaluations and checkpoints at rollout boundaries, and the training-time clock."""

        def __init__(self, run: _Run):
            super().__init__(verbose=0)
            self.run = run

        def _on_training_start(self) -> None:
            self.run.clock_start()

        def _on_rollout_start(self) -> None:
            self.run.boundary(self.model)

        def _on_step(self) -> bool:
            return True

    return RunCallback


class _Run:
    """A run folder being written: config, manifest, curve, checkpoints."""

    def __init__(self, path: Path, config: dict[str, Any], manifest: ck.Manifest, meta: dict[str, Any]):
        self.path, self.config, self.manifest = path, config, manifest
        self.train_offset = float(meta.get("train_seconds", 0.0))
        self.last_eval = int(meta.get("last_eval_ts", -1))
        self.last_ckpt = int(meta.get("last_ckpt_ts", -1))
        self.t0 = time.perf_counter()
        self.excluded = 0.0
        self.last_result: dict[str, float] | None = None

    # the clock: wall time of learn() minus evaluation and checkpoint writing
    def clock_start(self) -> None:
        self.t0, self.excluded = time.perf_counter(), 0.0

    def train_seconds(self) -> float:
        return self.train_offset + time.perf_counter() - self.t0 - self.excluded

    def meta(self) -> dict[str, Any]:
        return {"train_seconds": self.train_seconds(), "last_eval_ts": self.last_eval,
                "last_ckpt_ts": self.last_ckpt}

    def boundary(self, model) -> None:
        ts = model.num_timesteps
        every_eval, every_ckpt = self.config["eval_every"], self.config["checkpoint_every"]
        if self.last_eval < 0 or (every_eval > 0 and ts >= self.last_eval + every_eval):
            self.eval(model)
        if self.last_ckpt < 0 or (every_ckpt > 0 and ts >= self.last_ckpt + every_ckpt):
            self.checkpoint(model)

    def eval(self, model) -> None:
        start = time.perf_counter()
        seconds = self.train_seconds()
        result = evaluate(model, self.config["world"], self.config["eval"])
        elapsed = time.perf_counter() - start
        row = {"timesteps": model.num_timesteps, "train_seconds": seconds, **result, "eval_seconds": elapsed}
        path = self.path / CURVE
        new = not path.exists()
        with open(path, "a", newline="") as f:
            if new:
                f.write(",".join(CURVE_COLUMNS) + "\n")
            f.write(",".join(_fmt(row[c]) if c != "timesteps" else str(row[c]) for c in CURVE_COLUMNS) + "\n")
            f.flush()
            os.fsync(f.fileno())
        for k in ("meals_per_day", "survival", "reel_empty_rate", "storm_sheltered"):
            if not math.isnan(result[k]):
                model.logger.record(f"eval/{k}", result[k])
        self.last_eval, self.last_result = model.num_timesteps, result
        self.excluded += time.perf_counter() - start

    def checkpoint(self, model) -> None:
        start = time.perf_counter()
        self.last_ckpt = model.num_timesteps
        ck.write_checkpoint(self.manifest, model, self.meta())
        self.update_manifest()
        self.excluded += time.perf_counter() - start

    def update_manifest(self) -> None:
        m = self.manifest
        m.record(*[p for p in ("config.json", "command.txt", "versions.json", CURVE, "final.zip")
                   if (self.path / p).exists()])
        m.record_tree("tensorboard")
        m.write()


# --- train -----------------------------------------------------------------------------------------

def train(world: str = "lake", worlds: str | Sequence[str] | None = None, algo: str = "ppo",
          steps: int | None = None, seed: int = 0, reward: str = "eat", out: str | Path | None = None,
          resume: str | Path | None = None, checkpoint_every: int | None = None,
          eval_every: int | None = None, progress: bool = True, threads: int | None = None,
          hyperparams: str | Path | None = None, overrides: dict[str, Any] | None = None,
          callbacks: Sequence[Any] = (), command: str | None = None,
          init_from: str | Path | None = None) -> Path:
    """Train a policy and write a run folder (see the module docstring); returns its path.

    Args:
        world: the training world, and where the learning curve is measured.
        worlds: a training pool instead ("suite:NAME", "generated:N", or a list of world specs).
        steps: samples (fisher-ticks) to train on, rounded up to whole rollouts
            (default: the hyperparameters' n_timesteps).
        checkpoint_every, eval_every: in samples (0: only at the start and the end).
        resume: a run folder to continue: its own config is used and every argument but
            progress, threads, callbacks and command is ignored.
        threads: torch threads (default 1; a resumed run keeps its own).
        hyperparams: a TOML file like agents/hyperparams.toml; overrides: {key: value} on top.
        callbacks: extra SB3 callbacks, called like the run's own.
        init_from: start from these weights instead of random ones (fine-tuning, for transfer):
            anything agents.policies.load_policy reads (a run folder, a policy file, a
            manifest-listed zip) of the same algo and network (net_arch, activation, LSTM
            sizes). The whole policy (actor and critic) is copied; the optimizer starts fresh.
    Raises UsageError (a ValueError) for bad arguments or files, before training starts.
    """
    if resume is not None:
        return _resume(Path(resume), progress=progress, threads=threads, callbacks=callbacks, command=command)
    if algo not in ALGOS:
        raise UsageError("--algo", f"expected one of {', '.join(ALGOS)}, got {algo!r}")
    if reward not in REWARD_NAMES:
        raise UsageError("--reward", f"expected one of {', '.join(REWARD_NAMES)}, got {reward!r}")
    for flag, value in (("--steps", steps), ("--checkpoint-every", checkpoint_every),
                        ("--eval-every", eval_every), ("--seed", seed), ("--threads", threads)):
        low = 1 if flag in ("--steps", "--threads") else 0
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | np.integer)
                                  or value < low):
            raise UsageError(flag, f"expected an integer >= {low}, got {value!r}")
    threads = int(threads or 1)
    pool = _resolve_pool(world, worlds)
    hp_path = Path(hyperparams) if hyperparams is not None else HYPERPARAMS_FILE
    try:
        hp, used = load_hyperparams(algo, world_keys(world, worlds), hp_path, overrides)
    except HyperparamsError as err:
        flag = "--set" if str(err).startswith("--set") else "--hyperparams"
        raise UsageError(flag, str(err).removeprefix("--set: ")) from None
    source = _init_source(init_from, algo, hp) if init_from is not None else None
    slots = hp["n_worlds"] * hp["n_fishers"]
    rollout = hp["n_steps"] * slots
    requested = int(steps if steps is not None else hp["n_timesteps"])
    total = -(-requested // rollout) * rollout
    path = _prepare_out(out, f"{world if worlds is None else 'pool'}-{algo}-s{seed}")
    config = {
        "format": CONFIG_FORMAT,
        "algo": algo, "world": world, "worlds": worlds if isinstance(worlds, str | None) else list(worlds),
        "resolved_worlds": pool, "reward": reward, "seed": int(seed),
        "seeds": {"model": int(seed), "vec_env": int(seed), "eval": hp["eval_seed"],
                  "vec_env_rule": "world i of epoch k: seed + i + k * n_worlds"},
        "steps_requested": requested, "steps": total, "rollout_samples": rollout, "slots": slots,
        "checkpoint_every": DEFAULT_CHECKPOINT_EVERY if checkpoint_every is None else int(checkpoint_every),
        "eval_every": DEFAULT_EVAL_EVERY if eval_every is None else int(eval_every),
        "threads": threads,
        "hyperparams_file": str(hp_path.resolve()), "hyperparams_sections": used,
        "overrides": dict(overrides or {}), "hyperparams": hp,
        "policy": "MlpPolicy" if algo == "ppo" else "MlpLstmPolicy",
        "eval": {"world": world, "n_worlds": hp["eval_worlds"], "n_fishers": hp["eval_fishers"],
                 "ticks": hp["eval_ticks"], "seed": hp["eval_seed"], "respawn": False, "deterministic": False,
                 "measure": "agents.rollout.run_policy, 95% bootstrap intervals over worlds"},
        "init_from": None if source is None else source[1],
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    (path / "config.json").write_text(_json(config))
    command = command or _python_call(world, worlds, algo, total, seed, reward, path)
    (path / "command.txt").write_text(command + "\n")
    (path / "versions.json").write_text(_json(versions()))
    manifest = ck.Manifest(path)
    manifest.record("config.json", "command.txt", "versions.json")
    manifest.write()
    run = _Run(path, config, manifest, {})
    model = _make_model(config, path, threads)
    if source is not None:
        _load_init_weights(model, source[0], init_from)
    return _learn(run, model, progress, callbacks, reset=True)


def _init_source(init_from: str | Path, algo: str, hp: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The policy to start from, checked against the run's algo and network before anything is written."""
    from torch import nn

    from agents.policies import PolicyFileError, load_policy

    try:
        loaded = load_policy(init_from)
    except PolicyFileError as err:
        raise UsageError("--init", str(err)) from None
    net = getattr(loaded, "policy", None)
    if net is None or not hasattr(net, "mlp_extractor"):
        name = getattr(loaded, "name", init_from)
        raise UsageError("--init", f"{init_from}: {name} has no weights to start from (expected a run folder "
                                   f"or a policy file)")
    theirs = loaded.info.get("algo")
    if theirs != algo:
        raise UsageError("--init", f"{init_from} is a {theirs} policy; train it with --algo {theirs}")
    sizes = [m.out_features for m in net.mlp_extractor.policy_net if isinstance(m, nn.Linear)]
    activation = type(net.activation_fn).__name__ if isinstance(net.activation_fn, nn.Module) \
        else getattr(net.activation_fn, "__name__", str(net.activation_fn))
    mine = {"net_arch": list(hp["net_arch"]), "activation": hp["activation"]}
    got = {"net_arch": sizes, "activation": activation.lower()}
    if algo == "recurrent_ppo":
        mine.update(lstm_hidden_size=hp["lstm_hidden_size"], n_lstm_layers=hp["n_lstm_layers"])
        got.update(lstm_hidden_size=net.lstm_actor.hidden_size, n_lstm_layers=net.lstm_actor.num_layers)
    differ = [k for k in mine if mine[k] != got[k]]
    if differ:
        sets = " ".join(f"--set {k}={json.dumps(got[k], separators=(',', ':'))}" for k in differ)
        theirs_text = ", ".join(f"{k}={got[k]}" for k in differ)
        mine_text = ", ".join(f"{k}={mine[k]}" for k in differ)
        raise UsageError("--init", f"{init_from}: its network ({theirs_text}) differs from this run's "
                                   f"({mine_text}); train with {sets}")
    info = {"source": str(init_from), "name": loaded.name, "kind": loaded.info.get("kind"),
            "num_timesteps": loaded.info.get("num_timesteps")}
    return loaded, info


def _load_init_weights(model, loaded, init_from) -> None:
    try:
        model.policy.load_state_dict(loaded.policy.state_dict(), strict=True)
    except RuntimeError as err:
        raise UsageError("--init", f"{init_from}: its weights do not fit this run's network "
                                   f"({' '.join(str(err).split())[:200]})") from None


def _python_call(world, worlds, algo, steps, seed, reward, path) -> str:
    return (f"# python: agents.train.train(world={world!r}, worlds={worlds!r}, algo={algo!r}, steps={steps}, "
            f"seed={seed}, reward={reward!r}, out={str(path)!r})")


def _set_threads(threads: int) -> None:
    import torch

    if threads > 1 and os.environ.get("OMP_WAIT_POLICY", "").upper() != "PASSIVE":
        warnings.warn("torch with more than one thread and OMP_WAIT_POLICY unset: its spinning OpenMP worker "
                      "starves the numpy environment (set OMP_WAIT_POLICY=PASSIVE before importing torch)",
                      RuntimeWarning, stacklevel=3)
    torch.set_num_threads(threads)


def _make_model(config: dict[str, Any], path: Path, threads: int):
    _set_threads(threads)
    env = build_env(config)
    return build_model(config["algo"], env, config["hyperparams"], config["seed"], str(path / "tensorboard"))


def _learn(run: _Run, model, progress: bool, callbacks: Sequence[Any], reset: bool) -> Path:
    config, path = run.config, run.path
    remaining = config["steps"] - model.num_timesteps
    model.learn(total_timesteps=remaining, callback=[_callback_class()(run), *callbacks],
                tb_log_name=config["algo"], reset_num_timesteps=reset, progress_bar=progress)
    if run.last_eval != model.num_timesteps:
        run.eval(model)
    if run.last_ckpt != model.num_timesteps:
        run.checkpoint(model)
    model.logger.record("time/train_seconds", run.train_seconds())
    model.logger.dump(model.num_timesteps)
    model.logger.close()
    blob = ck.model_bytes(model)
    ck.atomic_write(path / "final.zip", blob)
    run.manifest.record_bytes("final.zip", blob)
    _export(model, run)
    run.update_manifest()
    if progress:
        _summary(run, model)
    return path


def _export(model, run: _Run) -> None:
    """policy.json + policy.npz: the weights-only policy file (agents.policies), when that module is there."""
    try:
        from agents.policies import export_policy
    except ImportError:
        return
    npz, js = export_policy(model, run.path / "policy")
    run.manifest.record(npz, js)


def _summary(run: _Run, model) -> None:
    r = run.last_result or {}
    secs = run.train_seconds()
    print(f"trained {run.config['algo']} for {model.num_timesteps:,} samples in {secs:.0f} s of training "
          f"({model.num_timesteps / max(secs, 1e-9):,.0f} samples/s)")
    if r:
        print(f"  meals per fisher-day {r['meals_per_day']:.3f} [{r['meals_per_day_low']:.3f}, "
              f"{r['meals_per_day_high']:.3f}], alive at the end {r['survival']:.2f} "
              f"({run.config['eval']['world']}, {run.config['eval']['n_worlds']} worlds, cohort)")
    print(f"  run folder: {run.path}")
    print(f"  watch: tensorboard --logdir {run.path / 'tensorboard'}")


def _resume(path: Path, progress: bool, threads: int | None, callbacks: Sequence[Any],
            command: str | None) -> Path:
    import torch  # noqa: F401  (imported after OMP_WAIT_POLICY is set, above)

    if not path.is_dir():
        raise UsageError("--resume", f"{path} is not a folder")
    path = path.resolve()  # as a new run's: the manifest's files are relative to it
    try:
        manifest = ck.Manifest.load(path)
        config_bytes = manifest.verified_bytes("config.json")
    except ck.ManifestError as err:
        raise UsageError("--resume", str(err)) from None
    try:
        config = json.loads(config_bytes)
        if not isinstance(config, dict) or config.get("format") != CONFIG_FORMAT:
            raise ValueError(f"expected a config of format {CONFIG_FORMAT}")
        algo, hp = config["algo"], config["hyperparams"]
        if algo not in ALGOS:
            raise ValueError(f"unknown algo {algo!r}")
        _check_section(algo, "config", hp, str(path / "config.json"))
    except (ValueError, KeyError, TypeError) as err:
        raise UsageError("--resume", f"{path / 'config.json'} cannot be used ({err})") from None
    for stale in [*path.glob(".*.tmp"), *(path / ck.CHECKPOINTS).glob(".*.tmp")]:
        stale.unlink(missing_ok=True)  # half-written files of a killed process
    if "final.zip" in manifest.files:
        if progress:
            print(f"{path}: already finished ({config['steps']:,} samples); nothing to do")
        return path
    listed = ck.listed_checkpoints(manifest)
    if not listed:
        raise UsageError("--resume", f"{path} has no checkpoint listed in its manifest; start a new run")
    ts = listed[-1]
    try:
        blob, state = ck.load_checkpoint(manifest, ts)
    except ck.ManifestError as err:
        raise UsageError("--resume", str(err)) from None
    threads = int(threads or config.get("threads", 1))
    model = _make_model(config, path, threads)
    try:
        model.set_parameters(io.BytesIO(blob), exact_match=True, device="cpu")
        ck.restore_state(model, state)
    except (ValueError, KeyError, RuntimeError) as err:
        raise UsageError("--resume", f"checkpoint {ck.checkpoint_names(ts)[0]} does not fit this run's "
                                     f"config ({err})") from None
    meta = ck.state_meta(state)
    curve = path / CURVE
    rows = [r for r in read_curve(curve) if int(r["timesteps"]) <= ts]
    lines = [",".join(CURVE_COLUMNS)] + [",".join(r[c] for c in CURVE_COLUMNS) for r in rows]
    ck.atomic_write(curve, "\n".join(lines) + "\n")
    with open(path / "command.txt", "a") as f:
        f.write((command or f"# python: agents.train.train(resume={str(path)!r})") + f"  # resumed at {ts}\n")
    run = _Run(path, config, manifest, meta)
    if progress:
        print(f"resuming {path} at {ts:,} of {config['steps']:,} samples")
    return _learn(run, model, progress, callbacks, reset=False)


# --- the command line ------------------------------------------------------------------------------

# flags that define a run: with --resume, the run's own config.json decides them
RUN_FLAGS = ("world", "worlds", "algo", "steps", "seed", "reward", "out", "checkpoint_every", "eval_every",
             "hyperparams", "set", "init")


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="python -m agents.train",
                description="Train hungry fishers (one shared policy for every fisher slot) and write a run "
                            "folder: config, command, versions, tensorboard logs, checkpoints, a learning "
                            "curve, final.zip and a manifest of sha256s.",
                epilog="Hyperparameters: agents/hyperparams.toml ([ALGO.default], then [ALGO.WORLD]).")
    p.add_argument("--world", default=None, help="training world, and where the learning curve is measured "
                                                 "(default: lake)")
    p.add_argument("--worlds", default=None,
                   help="train on a pool instead: suite:NAME, generated:N, or a comma-separated list")
    p.add_argument("--algo", choices=ALGOS, default=None,
                   help="ppo (default) or recurrent_ppo (MlpLstmPolicy)")
    p.add_argument("--steps", type=int_at_least(1), default=None,
                   help="samples (fisher-ticks), rounded up to whole rollouts (default: n_timesteps)")
    p.add_argument("--seed", type=int_at_least(0), default=None, help="seed (default: 0)")
    p.add_argument("--reward", choices=REWARD_NAMES, default=None,
                   help="eat (default: the incentive, the only signal) or taught (shaped, for comparison)")
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
    p.add_argument("--set", action="append", default=None, metavar="KEY=VALUE",
                   help="override one hyperparameter (repeatable), e.g. --set n_worlds=16")
    p.add_argument("--init", default=None, metavar="RUN_OR_POLICY",
                   help="start from these weights (fine-tuning): a run folder or a policy file of the same "
                        "algo and network")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad flags or files)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse(build_parser(), argv)
    if isinstance(args, int):  # --help, or a bad flag (already reported in one line)
        return args
    command = "python -m agents.train " + shlex.join(argv)
    try:
        if args.resume is not None:
            given = [f"--{k.replace('_', '-')}" for k in RUN_FLAGS if getattr(args, k) is not None]
            if given:
                raise UsageError(given[0], "cannot be combined with --resume: a resumed run keeps its own "
                                           "config.json")
            train(resume=args.resume, progress=not args.quiet, threads=args.threads, command=command)
            return 0
        overrides = dict(parse_override(s) for s in args.set or [])
        train(world=args.world or "lake", worlds=args.worlds, algo=args.algo or "ppo", steps=args.steps,
              seed=args.seed or 0, reward=args.reward or "eat", out=args.out,
              checkpoint_every=args.checkpoint_every, eval_every=args.eval_every, progress=not args.quiet,
              threads=args.threads, hyperparams=args.hyperparams, overrides=overrides, command=command,
              init_from=args.init)
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    return 0


if __name__ == "__main__":
    sys.exit(main())
