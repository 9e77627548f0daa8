"""Rewards: "eat", the incentive and the only signal; "shaped" and "taught", eat plus teaching.

"eat" pays `meal_reward` (a world constant) per meal and nothing else: hunger gates eating
and ends lives but never pays by itself (a prototype that paid "hunger removed" taught
fishers that being hungrier pays). "taught" is for the teach-vs-incentivize comparison
only: it adds small rewards, read from the ground truth a teacher would know, for

- waiting with the line out and no bite showing (`WAIT_LINE` per tick): patience;
- casting while no storm is on or coming (`CAST_CALM` per cast): weather reading;
- being in a shelter during a storm (`SHELTER_STORM` per tick): weather reading;
- having the line over fish (`RICH_SPOT` x fish under the line / density_ref per tick): knowing fish.

"shaped" (`shaped` or `shaped:SCALE`) is the teaching the teach-vs-incentivize study compares:
potential-based shaping (Ng, Harada and Russell 1999), F = gamma x Phi(s') - Phi(s), which leaves
the best policy of the eating reward unchanged and only says, early, which states lead to meals.
Phi, in meals (`meal_reward`) x SCALE, from what a teacher knows (the ground truth):

- fish carried (`PHI_CARRIED` per fish): a catch is most of a meal already;
- a line out over fish (`PHI_LINE` x min(fish under the line / density_ref, 2)): knowing fish;
- standing in a shelter while a storm is on or due within `STORM_SOON` ticks (`PHI_SHELTER`):
  weather reading.

A life that ends has Phi = 0 after it (an episode's end), and a new life in the slot starts from
its own Phi (`respawned`), so the shaping over a life telescopes to gamma^T Phi_T - Phi_0.
`SHAPING_GAMMA` must be the learner's gamma (a test checks agents/hyperparams.toml).
"""

from __future__ import annotations

import numpy as np

from sim import weather as W
from sim.core import Simulation
from sim.events import has
from sim.state import in_shelter
from sim.step import StepResult
from sim.weather import NO_FRONT, STORM

WAIT_LINE = 0.002
CAST_CALM = 0.02
SHELTER_STORM = 0.01
RICH_SPOT = 0.002
STORM_SOON = 20  # ticks: a storm this close counts as coming
SHAPING_GAMMA = 0.99  # PPO's gamma in every [ppo.*] and [recurrent_ppo.*] section
PHI_CARRIED = 0.5  # meals per fish carried
PHI_LINE = 0.1  # meals per unit of fish density under a line that is out (capped at 2)
PHI_SHELTER = 0.3  # meals for standing in a shelter while a storm is on or coming


class Reward:
    """Maps a step of the simulation to per-slot rewards (B, F)."""

    name = "eat"

    def reset(self, sim: Simulation) -> None:
        """Called when the simulation is (re)built or reset."""

    def __call__(self, sim: Simulation, result: StepResult) -> np.ndarray:
        return result.reward

    def respawned(self, sim: Simulation, slots: np.ndarray) -> None:
        """Called after new lives took the (B, F) slots whose lives ended this step."""


def storm_due(sim: Simulation) -> np.ndarray:
    """(B, 1) bool: a storm is on, or the next weather is a storm within STORM_SOON ticks (ground truth)."""
    s = sim.state
    front = W.front_in(s)
    coming = (s.next_weather == STORM) & (front != NO_FRONT) & (front <= STORM_SOON)
    return ((s.weather == STORM) | coming)[:, None]


class PotentialReward(Reward):
    """Eat plus potential-based shaping gamma x Phi(s') - Phi(s) (see module doc), Phi x `scale`."""

    name = "shaped"

    def __init__(self, scale: float = 1.0):
        self.scale = float(scale)
        self.phi = np.zeros((0, 0))

    def potential(self, sim: Simulation) -> np.ndarray:
        """(B, F) Phi of every slot's state now (0 for an empty slot)."""
        s, p = sim.state, sim.batch.p
        density = np.minimum(sim.ground_truth()["fish_under_line"] / p.fish_density_ref[:, None], 2.0)
        phi = PHI_CARRIED * s.inventory + PHI_LINE * density * s.line
        phi = phi + PHI_SHELTER * (in_shelter(s, sim.batch) & storm_due(sim))
        return np.where(s.alive, self.scale * p.fishing_meal_reward[:, None] * phi, 0.0)

    def reset(self, sim: Simulation) -> None:
        self.phi = self.potential(sim)

    def __call__(self, sim: Simulation, result: StepResult) -> np.ndarray:
        after = self.potential(sim)
        ended = result.starved  # Phi after a life's end is 0 (the episode is over)
        shaping = SHAPING_GAMMA * np.where(ended, 0.0, after) - self.phi
        self.phi = after
        return (result.reward + shaping).astype(np.float32)

    def respawned(self, sim: Simulation, slots: np.ndarray) -> None:
        self.phi = np.where(slots, self.potential(sim), self.phi)


class TaughtReward(Reward):
    """Eat plus shaped rewards for patience, weather reading and knowing fish (see module doc)."""

    name = "taught"

    def __call__(self, sim: Simulation, result: StepResult) -> np.ndarray:
        s = sim.state
        truth = sim.ground_truth()
        shaped = WAIT_LINE * (s.line & (s.bite == 0) & s.alive)
        shaped = shaped + CAST_CALM * (has(result.events, "cast") & ~storm_due(sim))
        shaped = shaped + SHELTER_STORM * has(result.events, "sheltered")
        density = truth["fish_under_line"] / sim.batch.p.fish_density_ref[:, None]
        shaped = shaped + RICH_SPOT * np.minimum(density, 2.0) * s.line
        return result.reward + shaped.astype(np.float32)


REWARDS: dict[str, type[Reward]] = {"eat": Reward, "taught": TaughtReward, "shaped": PotentialReward}
SPELLING = "eat, taught, shaped or shaped:SCALE (a number > 0)"


def check_reward(spelling: object) -> str | None:
    """None when `spelling` names a reward, else what was expected."""
    if not isinstance(spelling, str):
        return SPELLING
    name, _, scale = spelling.partition(":")
    if name not in REWARDS or (scale and name != "shaped"):
        return SPELLING
    try:
        ok = not scale or 0 < float(scale) < np.inf
    except ValueError:
        ok = False
    return None if ok else SPELLING


def make_reward(spelling: str) -> Reward:
    """A reward by its spelling: eat, taught, shaped or shaped:SCALE."""
    problem = check_reward(spelling)
    if problem:
        raise ValueError(f"reward: expected {problem}, got {spelling!r}")
    name, _, scale = spelling.partition(":")
    return PotentialReward(float(scale)) if name == "shaped" and scale else REWARDS[name]()
