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
box and the per-world strength table the kernel reads (`_layout`).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from sim import kernels as K
from sim import terrain as T
from sim import weather as W
from sim.batch import WorldBatch, per_kind, shift_toward


def preference(state, batch: WorldBatch, night: np.ndarray | None = None) -> np.ndarray:
    """(B,) the fish's preference for the shallows now, in [-1, 1]."""
    if night is None:
        night = W.is_night(state, batch)
    pref = batch.p.fish_shallow_preference[np.arange(state.n_worlds), state.weather]
    pref = pref + night * batch.p.fish_night_shallow_shift
    return np.clip(pref, -1.0, 1.0)


class _FishLayout:
    """The static data of the fish update for one batch, as `kernels.update_fish` reads it:
    per-cell fields over the bounding box of all water, one row per kind of world."""

    def __init__(self, batch: WorldBatch):
        rows, cols = np.nonzero(batch.water.any(axis=0))  # high tide: the most water there is
        r0, r1, c0, c1 = int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1
        self.box = np.array([r0, c0], dtype=np.int64)
        built: dict[int, tuple[np.ndarray, np.ndarray]] = {}

        def rows_of(b: WorldBatch) -> tuple[np.ndarray, np.ndarray]:
            if id(b) not in built:
                built[id(b)] = _fish_rows(b, r0, r1, c0, c1)
            return built[id(b)]

        self.fields = per_kind(batch, lambda b: rows_of(b)[0])
        self.world = per_kind(batch, lambda b: rows_of(b)[1])
        self.scratch = np.zeros((2, r1 - r0 + 2, c1 - c0 + 2))  # zero borders: nothing beyond the box


def _fish_rows(batch: WorldBatch, r0: int, r1: int, c0: int, c1: int) -> tuple[np.ndarray, np.ndarray]:
    """Per world: the fields of the box (B, N_FB, h, w) and the strength table (B, N_FW)."""
    b = batch.n
    box = (slice(None), slice(r0, r1), slice(c0, c1))
    p = batch.p
    f = np.zeros((b, K.N_FB, r1 - r0, c1 - c0))
    f[:, K.FB_WATER] = batch.water[box]
    f[:, K.FB_SHALLOW_WATER] = batch.shallow_water[box]
    f[:, K.FB_N_WATER_NBR] = batch.n_water_nbr[box]
    f[:, K.FB_SHALLOW_NBR_SUM] = batch.shallow_nbr_sum[box]
    # as in the rule: leaving = fish * (move_rate * has_water_nbr)
    f[:, K.FB_MOVE_SHARE] = (p.fish_move_rate[:, None, None] * batch.has_water_nbr)[box]
    f[:, K.FB_INV_CAPACITY] = batch.inv_capacity[box]
    # no growth where a kind of water has capacity 0 (fish may pass through, never breed)
    f[:, K.FB_REGROWTH] = (p.fish_regrowth[:, None, None] * (batch.capacity > 0))[box]
    f[:, K.FB_IMMIGRATION] = (p.fish_immigration[:, None, None] * batch.capacity)[box]
    world = np.zeros((b, K.N_FW))
    # strength * preference by (world, weather * 2 + night)
    for weather in range(4):
        for night in (False, True):
            state = SimpleNamespace(n_worlds=b, weather=np.full(b, weather))
            pref = preference(state, batch, np.full(b, night))
            world[:, K.FW_STRENGTH + weather * 2 + night] = p.fish_preference_strength * pref
    # the current: the share carried each tick to the downstream cell (if that is water)
    direction = p.fish_current.astype(np.int64)
    rate = p.fish_current_rate
    for k in range(4):
        here = (direction == k) & (rate != 0)
        if here.any():
            downstream = shift_toward(batch.water, k)
            share = rate[:, None, None] * (batch.water & downstream)
            f[here, K.FB_CURRENT_SHARE] = share[here][:, r0:r1, c0:c1]
            world[here, K.FW_CURRENT] = 1.0
            world[here, K.FW_CURRENT_DR], world[here, K.FW_CURRENT_DC] = T.MOVES[k]
    return f, world


def _layout(batch: WorldBatch) -> _FishLayout:
    layout = batch.cache.get("fish_layout")
    if layout is None:
        layout = batch.cache["fish_layout"] = _FishLayout(batch)
    return layout


def update_fish(state, batch: WorldBatch, night: np.ndarray | None = None) -> None:
    """One tick of fish movement and growth, in place (the step function does this itself)."""
    if night is None:
        night = W.is_night(state, batch)
    lay = _layout(batch)
    K.update_fish(np.ascontiguousarray(night, dtype=np.bool_), batch.kind, state.weather, state.fish, lay.box,
                  lay.world, lay.fields, lay.scratch)
