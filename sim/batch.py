"""A batch of worlds: their maps padded to one shape and their constants stacked.

The core steps B worlds at once. Worlds in one batch may differ in map and rules
(training on many worlds); every rule constant becomes an array with a leading
batch axis, so the step function broadcasts instead of branching per world.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np

from sim import terrain as T
from worlds.loader import World
from worlds.schema import DIRECTIONS, WATER_KINDS, WEATHER_STATES

WATER_CODES = {"shallow": T.SHALLOW, "deep": T.DEEP, "reeds": T.REEDS}


def _as_row(value: object) -> np.ndarray:
    """One world's parameter value as a flat float array (scalars stay 0-d; names become indices)."""
    if isinstance(value, str):
        return np.asarray(DIRECTIONS.index(value), dtype=np.float64)
    if isinstance(value, dict):
        first = next(iter(value.values()))
        if isinstance(first, dict):  # transitions: state -> next state -> p (self-loop 0)
            return np.array([[first_row.get(s, 0.0) for s in WEATHER_STATES]
                             for first_row in value.values()], dtype=np.float64)
        if isinstance(first, tuple):  # per-state ranges
            return np.array(list(value.values()), dtype=np.float64)
        return np.array(list(value.values()), dtype=np.float64)
    return np.asarray(value, dtype=np.float64)


def stack_params(worlds: list[World]) -> SimpleNamespace:
    """All rule constants as arrays with a batch axis, named section_field."""
    out = {}
    for section in dataclasses.fields(worlds[0].params):
        for f in dataclasses.fields(getattr(worlds[0].params, section.name)):
            rows = [_as_row(getattr(getattr(w.params, section.name), f.name)) for w in worlds]
            out[f"{section.name}_{f.name}"] = np.stack(rows)
    return SimpleNamespace(**out)


class WorldBatch:
    """Static data of B worlds: padded terrain, derived fields and stacked constants.

    A batch is treated as immutable once built: the core derives per-slot constants and
    lookup tables from it on first use and keeps them (`slots`, `cache`).
    """

    def __init__(self, worlds: list[World]):
        if not worlds:
            raise ValueError("a batch needs at least one world")
        self.worlds = list(worlds)
        self.n = len(worlds)
        self.height = max(w.shape[0] for w in worlds)
        self.width = max(w.shape[1] for w in worlds)
        b, h, w = self.n, self.height, self.width
        self.terrain = np.full((b, h, w), T.VOID, dtype=np.int8)
        self.shelter_dir = np.full((b, h, w), T.NO_DIRECTION, dtype=np.int8)
        self.shelter_dist = np.full((b, h, w), -1, dtype=np.int32)
        for i, world in enumerate(worlds):
            hh, ww = world.shape
            self.terrain[i, :hh, :ww] = world.terrain
            self.shelter_dir[i, :hh, :ww], self.shelter_dist[i, :hh, :ww] = T.shelter_field(world.terrain)
        self.water = T.water_mask(self.terrain)
        self.walkable = T.walk_mask(self.terrain)
        self.fishable_from = np.isin(self.terrain, T.FISHABLE_FROM)
        self.is_shelter = self.terrain == T.SHELTER
        self.p = stack_params(worlds)
        self.capacity = np.zeros((b, h, w), dtype=np.float64)
        self.shallowness = np.zeros((b, h, w), dtype=np.float64)  # +1 shallow/reeds, -1 deep
        for k, kind in enumerate(WATER_KINDS):
            cells = self.terrain == WATER_CODES[kind]
            self.capacity += cells * self.p.fish_capacity[:, k, None, None]
            self.shallowness += cells * (-1.0 if kind == "deep" else 1.0)
        # static neighbour sums for fish movement (see sim.fish)
        self.shallow_water = self.shallowness * self.water
        self.n_water_nbr = sum(shift_toward(self.water, k).astype(np.float64) for k in range(4))
        self.shallow_nbr_sum = sum(shift_toward(self.shallow_water, k) for k in range(4))
        self.has_water_nbr = self.water & (self.n_water_nbr > 0)
        self.inv_capacity = np.divide(1.0, self.capacity, out=np.zeros_like(self.capacity),
                                      where=self.capacity > 0)
        self._spawn_cells()
        self._slots: dict[int, SlotIndex] = {}
        # derived data and scratch buffers of the core's hot paths, built on first use
        # (sim.fish, sim.observe, sim.step); never part of the simulated state
        self.cache: dict[object, object] = {}

    def __getstate__(self) -> dict:
        """Pickle without the caches (they are rebuilt on first use)."""
        return {**self.__dict__, "cache": {}, "_slots": {}}

    def slots(self, n_fishers: int) -> SlotIndex:
        """Static per-slot data for F = n_fishers slots per world (built once, then cached)."""
        index = self._slots.get(n_fishers)
        if index is None:
            index = self._slots[n_fishers] = SlotIndex(self, n_fishers)
        return index

    def _spawn_cells(self) -> None:
        """Flat indices of spawn cells per world, padded by repeating (uniform choice stays fair)."""
        spawn = np.isin(self.terrain, T.SPAWNABLE).reshape(self.n, -1)
        counts = spawn.sum(axis=1)
        self.spawn_count = counts
        self.spawn_cells = np.zeros((self.n, int(counts.max())), dtype=np.int64)
        for i in range(self.n):
            cells = np.flatnonzero(spawn[i])
            self.spawn_cells[i, : len(cells)] = cells
            self.spawn_cells[i, len(cells):] = cells[0]


def shift_toward(a: np.ndarray, k: int) -> np.ndarray:
    """out[b, r, c] = a[b, (r, c) + MOVES[k]] with False outside the map."""
    dr, dc = T.MOVES[k]
    out = np.zeros_like(a)
    h, w = a.shape[1:]
    out[:, max(0, -dr): h - max(0, dr), max(0, -dc): w - max(0, dc)] = \
        a[:, max(0, dr): h + min(0, dr), max(0, dc): w + min(0, dc)]
    return out


class SlotIndex:
    """Static data of the B x F fisher slots of a batch, flattened to one axis of N = B * F.

    The step function works on flat (N,) views of the (B, F) state arrays: per-world
    constants are repeated per slot (so rules are 1-D array operations, no broadcasting),
    and map lookups go through a copy of the masks padded by `pad` cells of nothing
    (no bounds checks: a move or a cast never leaves the padded map). A cell's padded flat
    index is `pbase[slot] + row * pwidth + col`; `delta[facing]` is one step that way.
    """

    def __init__(self, batch: WorldBatch, n_fishers: int):
        b, f, h, w = batch.n, n_fishers, batch.height, batch.width
        p = batch.p
        self.n_worlds, self.n_fishers, self.n = b, f, b * f
        self.world = np.repeat(np.arange(b), f)
        self.fbase = self.world * (h * w)  # flat index of (world, 0, 0) in (B, H, W) arrays
        self.pad = pad = max(1, int(p.fishing_cast_reach.max()))
        self.pheight, self.pwidth = h + 2 * pad, w + 2 * pad
        self.pbase = self.world * (self.pheight * self.pwidth) + pad * self.pwidth + pad
        self.delta = T.MOVES[:, 0] * self.pwidth + T.MOVES[:, 1]

        def padded(mask: np.ndarray) -> np.ndarray:
            out = np.zeros((b, self.pheight, self.pwidth), dtype=bool)
            out[:, pad:pad + h, pad:pad + w] = mask
            return out.reshape(-1)

        self.walkable = padded(batch.walkable)
        self.water = padded(batch.water)
        self.fishable_from = padded(batch.fishable_from)
        self.is_shelter = padded(batch.is_shelter)

        def per_slot(values: np.ndarray, dtype=np.float64) -> np.ndarray:
            return np.repeat(np.asarray(values).astype(dtype), f)

        self.hunger_rate = per_slot(p.hunger_rate)
        self.storm_multiplier = per_slot(p.hunger_storm_multiplier)
        self.eat_threshold = per_slot(p.hunger_eat_threshold)
        self.meal = per_slot(p.hunger_meal)
        self.inventory_max = per_slot(p.fishing_inventory_max)
        self.settle = per_slot(p.fishing_settle)
        self.bite_window = per_slot(p.fishing_bite_window, np.int64)
        self.p_bite = per_slot(p.fishing_p_bite)
        self.cast_reach = per_slot(p.fishing_cast_reach)
        self.density_ref = per_slot(p.fish_density_ref)
        self.p_lose_line = per_slot(p.storm_p_lose_line)
        self.p_lose_fish = per_slot(p.storm_p_lose_fish)
        self.meal_reward = per_slot(p.fishing_meal_reward).astype(np.float32)
