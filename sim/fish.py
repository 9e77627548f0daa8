"""Fish: a population per water cell that regrows, moves, and follows a depth preference.

Movement: each tick a share `move_rate` of every cell's fish leaves for its water
neighbours, split in proportion to each neighbour's attractiveness. Attractiveness is
1 + strength * preference * shallowness, where the preference (toward shallows or
deep) follows the weather and the night. Movement conserves fish; growth is logistic
toward the capacity of each kind of water, plus a trickle of immigration so an emptied
cell recovers.

How it is computed (performance; the arithmetic is the rule's, operation for operation):
only the bounding box of all water in the batch changes, so each tick copies that box
of `state.fish` into a flat scratch layout, one block per world with a zero border row
above and below and a zero column at the right of each row. In that layout the four
neighbours of a cell are fixed offsets (-1, +1, -row, +row) of one contiguous array for
the whole batch, so every pass is a single long numpy loop with no temporaries. The
per-world factors that depend on the weather and the night are recomputed only for the
worlds whose (weather, night) changed since the last tick.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from sim import weather as W
from sim.batch import WorldBatch, shift_toward


def _neighbour_sum(a: np.ndarray) -> np.ndarray:
    """out[b, r, c] = sum of a over the 4 orthogonal neighbours (0 outside the map)."""
    out = np.zeros_like(a)
    out[:, 1:, :] += a[:, :-1, :]
    out[:, :-1, :] += a[:, 1:, :]
    out[:, :, 1:] += a[:, :, :-1]
    out[:, :, :-1] += a[:, :, 1:]
    return out


def preference(state, batch: WorldBatch, night: np.ndarray | None = None) -> np.ndarray:
    """(B,) the fish's preference for the shallows now, in [-1, 1]."""
    if night is None:
        night = W.is_night(state, batch)
    pref = batch.p.fish_shallow_preference[np.arange(state.n_worlds), state.weather]
    pref = pref + night * batch.p.fish_night_shallow_shift
    return np.clip(pref, -1.0, 1.0)


class _FishLayout:
    """Static arrays and scratch for the flat bounding-box layout of one batch."""

    def __init__(self, batch: WorldBatch):
        b = batch.n
        rows, cols = np.nonzero(batch.water.any(axis=0))
        self.r0, self.r1 = int(rows.min()), int(rows.max()) + 1
        self.c0, self.c1 = int(cols.min()), int(cols.max()) + 1
        hb, wb = self.r1 - self.r0, self.c1 - self.c0
        self.row = wb + 1  # flat offset of the cell below
        self.size = b * (hb + 2) * self.row
        box = (slice(None), slice(self.r0, self.r1), slice(self.c0, self.c1))
        p = batch.p

        def flat(field: np.ndarray) -> np.ndarray:
            out = np.zeros((b, hb + 2, self.row), dtype=np.float64)
            out[:, 1:-1, :wb] = field[box]
            return out.reshape(-1)

        self.water = flat(batch.water)
        self.shallow_water = flat(batch.shallow_water)
        self.n_water_nbr = flat(batch.n_water_nbr)
        self.shallow_nbr_sum = flat(batch.shallow_nbr_sum)
        # as in the rule: leaving = fish * (move_rate * has_water_nbr)
        self.move_share = flat(p.fish_move_rate[:, None, None] * batch.has_water_nbr)
        self.inv_capacity = flat(batch.inv_capacity)
        # no growth where a kind of water has capacity 0 (fish may pass through, never breed)
        self.regrowth = flat(p.fish_regrowth[:, None, None] * (batch.capacity > 0))
        self.immigration = flat(p.fish_immigration[:, None, None] * batch.capacity)
        # the current: per direction, the share carried to the downstream cell (if water)
        self.currents = []
        direction = p.fish_current.astype(np.int64)
        for k in range(4):
            rate = p.fish_current_rate * (direction == k)
            if rate.any():
                downstream = shift_toward(batch.water, k)
                share = flat(rate[:, None, None] * (batch.water & downstream))
                offset = (-self.row, self.row, 1, -1)[k]
                self.currents.append((share, offset))
        self.drift = np.zeros(self.size)
        # strength * preference by (world, weather * 2 + night), as update_fish computes it
        self.strength = np.empty((b, 8))
        for weather in range(4):
            for night in (False, True):
                state = SimpleNamespace(n_worlds=b, weather=np.full(b, weather))
                pref = preference(state, batch, np.full(b, night))
                self.strength[:, weather * 2 + night] = p.fish_preference_strength * pref
        self.strength = self.strength.reshape(-1)
        # per-world factors of the current (weather, night), refreshed on change
        self.combo = np.full(b, -1, dtype=np.int64)
        self.attract = np.zeros(self.size)
        self.reach = np.ones(self.size)
        # scratch
        self.fish = np.zeros(self.size)
        self.leaving = np.zeros(self.size)
        self.per_unit = np.zeros(self.size)
        self.inflow = np.zeros(self.size)
        self.growth = np.zeros(self.size)
        self.crowding = np.zeros(self.size)
        self.fish_box = self.box_view(self.fish)

    def box_view(self, flat: np.ndarray) -> np.ndarray:
        """(B, hb, wb) view of the interior cells of a flat layout array."""
        hb, wb = self.r1 - self.r0, self.c1 - self.c0
        return flat.reshape(-1, hb + 2, self.row)[:, 1:-1, :wb]

    def refresh(self, combo: np.ndarray) -> None:
        """Recompute attractiveness and reach for the worlds whose (weather, night) changed."""
        changed = np.flatnonzero(combo != self.combo)
        if changed.size == 0:
            return
        combo = combo[changed]
        self.combo[changed] = combo
        s = self.strength[changed * 8 + combo][:, None]
        b = self.combo.size
        # water + strength * shallow_water; max(n_water_nbr + strength * shallow_nbr_sum, 1e-9)
        attract = self.shallow_water.reshape(b, -1)[changed]
        attract *= s
        attract += self.water.reshape(b, -1)[changed]
        self.attract.reshape(b, -1)[changed] = attract
        reach = self.shallow_nbr_sum.reshape(b, -1)[changed]
        reach *= s
        reach += self.n_water_nbr.reshape(b, -1)[changed]
        np.maximum(reach, 1e-9, out=reach)
        self.reach.reshape(b, -1)[changed] = reach


def _layout(batch: WorldBatch) -> _FishLayout:
    layout = batch.cache.get("fish_layout")
    if layout is None:
        layout = batch.cache["fish_layout"] = _FishLayout(batch)
    return layout


def update_fish(state, batch: WorldBatch, night: np.ndarray | None = None) -> None:
    """One tick of fish movement and growth, in place."""
    if night is None:
        night = W.is_night(state, batch)
    lay = _layout(batch)
    combo = state.weather * 2
    combo += night
    lay.refresh(combo)
    box = state.fish[:, lay.r0:lay.r1, lay.c0:lay.c1]
    fish, leaving, per_unit, inflow = lay.fish, lay.leaving, lay.per_unit, lay.inflow
    np.copyto(lay.fish_box, box)
    np.multiply(fish, lay.move_share, out=leaving)
    np.divide(leaving, lay.reach, out=per_unit)
    # neighbour sum in the rule's order: north, south, west, east (border cells stay 0)
    k, n = lay.row, lay.size
    inner = inflow[k:n - k]
    np.add(per_unit[:n - 2 * k], per_unit[2 * k:], out=inner)
    np.add(inner, per_unit[k - 1:n - k - 1], out=inner)
    np.add(inner, per_unit[k + 1:n - k + 1], out=inner)
    np.multiply(inflow, lay.attract, out=inflow)
    np.subtract(inflow, leaving, out=inflow)
    np.add(fish, inflow, out=fish)
    for share, offset in lay.currents:  # the current carries a share of fish downstream
        drift = lay.drift
        np.multiply(fish, share, out=drift)
        fish -= drift
        if offset > 0:
            fish[offset:] += drift[:-offset]
        else:
            fish[:offset] += drift[-offset:]
    # logistic growth plus immigration: regrowth * fish * (1 - fish / capacity) + immigration * capacity
    growth, crowding = lay.growth, lay.crowding
    np.multiply(fish, lay.regrowth, out=growth)
    np.multiply(fish, lay.inv_capacity, out=crowding)
    np.subtract(1.0, crowding, out=crowding)
    np.multiply(growth, crowding, out=growth)
    np.add(growth, lay.immigration, out=growth)
    np.add(fish, growth, out=fish)
    np.maximum(fish, 0.0, out=fish)
    np.copyto(box, lay.fish_box)
