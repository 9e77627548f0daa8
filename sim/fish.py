"""Fish: a population per water cell that regrows, moves, and follows a depth preference.

Movement: each tick a share `move_rate` of every cell's fish leaves for its water
neighbours, split in proportion to each neighbour's attractiveness. Attractiveness is
1 + strength * preference * shallowness, where the preference (toward shallows or
deep) follows the weather and the night. Movement conserves fish; growth is logistic
toward the capacity of each kind of water, plus a trickle of immigration so an emptied
cell recovers. A current (fish.current, fish.current_rate) carries a share of each water
cell's fish, after movement, to its downstream neighbour when that is water.

How it is computed: `kernels._update_fish`, one world at a time over the bounding box of
all water in the batch (the only cells that change), in two passes over the box: every
cell's leaving fish per unit of attractiveness, then each cell's inflow from its four
neighbours (north, south, west, east, in that order), plus growth; a world with a current
takes one more pass for the drift. This module builds the static per-cell fields of the
box and the per-world strength and current, as one table with named fields (`kernel_table`).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import NamedTuple

import numpy as np

from sim import kernels as K
from sim import terrain as T
from sim import weather as W
from sim.batch import WorldBatch, kind_table, shift_toward
from sim.state import State


def preference(state: State, batch: WorldBatch, night: np.ndarray | None = None) -> np.ndarray:
    """(B,) the fish's preference for the shallows now, in [-1, 1]."""
    if night is None:
        night = W.is_night(state, batch)
    pref = batch.p.fish_shallow_preference[np.arange(state.n_worlds), state.weather]
    pref = pref + night * batch.p.fish_night_shallow_shift
    return np.clip(pref, -1.0, 1.0)


class WaterBox(NamedTuple):
    """Where the fish update runs for one batch: the bounding box of all water in the batch
    (the only cells that change), its top-left corner and scratch for the kernel."""

    rows: tuple[int, int]   # [r0, r1)
    cols: tuple[int, int]   # [c0, c1)
    corner: np.ndarray      # (2,) int64: (r0, c0)
    scratch: np.ndarray     # (2, r1 - r0 + 2, c1 - c0 + 2) float64, zero borders: nothing beyond the box


def water_box(batch: WorldBatch) -> WaterBox:
    """The batch's water box (high tide: the most water there is); built once per batch."""
    box = batch.cache.get("water_box")
    if box is None:
        rows, cols = np.nonzero(batch.water.any(axis=0))
        r0, r1, c0, c1 = int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1
        box = batch.cache["water_box"] = WaterBox((r0, r1), (c0, c1), np.array([r0, c0], dtype=np.int64),
                                                  np.zeros((2, r1 - r0 + 2, c1 - c0 + 2)))
    return box


def kernel_table(batch: WorldBatch) -> np.ndarray:
    """The fish's per-world constants as `kernels._update_fish` reads them, by name: one record
    per kind of world (`WorldBatch.kind`): the strength by weather and night, and the current."""
    box = water_box(batch)
    return kind_table(batch, "fish_table", lambda b: _columns(b, *box.rows, *box.cols)[0])


def cell_table(batch: WorldBatch) -> np.ndarray:
    """The fish's static per-cell fields over the water box, by name: (kinds, h, w) records of
    scalar fields (a field shaped by the box would make numba compile anew per box size)."""
    box = water_box(batch)
    return kind_table(batch, "fish_cells", lambda b: _columns(b, *box.rows, *box.cols)[1], axes=3)


def _columns(batch: WorldBatch, r0: int, r1: int, c0: int, c1: int) -> tuple[dict[str, np.ndarray], ...]:
    """The fish tables' fields for every world: per world (B, ...), and per cell of the box (B, h, w)."""
    b = batch.n
    box = (slice(None), slice(r0, r1), slice(c0, c1))
    p = batch.p
    strength = np.zeros((b, 4, 2))  # strength * preference by (weather, night)
    for weather in range(4):
        for night in (False, True):
            state = SimpleNamespace(n_worlds=b, weather=np.full(b, weather))
            strength[:, weather, int(night)] = p.fish_preference_strength * preference(state, batch,
                                                                                       np.full(b, night))
    # the current: the share carried each tick to the downstream cell (if that is water)
    current_share = np.zeros((b, r1 - r0, c1 - c0))
    current, current_dr, current_dc = np.zeros(b), np.zeros(b), np.zeros(b)
    direction = p.fish_current.astype(np.int64)
    rate = p.fish_current_rate
    for k in range(4):
        here = (direction == k) & (rate != 0)
        if here.any():
            downstream = shift_toward(batch.water, k)
            share = rate[:, None, None] * (batch.water & downstream)
            current_share[here] = share[here][:, r0:r1, c0:c1]
            current[here] = 1.0
            current_dr[here], current_dc[here] = T.MOVES[k]
    world = {"strength": strength, "current": current, "current_dr": current_dr, "current_dc": current_dc}
    return world, {
        # as in the rule: leaving = fish * (move_rate * has_water_nbr)
        "move_share": (p.fish_move_rate[:, None, None] * batch.has_water_nbr)[box],
        "water": batch.water[box].astype(np.float64),
        "shallow_water": batch.shallow_water[box],
        "n_water_nbr": batch.n_water_nbr[box],
        "shallow_nbr_sum": batch.shallow_nbr_sum[box],
        # no growth where a kind of water has capacity 0 (fish may pass through, never breed)
        "regrowth": (p.fish_regrowth[:, None, None] * (batch.capacity > 0))[box],
        "inv_capacity": batch.inv_capacity[box],
        "immigration": (p.fish_immigration[:, None, None] * batch.capacity)[box],
        "current_share": current_share,
    }


def update_fish(state: State, batch: WorldBatch, night: np.ndarray | None = None) -> None:
    """One tick of fish movement and growth, in place (the step function does this itself)."""
    if night is None:
        night = W.is_night(state, batch)
    box = water_box(batch)
    K.update_fish(np.ascontiguousarray(night, dtype=np.bool_), batch.kind, state.weather, state.fish,
                  box.corner, kernel_table(batch), cell_table(batch), box.scratch)
