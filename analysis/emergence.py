"""When did each skill appear? Every checkpoint of a training run, measured the same way.

A run folder keeps a checkpoint every `checkpoint_every` samples (agents.train). Each one
is loaded through the weights-only path (the manifest vouches for it) and measured on a
fixed protocol: the free-rollout skill indicators of agents.rollout (meals per day, survival,
empty reels per waiting tick, share of storm ticks sheltered, casting when the barometer
falls against when it does not), each with a bootstrap interval over worlds, and, when
`probes=True`, the behavioural probes' skill card (analysis.probe). The result is a set of
curves against samples and training seconds, drawn beside the learning curve by
analysis.report.

Unlike the learning curve written during training (the stochastic policy, cohort), this
measures the deterministic policy on the main job's protocol (respawn a day after a death,
1000 ticks), the one the main job's summary reports.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agents.checkpoints import (
    Manifest,
    ManifestError,
    checkpoint_names,
    listed_checkpoints,
    read_state,
    state_meta,
)
from agents.policies import load_policy
from agents.rollout import run_policy
from agents.run_folders import RunFolderError, training_folder
from analysis.stats import interval

METRICS = ("meals_per_day", "survival", "reel_empty_rate", "storm_sheltered", "cast_rate_falling",
           "cast_rate_steady")
PROTOCOL = {"n_worlds": 8, "n_fishers": 4, "ticks": 1000, "seed": 0, "respawn": True, "deterministic": True}


@dataclass(frozen=True)
class Checkpoint:
    samples: int
    train_seconds: float
    path: Path


def run_checkpoints(run: str | Path) -> list[Checkpoint]:
    """The run's checkpoints, oldest first, with the training seconds each was taken at."""
    folder = training_folder(run)
    try:
        manifest = Manifest.load(folder)
        out = []
        for ts in listed_checkpoints(manifest):
            zip_name, state_name = checkpoint_names(ts)
            meta = state_meta(read_state(manifest.verified_bytes(state_name), str(folder / state_name)))
            out.append(Checkpoint(ts, float(meta.get("train_seconds", float("nan"))), folder / zip_name))
    except ManifestError as err:
        raise RunFolderError(str(err)) from None
    if not out:
        raise RunFolderError(f"{folder}: no checkpoints listed in its manifest.json; expected a run that "
                             "reached its first checkpoint")
    return out


def measure(policy: object, world: str, protocol: dict[str, Any] | None = None) -> dict[str, Any]:
    """The free-rollout indicators of one policy, each as {value, low, high, n}."""
    p = {**PROTOCOL, **(protocol or {})}
    roll = run_policy(policy, world, n_worlds=p["n_worlds"], n_fishers=p["n_fishers"], ticks=p["ticks"],
                      seed=p["seed"], respawn=p["respawn"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return {m: interval(roll.per_world(m), seed=p["seed"]).to_dict() for m in METRICS}


def emergence(run: str | Path, world: str | None = None, protocol: dict[str, Any] | None = None,
              probes: bool | int = False, probe_scale: str = "quick",
              progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Every checkpoint measured on one protocol: {"run", "world", "protocol", "points": [...]}.

    `world` defaults to the world the run trained on. `probes` adds the behavioural skill card
    (analysis.probe) to checkpoints: True for every one, an integer k for every k-th one and the
    last (probing costs seconds per checkpoint; the free-rollout indicators are always measured)."""
    folder = training_folder(run)
    ckpts = run_checkpoints(folder)
    config = json.loads((folder / "config.json").read_text())
    world = world or config["world"]
    p = {**PROTOCOL, **(protocol or {})}
    points = []
    for i, c in enumerate(ckpts):
        policy = load_policy(c.path, deterministic=p["deterministic"], seed=p["seed"])
        point: dict[str, Any] = {"samples": c.samples, "train_seconds": c.train_seconds,
                                 "checkpoint": str(c.path.relative_to(folder)), **measure(policy, world, p)}
        every = int(probes)  # True: every checkpoint
        if every and (i % every == 0 or i == len(ckpts) - 1):
            from analysis.probe import probe_policy  # deferred: heavy at start-up

            point["skills"] = probe_policy(policy, world=world, seed=p["seed"], scale=probe_scale)["skills"]
        points.append(point)
        if progress is not None:
            progress(i + 1, len(ckpts))
    return {"run": str(folder), "world": world, "algo": config.get("algo"), "seed": config.get("seed"),
            "protocol": p, "points": points}


def first_reaching(points: list[dict[str, Any]],
                   ok: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    """The first checkpoint that satisfies `ok` (None if none does)."""
    return next((pt for pt in points if ok(pt)), None)


def series(points: list[dict[str, Any]], metric: str) -> np.ndarray:
    """One indicator's values over checkpoints."""
    return np.array([pt[metric]["value"] for pt in points], dtype=float)
