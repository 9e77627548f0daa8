"""Rewards: "eat", the incentive and the only signal; "taught", eat plus shaped sub-skill rewards.

"eat" pays `meal_reward` (a world constant) per meal and nothing else: hunger gates eating
and ends lives but never pays by itself (a prototype that paid "hunger removed" taught
fishers that being hungrier pays). "taught" is for the teach-vs-incentivize comparison
only: it adds small rewards, read from the ground truth a teacher would know, for

- waiting with the line out and no bite showing (`WAIT_LINE` per tick): patience;
- casting while no storm is on or coming (`CAST_CALM` per cast): weather reading;
- being in a shelter during a storm (`SHELTER_STORM` per tick): weather reading;
- having the line over fish (`RICH_SPOT` x fish under the line / density_ref per tick): knowing fish.
"""

from __future__ import annotations

import numpy as np

from sim.core import Simulation
from sim.events import has
from sim.step import StepResult
from sim.weather import NO_FRONT, STORM

WAIT_LINE = 0.002
CAST_CALM = 0.02
SHELTER_STORM = 0.01
RICH_SPOT = 0.002
STORM_SOON = 20  # ticks: a storm this close counts as coming


class Reward:
    """Maps a step of the simulation to per-slot rewards (B, F)."""

    name = "eat"

    def reset(self, sim: Simulation) -> None:
        """Called when the simulation is (re)built or reset."""

    def __call__(self, sim: Simulation, result: StepResult) -> np.ndarray:
        return result.reward


class TaughtReward(Reward):
    """Eat plus shaped rewards for patience, weather reading and knowing fish (see module doc)."""

    name = "taught"

    def __call__(self, sim: Simulation, result: StepResult) -> np.ndarray:
        s = sim.state
        truth = sim.ground_truth()
        storm_now = (s.weather == STORM)[:, None]
        front = truth["front_in"]
        storm_coming = (s.next_weather == STORM)[:, None] & (front != NO_FRONT) & (front <= STORM_SOON)
        shaped = WAIT_LINE * (s.line & (s.bite == 0) & s.alive)
        shaped = shaped + CAST_CALM * (has(result.events, "cast") & ~storm_now & ~storm_coming)
        shaped = shaped + SHELTER_STORM * has(result.events, "sheltered")
        density = truth["fish_under_line"] / sim.batch.p.fish_density_ref[:, None]
        shaped = shaped + RICH_SPOT * np.minimum(density, 2.0) * s.line
        return result.reward + shaped.astype(np.float32)


REWARDS: dict[str, type[Reward]] = {"eat": Reward, "taught": TaughtReward}


def make_reward(name: str) -> Reward:
    if name not in REWARDS:
        raise ValueError(f"reward: expected one of {sorted(REWARDS)}, got {name!r}")
    return REWARDS[name]()
