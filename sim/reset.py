"""Starting worlds: a fresh `State` for a batch, and resets of some of its worlds from seeds.

A reset puts a world at tick 0 and high tide, fills every water cell to its capacity,
draws the weather's first state and schedule, and starts a new life in every slot; all of
it from the world's seed alone (`sim.rng`), so a world reset alone and inside any batch
starts the same.
"""

from __future__ import annotations

import numpy as np

from sim import rng, tide
from sim import weather as W
from sim.batch import WorldBatch
from sim.fishers import spawn_fishers
from sim.state import TREND_TICKS, State


def new_state(batch: WorldBatch, n_fishers: int, seeds: list[int] | np.ndarray,
              respawn: bool | np.ndarray = True) -> State:
    """A fresh state for every world in the batch, each reset with its own seed."""
    b, h, w = batch.n, batch.height, batch.width
    f = n_fishers
    if n_fishers < 1:
        raise ValueError(f"n_fishers: expected an integer >= 1, got {n_fishers}")
    if len(seeds) != b:
        raise ValueError(f"seeds: expected one seed per world ({b}), got {len(seeds)}")
    zi = lambda *s: np.zeros(s, dtype=np.int64)  # noqa: E731
    state = State(
        keys=np.zeros(b, np.uint64), tick=zi(b), respawn=np.broadcast_to(respawn, (b,)).copy(),
        weather=zi(b), next_weather=zi(b), change_at=zi(b), cue_at=zi(b),
        barometer=np.zeros(b), baro_hist=np.zeros((b, TREND_TICKS)), cloud=np.zeros(b),
        fish=np.zeros((b, h, w)),
        row=zi(b, f), col=zi(b, f), facing=zi(b, f), alive=np.zeros((b, f), bool),
        hunger=np.zeros((b, f)), inventory=zi(b, f), line=np.zeros((b, f), bool),
        line_row=zi(b, f), line_col=zi(b, f), line_age=zi(b, f), bite=zi(b, f),
        lives=zi(b, f), lifetime=zi(b, f), meals=zi(b, f), catches=zi(b, f),
    )
    reset_worlds(state, batch, np.arange(b), seeds)
    return state


def reset_worlds(state: State, batch: WorldBatch, idx: np.ndarray, seeds: list[int] | np.ndarray) -> None:
    """Reset the worlds `idx` in place from their seeds; other worlds are untouched."""
    idx = np.asarray(idx, dtype=np.int64)
    if idx.size == 0:
        return
    state.keys[idx] = rng.world_keys(seeds)
    state.tick[idx] = 0
    tide.sync(state, batch)  # an episode starts at high tide
    state.fish[idx] = batch.capacity[idx]
    W.reset_weather(state, batch, idx)
    everyone = np.zeros((state.n_worlds, state.n_fishers), bool)
    everyone[idx] = True
    state.lives[idx] = 0
    spawn_fishers(state, batch, everyone, rng.STREAM_RESET)
