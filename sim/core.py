"""`Simulation`: B worlds x F fisher slots behind one object; the entry point for every adapter.

It owns a `WorldBatch` (static) and a `State` (dynamic) and exposes the one step
function, observations and the ground truth that analysis reads. The PettingZoo and
Gymnasium envs, the SB3 VecEnv, the Mesa model and the recorder all wrap this class
and never reimplement a rule.
"""

from __future__ import annotations

import numpy as np

from sim import weather as W
from sim.batch import WorldBatch
from sim.fishers import spawn_fishers
from sim.observe import observe
from sim.reset import new_state, reset_worlds
from sim.rng import STREAM_SPAWN
from sim.state import State, at_fishers, in_shelter
from sim.step import StepResult, step
from worlds.loader import World, load_world
from worlds.schema import WEATHER_STATES


def resolve_worlds(worlds: str | World | list[str | World], n: int | None = None) -> list[World]:
    """Worlds from names, paths or World objects; a single world is repeated n times."""
    if isinstance(worlds, str | World):
        worlds = [worlds] * (n or 1)
    out = [w if isinstance(w, World) else load_world(w) for w in worlds]
    if n is not None and len(out) != n:
        raise ValueError(f"worlds: expected {n} worlds, got {len(out)}")
    return out


class Simulation:
    """B worlds with F fisher slots each, stepped together.

    Args:
        worlds: one world (name, path or World) or a list of them (one per batch entry).
        n_fishers: fisher slots per world.
        seeds: one integer seed per world (the same seed gives the same trajectory
            whether the world runs alone or inside any batch).
        respawn: a new fisher takes a starved fisher's slot; False makes a cohort.
    """

    def __init__(self, worlds: str | World | list[str | World], n_fishers: int = 1,
                 seeds: list[int] | np.ndarray | int = 0, respawn: bool = True):
        if isinstance(seeds, int | np.integer):
            n = len(worlds) if isinstance(worlds, list) else 1
            seeds = [int(seeds) + i for i in range(n)]
        self.worlds = resolve_worlds(worlds, len(seeds))
        self.batch = WorldBatch(self.worlds)
        self.seeds = [int(s) for s in seeds]
        self.state: State = new_state(self.batch, n_fishers, self.seeds, respawn)

    @property
    def n_worlds(self) -> int:
        return self.batch.n

    @property
    def n_fishers(self) -> int:
        return self.state.n_fishers

    def reset(self, seeds: list[int] | None = None, idx: np.ndarray | list[int] | None = None) -> None:
        """Reset some worlds (all by default) with new seeds (their previous seeds by default)."""
        idx = np.arange(self.n_worlds) if idx is None else np.asarray(idx, dtype=np.int64)
        if seeds is None:
            seeds = [self.seeds[i] for i in idx]
        for i, s in zip(idx, seeds, strict=True):
            self.seeds[i] = int(s)
        reset_worlds(self.state, self.batch, idx, seeds)

    def step(self, actions: np.ndarray) -> StepResult:
        """Advance all worlds one tick. actions: (B, F) ints (dead slots are ignored)."""
        return step(self.state, self.batch, actions)

    def respawn_slots(self, mask: np.ndarray) -> None:
        """Start a new life in the slots mask (B, F) (for protocols that respawn after a delay)."""
        spawn_fishers(self.state, self.batch, np.asarray(mask, dtype=bool), STREAM_SPAWN)

    def observe(self) -> np.ndarray:
        """(B, F, OBS_SIZE) float32 observations."""
        return observe(self.state, self.batch)

    def ground_truth(self) -> dict[str, np.ndarray]:
        """What analysis may know and fishers may not: per-fisher (B, F) arrays."""
        s = self.state
        shape = s.hunger.shape
        per_world = lambda a: np.broadcast_to(a[:, None], shape)  # noqa: E731
        fish_under = np.where(s.line, at_fishers(s.fish, s.line_row, s.line_col), 0.0)
        return {
            "hunger": s.hunger.copy(),
            "alive": s.alive.copy(),
            "row": s.row.copy(), "col": s.col.copy(),
            "weather": per_world(s.weather).copy(),
            "front_in": per_world(W.front_in(s)).copy(),
            "fish_under_line": fish_under,
            "sheltered": in_shelter(s, self.batch),
            "line_age": np.where(s.line, s.line_age, -1),
            "bite_factor": per_world(W.bite_factor(s, self.batch)).copy(),
        }

    @staticmethod
    def weather_name(index: int) -> str:
        return WEATHER_STATES[int(index)]
