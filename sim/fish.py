"""Fish: a population per water cell that regrows, moves, and follows a depth preference.

Movement: each tick a share `move_rate` of every cell's fish leaves for its water
neighbours, split in proportion to each neighbour's attractiveness. Attractiveness is
1 + strength * preference * shallowness, where the preference (toward shallows or
deep) follows the weather and the night. Movement conserves fish; growth is logistic
toward the capacity of each kind of water, plus a trickle of immigration so an emptied
cell recovers.
"""

from __future__ import annotations

import numpy as np

from sim import weather as W
from sim.batch import WorldBatch


def _neighbour_sum(a: np.ndarray) -> np.ndarray:
    """out[b, r, c] = sum of a over the 4 orthogonal neighbours (0 outside the map)."""
    out = np.zeros_like(a)
    out[:, 1:, :] += a[:, :-1, :]
    out[:, :-1, :] += a[:, 1:, :]
    out[:, :, 1:] += a[:, :, :-1]
    out[:, :, :-1] += a[:, :, 1:]
    return out


def preference(state, batch: WorldBatch) -> np.ndarray:
    """(B,) the fish's preference for the shallows now, in [-1, 1]."""
    pref = batch.p.fish_shallow_preference[np.arange(state.n_worlds), state.weather]
    pref = pref + W.is_night(state, batch) * batch.p.fish_night_shallow_shift
    return np.clip(pref, -1.0, 1.0)


def update_fish(state, batch: WorldBatch) -> None:
    """One tick of fish movement and growth, in place."""
    p = batch.p
    fish = state.fish
    strength = (p.fish_preference_strength * preference(state, batch))[:, None, None]
    attract = batch.water + strength * batch.shallow_water  # 0 off water
    # total attractiveness of a cell's water neighbours, from static neighbour sums
    reach = batch.n_water_nbr + strength * batch.shallow_nbr_sum
    leaving = fish * (p.fish_move_rate[:, None, None] * batch.has_water_nbr)
    per_unit = leaving / np.maximum(reach, 1e-9)
    fish += attract * _neighbour_sum(per_unit) - leaving
    fish += p.fish_regrowth[:, None, None] * fish * (1.0 - fish * batch.inv_capacity) \
        + p.fish_immigration[:, None, None] * batch.capacity
    np.maximum(fish, 0.0, out=fish)
