"""A training run folder's files and formats, shared by agents.train (which writes them) and
analysis (which reads them).

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

The main job (`python -m sim.run`) keeps its training in RUN/training; `training_folder` finds it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import Any

from agents.checkpoints import atomic_write
from agents.hyperparams import ALGOS, check_section
from sim.cli import OutFolderError, UsageError, new_run_folder, slug, versions

CURVE = "learning_curve.csv"
CURVE_COLUMNS = ("timesteps", "train_seconds", "meals_per_day", "meals_per_day_low", "meals_per_day_high",
                 "survival", "survival_low", "survival_high", "reel_empty_rate", "storm_sheltered",
                 "eval_seconds")
CONFIG_FORMAT = 1


class RunFolderError(ValueError):
    """A run folder that cannot give what was asked of it (names the folder and what was expected)."""


def training_folder(run: str | Path) -> Path:
    """The training folder of any run folder the project writes: a training folder (agents.train)
    is itself; a main-job folder (sim.run) keeps its training in `training/`."""
    p = Path(run)
    for cand in (p, p / "training"):
        if (cand / "manifest.json").is_file():
            return cand
    raise RunFolderError(f"{p}: expected a training run folder (with manifest.json and checkpoints/), "
                         "or a sim.run folder with training/")


def new_training_folder(out: str | Path | None, name: str) -> Path:
    """A new (or empty) run folder, absolute: the manifest lists files relative to it, wherever
    the working directory is. A folder that holds a run is refused with a hint to --resume it."""
    try:
        path = new_run_folder(out, f"train-{slug(name)}", hint=f" (or --resume {out} to continue a run)")
    except OutFolderError as err:
        raise UsageError("--out", str(err)) from None
    return path.resolve()


def to_json(data: object) -> str:
    """The JSON text of config.json and versions.json (indented; NaN is an error, not a token)."""
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def write_start_files(path: Path, config: dict[str, Any], command: str) -> list[str]:
    """config.json, command.txt and versions.json of a new run; returns their names."""
    (path / "config.json").write_text(to_json(config))
    (path / "command.txt").write_text(command + "\n")
    (path / "versions.json").write_text(to_json(versions()))
    return ["config.json", "command.txt", "versions.json"]


def append_command(path: Path, command: str, timesteps: int) -> None:
    """Add a resumed run's command line to command.txt, with the sample count it resumed at."""
    with open(path / "command.txt", "a") as f:
        f.write(f"{command}  # resumed at {timesteps}\n")


def parse_config(data: bytes | str, where: str) -> dict[str, Any]:
    """A config.json's content, checked to be of CONFIG_FORMAT with a valid algo and hyperparameters.
    Raises ValueError (or KeyError, TypeError) saying what is wrong."""
    config = json.loads(data)
    if not isinstance(config, dict) or config.get("format") != CONFIG_FORMAT:
        raise ValueError(f"expected a config of format {CONFIG_FORMAT}")
    algo, hp = config["algo"], config["hyperparams"]
    if algo not in ALGOS:
        raise ValueError(f"unknown algo {algo!r}")
    check_section(algo, "config", hp, where)
    return config


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


def _fmt(v: float | None) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.6g}"


def append_curve_row(path: Path, row: dict[str, Any]) -> None:
    """One learning-curve row (every column of CURVE_COLUMNS), synced to disk: a run killed right
    after it keeps it. NaN (no storm came) is written as an empty cell."""
    new = not path.exists()
    with open(path, "a", newline="") as f:
        if new:
            f.write(",".join(CURVE_COLUMNS) + "\n")
        f.write(",".join(_fmt(row[c]) if c != "timesteps" else str(row[c]) for c in CURVE_COLUMNS) + "\n")
        f.flush()
        os.fsync(f.fileno())


def cut_curve(path: Path, timesteps: int) -> None:
    """Keep the learning curve's rows up to `timesteps`, where a resumed run continues: the rows
    a killed run wrote after its last checkpoint are measured again."""
    rows = [r for r in read_curve(path) if int(r["timesteps"]) <= timesteps]
    lines = [",".join(CURVE_COLUMNS)] + [",".join(r[c] for c in CURVE_COLUMNS) for r in rows]
    atomic_write(path, "\n".join(lines) + "\n")
