"""Evaluation during training: the learning curve's measurement of the current policy.

The protocol (config.json "eval") is agents.rollout.run_policy with the current stochastic
policy in the training world, a cohort without respawn, on a fixed seed; each point has 95%
bootstrap intervals over worlds. Measuring never changes what training does: it draws from
its own seeded RNG and gives torch's and numpy's global RNGs back as they were.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np


def eval_protocol(world: str, hp: dict[str, Any]) -> dict[str, Any]:
    """The learning curve's protocol for a run in `world` with resolved hyperparameters `hp`."""
    return {"world": world, "n_worlds": hp["eval_worlds"], "n_fishers": hp["eval_fishers"],
            "ticks": hp["eval_ticks"], "seed": hp["eval_seed"], "respawn": False, "deterministic": False,
            "measure": "agents.rollout.run_policy, 95% bootstrap intervals over worlds"}


class PolicyAct:
    """`.act(obs)` for agents.rollout.run_policy from an SB3 model (stochastic by default).
    A recurrent policy keeps its LSTM state across calls (one run_policy rollout per instance)."""

    def __init__(self, model: Any, deterministic: bool = False):
        self.model = model
        self.deterministic = deterministic
        self.recurrent = hasattr(model.policy, "lstm_actor")
        self.state = None

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Actions (N,) for observations (N, OBS_SIZE); a new N starts fresh LSTM states."""
        if not self.recurrent:
            actions, _ = self.model.policy.predict(obs, deterministic=self.deterministic)
            return actions
        starts = np.zeros(len(obs), dtype=bool)
        if self.state is None or self.state[0].shape[1] != len(obs):
            self.state, starts = None, np.ones(len(obs), dtype=bool)
        actions, self.state = self.model.policy.predict(obs, state=self.state, episode_start=starts,
                                                        deterministic=self.deterministic)
        return actions


def evaluate(model: Any, world: str, protocol: dict[str, Any]) -> dict[str, float]:
    """The learning-curve measurement; it draws from its own seeded RNG and leaves the training
    RNGs (torch, numpy) as they were, so evaluating never changes what training does."""
    import torch  # deferred: heavy at start-up

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
