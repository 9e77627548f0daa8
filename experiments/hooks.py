"""The two places where studies call other packages' analysis: probing and fine-tuning.

`probe_skills` is the single function a probe task calls. It uses
`analysis.probe.probe_policy(policy, world=, seed=, scale=)` when that module is in the
checkout, and otherwise measures the free-rollout skill indicators of agents.rollout
(meals per day, empty reels, sheltering in storms, casting while the barometer falls vs
steady), so the pipeline runs end to end before the probes exist. Both return the same
card: {"skills": {skill: {"value", "low", "high", ...}}, "source": ...}.

`fine_tune` continues a trained fisher in another world through agents.train's
`init_from` parameter; until train() has it, it raises FineTuneUnavailable, which the
runner records as a skipped task (rerun the study once it exists).
"""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from agents.rollout import run_policy
from analysis.stats import interval, paired_difference

# the free-rollout fallback's budgets: worlds x fishers x ticks
ROLLOUT_SCALES = {"tiny": (2, 2, 100), "smoke": (3, 2, 200), "quick": (12, 4, 1000), "full": (32, 4, 1000)}
PROBE_SOURCE_FALLBACK = "agents.rollout free-rollout indicators (analysis.probe not in this checkout)"


class FineTuneUnavailable(RuntimeError):
    """agents.train.train cannot start from another run's weights yet (no `init_from`)."""


def probe_skills(policy: Any, world: str, seed: int = 0, scale: str = "quick",
                 source: str = "auto") -> dict[str, Any]:
    """A skill card for a policy in a world: analysis.probe's ("auto", when the checkout has it),
    else (or with source="rollout") the free-rollout indicators."""
    if source not in ("auto", "rollout"):
        raise ValueError(f"source: expected 'auto' or 'rollout', got {source!r}")
    try:
        if source == "rollout":
            raise ImportError
        from analysis.probe import probe_policy
    except ImportError:
        return rollout_skills(policy, world, seed, scale)
    card = probe_policy(policy, world=world, seed=seed, scale=scale)
    card = dict(card)
    card.setdefault("source", "analysis.probe.probe_policy")
    return card


def _card_entry(iv: Any, higher_is_better: bool, unit: str) -> dict[str, Any]:
    return {"value": iv.value, "low": iv.low, "high": iv.high, "n": iv.n,
            "higher_is": "better" if higher_is_better else "worse", "unit": unit}


def rollout_skills(policy: Any, world: str, seed: int = 0, scale: str = "quick") -> dict[str, Any]:
    """The free-rollout skill indicators with 95% bootstrap intervals over worlds (cohort, no respawn)."""
    if scale not in ROLLOUT_SCALES:
        raise ValueError(f"scale: expected one of {', '.join(ROLLOUT_SCALES)}, got {scale!r}")
    n_worlds, n_fishers, ticks = ROLLOUT_SCALES[scale]
    roll = run_policy(policy, world, n_worlds=n_worlds, n_fishers=n_fishers, ticks=ticks,
                      seed=seed, respawn=False)
    pw = roll.per_world
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        falling, steady = pw("cast_rate_falling"), pw("cast_rate_steady")
        both = ~np.isnan(falling) & ~np.isnan(steady)
        skills = {
            "feeding": _card_entry(interval(pw("meals_per_day")), True, "meals per fisher-day"),
            "survival": _card_entry(interval(pw("survival")), True, "share alive at the end (cohort)"),
            "patience": _card_entry(interval(1.0 - pw("reel_empty_rate")), True,
                                    "1 - reels with no bite per tick of a waiting line"),
            "sheltering": _card_entry(interval(pw("storm_sheltered")), True,
                                      "share of storm ticks spent in a shelter"),
            "weather_reading": _card_entry(paired_difference(falling[both], steady[both]), True,
                                           "cast rate while the barometer falls minus while steady"),
        }
    return {"skills": skills, "source": PROBE_SOURCE_FALLBACK, "world": str(world), "seed": seed,
            "scale": scale, "n_worlds": n_worlds, "n_fishers": n_fishers, "ticks": ticks}


def fine_tune(init_from: Path, world: str, steps: int, seed: int, out: Path,
              overrides: dict[str, Any], eval_every: int = 0) -> Path:
    """Continue a trained run in `world` for `steps` samples; returns the new run folder."""
    from agents.train import train  # deferred: heavy at start-up

    if "init_from" not in inspect.signature(train).parameters:
        raise FineTuneUnavailable("agents.train.train has no `init_from` parameter yet: fine-tuning needs "
                                  "it (rerun the study once it exists; finished tasks are kept)")
    return train(world=world, steps=steps, seed=seed, out=out, progress=False, overrides=overrides,
                 eval_every=eval_every, checkpoint_every=0, init_from=init_from)
