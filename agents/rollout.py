"""Run a policy in a batch of worlds and measure what it ate: the shared yardstick.

Meals per day and survival are measured on two protocols (DESIGN, "The skills must
pay"): *cohort* (no respawn: a fisher that starved scores nothing after its death)
and *respawn* (each slot is a sequence of lives; a newcomer arrives `respawn_delay`
ticks after a death, by default one day, so that dying costs the slot time and a
newcomer's free fish cannot make death pay). Intervals are bootstrapped over worlds, the independent
units (fishers of one world share its fish).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from sim.core import Simulation, resolve_worlds
from sim.events import has
from sim.policy import bind_policy
from sim.weather import STORM, barometer_trend
from worlds.loader import World

FALLING = 0.02  # a barometer that dropped this much over the trend window counts as falling


@dataclass
class Rollout:
    """Per-world totals of one rollout (arrays of shape (B,), summed over fisher slots)."""

    world: str
    ticks: int
    n_fishers: int
    day_length: int
    meals: np.ndarray
    catches: np.ndarray
    deaths: np.ndarray
    alive_end: np.ndarray       # fishers alive at the end
    storm_ticks: np.ndarray     # fisher-ticks alive during storms
    sheltered: np.ndarray       # of which in a shelter
    reel_empty: np.ndarray      # reels with no bite
    line_ticks: np.ndarray      # fisher-ticks with a line out and no bite
    casts_falling: np.ndarray   # casts while the barometer falls (storm ticks excluded)
    ticks_falling: np.ndarray   # fisher-ticks alive while it falls (storm ticks excluded)
    casts_steady: np.ndarray    # the same while it does not fall
    ticks_steady: np.ndarray

    def per_world(self, metric: str) -> np.ndarray:
        """A per-fisher figure for each world: meals_per_day, survival, deaths_per_day, ..."""
        days = self.ticks / self.day_length
        f = self.n_fishers
        if metric == "meals_per_day":
            return self.meals / f / days
        if metric == "catches_per_day":
            return self.catches / f / days
        if metric == "survival":
            return self.alive_end / f
        if metric == "deaths_per_day":
            return self.deaths / f / days
        if metric == "storm_sheltered":
            return np.divide(self.sheltered, self.storm_ticks, out=np.full(self.meals.shape, np.nan),
                             where=self.storm_ticks > 0)
        ratios = {"reel_empty_rate": (self.reel_empty, self.line_ticks),
                  "cast_rate_falling": (self.casts_falling, self.ticks_falling),
                  "cast_rate_steady": (self.casts_steady, self.ticks_steady)}
        if metric in ratios:
            num, den = ratios[metric]
            return np.divide(num, den, out=np.full(self.meals.shape, np.nan), where=den > 0)
        raise ValueError(f"metric: expected one of meals_per_day, catches_per_day, survival, deaths_per_day, "
                         f"storm_sheltered, {', '.join(ratios)}; got {metric!r}")


def world_seeds(seed: int, n: int) -> list[int]:
    """The seeds of the n worlds of a rollout with base `seed`: the one rule every runner and
    recorder uses, so a recorded episode, a probe's activations and a rollout see the same worlds."""
    return [seed * 100_003 + i for i in range(n)]


def run_policy(policy: object, world: str | World, n_worlds: int = 32, n_fishers: int = 4,
               ticks: int = 1000, seed: int = 0, respawn: bool = True, respawn_delay: int | None = None,
               on_step: Callable[[Simulation, np.ndarray, object], None] | None = None) -> Rollout:
    """Roll a policy (sim.policy: an object with .act(obs), or a callable) in n_worlds copies of a
    world. The policy is bound to the simulation (`bind`: a scripted fisher reads each world's rules)
    and told of every new life after each step (`new_lives`), here, not by callers."""
    if respawn_delay is None:  # a newcomer arrives the next day
        respawn_delay = resolve_worlds(world)[0].params.time.day_length
    delayed = respawn and respawn_delay > 0
    sim = Simulation(world, n_fishers, seeds=world_seeds(seed, n_worlds),
                     respawn=respawn and not delayed)
    policy = bind_policy(policy, sim)  # a scripted fisher reads its worlds (the oracle: the hidden state)
    died_at = np.full((n_worlds, n_fishers), -1)
    b = n_worlds
    totals = {k: np.zeros(b) for k in ("meals", "catches", "deaths", "storm_ticks", "sheltered",
                                       "reel_empty", "line_ticks", "casts_falling", "ticks_falling",
                                       "casts_steady", "ticks_steady")}
    obs = sim.observe()
    for _ in range(ticks):
        waiting = (sim.state.line & (sim.state.bite == 0) & sim.state.alive).sum(axis=1)
        alive = sim.state.alive.copy()
        falling = (barometer_trend(sim.state) < -FALLING)[:, None] & (sim.state.weather != STORM)[:, None]
        steady = ~falling & (sim.state.weather != STORM)[:, None]
        actions = np.asarray(policy.act(obs.reshape(-1, obs.shape[-1]))).reshape(b, n_fishers)
        res = sim.step(actions)
        ev = res.events
        totals["meals"] += has(ev, "ate").sum(axis=1)
        totals["catches"] += has(ev, "catch").sum(axis=1)
        totals["deaths"] += res.starved.sum(axis=1)
        totals["storm_ticks"] += ((sim.state.weather == STORM)[:, None] & alive).sum(axis=1)
        totals["sheltered"] += has(ev, "sheltered").sum(axis=1)
        totals["reel_empty"] += has(ev, "reeled_empty").sum(axis=1)
        totals["line_ticks"] += waiting
        casts = has(ev, "cast")
        totals["casts_falling"] += (casts & falling).sum(axis=1)
        totals["ticks_falling"] += (alive & falling).sum(axis=1)
        totals["casts_steady"] += (casts & steady).sum(axis=1)
        totals["ticks_steady"] += (alive & steady).sum(axis=1)
        if delayed:
            died_at[res.starved] = sim.state.tick[np.nonzero(res.starved)[0]]
            due = (died_at >= 0) & (sim.state.tick[:, None] - died_at >= respawn_delay)
            if due.any():
                sim.respawn_slots(due)
                died_at[due] = -1
        policy.new_lives(sim.state.lives)
        if on_step is not None:
            on_step(sim, actions, res)
        obs = sim.observe()
    world_obj = sim.worlds[0]
    return Rollout(world=world_obj.name, ticks=ticks, n_fishers=n_fishers,
                   day_length=world_obj.params.time.day_length, alive_end=sim.state.alive.sum(axis=1),
                   **totals)


def interval(values: np.ndarray, confidence: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """Mean and a bootstrap confidence interval (BCa) over independent units."""
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return (float("nan"),) * 3
    mean = float(values.mean())
    if values.size < 3 or np.all(values == values[0]):
        return mean, mean, mean
    res = stats.bootstrap((values,), np.mean, confidence_level=confidence, n_resamples=2000,
                          method="percentile", random_state=seed)
    return mean, float(res.confidence_interval.low), float(res.confidence_interval.high)
