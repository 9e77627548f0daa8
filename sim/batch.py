"""A batch of worlds: their maps padded to one shape and their constants stacked.

The core steps B worlds at once. Worlds in one batch may differ in map and rules
(training on many worlds); every rule constant becomes an array with a leading
batch axis, so the step function broadcasts instead of branching per world.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
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
    first: dict[int, int] = {}  # worlds sharing one parameter object are read once
    which = np.array([first.setdefault(id(w.params), len(first)) for w in worlds])
    distinct = list({id(w.params): w for w in worlds}.values())
    out = {}
    for section in dataclasses.fields(worlds[0].params):
        for f in dataclasses.fields(getattr(worlds[0].params, section.name)):
            rows = [_as_row(getattr(getattr(w.params, section.name), f.name)) for w in distinct]
            out[f"{section.name}_{f.name}"] = np.stack(rows)[which]
    return SimpleNamespace(**out)


class WorldBatch:
    """Static data of B worlds: padded terrain, derived fields and stacked constants.

    A batch is treated as immutable once built: the core derives tables for its kernels
    from it on first use and keeps them (`cache`). The per-world fields (terrain, water, ...)
    are the maps as drawn, which for a tidal world is high tide.

    Tides (sim.tide): the kernels read the map of each world through its *kind*, a row of
    per-kind tables. A tidal world has two kinds, its own (high tide) and one of the batch's
    `variants` (a batch of the same worlds with their flats dry); `kind` (B,) holds the kind
    of each world's current tide and is set from the state's tick by `sim.tide.sync` before
    the kernels run. Worlds without flats keep one kind.
    """

    def __init__(self, worlds: list[World], shape: tuple[int, int] | None = None, tides: bool = True):
        if not worlds:
            raise ValueError("a batch needs at least one world")
        self.worlds = list(worlds)
        self.n = len(worlds)
        self.height = max(w.shape[0] for w in worlds) if shape is None else shape[0]
        self.width = max(w.shape[1] for w in worlds) if shape is None else shape[1]
        b, h, w = self.n, self.height, self.width
        self.terrain = np.full((b, h, w), T.VOID, dtype=np.int8)
        self.shelter_dir = np.full((b, h, w), T.NO_DIRECTION, dtype=np.int8)
        self.shelter_dist = np.full((b, h, w), -1, dtype=np.int32)
        fields: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}  # one search per distinct map
        for i, world in enumerate(worlds):
            hh, ww = world.shape
            terrain = np.asarray(world.terrain)
            self.terrain[i, :hh, :ww] = terrain
            key = terrain.shape, terrain.dtype.str, terrain.tobytes()
            if key not in fields:
                fields[key] = T.shelter_field(terrain)
            self.shelter_dir[i, :hh, :ww], self.shelter_dist[i, :hh, :ww] = fields[key]
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
        # worlds with the same map and the same rules are of one kind: the kernels' static
        # tables hold one row per kind (less memory to stream through than one per world)
        rules = np.concatenate([v.reshape(b, -1) for v in vars(self.p).values()], axis=1)
        kinds: dict[tuple[bytes, bytes], int] = {}
        self.kind = np.array([kinds.setdefault((rules[i].tobytes(), self.terrain[i].tobytes()), len(kinds))
                              for i in range(b)], dtype=np.int64)
        self.kind_world = np.zeros(len(kinds), dtype=np.int64)  # a world of each kind
        self.kind_world[self.kind[::-1]] = np.arange(b)[::-1]
        self._tides(tides)
        # derived tables and scratch buffers of the core's kernels, built on first use
        # (sim.weather, sim.fishers, sim.fish, sim.observe, sim.step); never simulated state
        self.cache: dict[object, object] = {}

    def _tides(self, tides: bool) -> None:
        """The low-tide variants of the tidal kinds, and each world's kind at high and low tide."""
        b, h, w = self.n, self.height, self.width
        self.flats = np.zeros((b, h, w), dtype=bool)
        self.tide_half = np.zeros(b, dtype=np.int64)  # ticks between turns of the tide (0: none)
        self.kind_high = self.kind.copy()
        self.kind_low = self.kind.copy()
        self.variants: WorldBatch | None = None
        tidal = [i for i, world in enumerate(self.worlds) if world.flats is not None]
        if not tides or not tidal:
            return
        for i in tidal:
            hh, ww = self.worlds[i].shape
            self.flats[i, :hh, :ww] = self.worlds[i].flats
            self.tide_half[i] = self.worlds[i].params.tide.period // 2
        tidal_kinds = sorted({int(self.kind[i]) for i in tidal})
        low = []
        for k in tidal_kinds:
            world = self.worlds[int(self.kind_world[k])]
            terrain = np.array(world.terrain)
            terrain[world.flats] = T.SHORE
            terrain.setflags(write=False)
            low.append(dataclasses.replace(world, terrain=terrain))
        self.variants = WorldBatch(low, shape=(h, w), tides=False)
        n_kinds = len(self.kind_world)
        for j, k in enumerate(tidal_kinds):
            self.kind_low[self.kind_high == k] = n_kinds + self.variants.kind[j]

    @property
    def tidal(self) -> bool:
        """Whether any world of the batch has tides."""
        return self.variants is not None

    def __getstate__(self) -> dict:
        """Pickle without the caches (they are rebuilt on first use)."""
        return {**self.__dict__, "cache": {}}

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


def per_kind(batch: WorldBatch, build) -> np.ndarray:
    """One row per kind of a per-world table `build(batch)` ((B, ...) -> (kinds, ...)): the
    batch's own kinds, then its low-tide variants' (`WorldBatch.variants`)."""
    rows = build(batch)[batch.kind_world]
    if batch.variants is None:
        return np.ascontiguousarray(rows)
    v = batch.variants
    return np.ascontiguousarray(np.concatenate([rows, build(v)[v.kind_world]]))


def records(columns: dict[str, np.ndarray], axes: int = 1) -> np.ndarray:
    """Columns (n, ...) as n records with one field per column, named and shaped as the column
    (its shape after the first `axes` axes, which index the records): how the core's kernels
    receive rule constants by name."""
    columns = {name: np.asarray(value) for name, value in columns.items()}
    shape = next(iter(columns.values())).shape[:axes]
    out = np.zeros(shape, dtype=np.dtype([(name, v.dtype, v.shape[axes:]) for name, v in columns.items()]))
    for name, value in columns.items():
        out[name] = value
    return out


def kind_table(batch: WorldBatch, key: str, columns: Callable[[WorldBatch], dict[str, np.ndarray]],
               axes: int = 1) -> np.ndarray:
    """A kernel table with named fields, one record (or `axes` - 1 axes of them) per kind of
    world (`per_kind`): the fields are the per-world columns (B, ...) that `columns(batch)`
    returns; built once per batch and kept in its cache under `key`. A field's shape is part
    of numba's type: one that varies between batches (a map's size) compiles the kernels anew,
    so such tables hold scalar fields over more axes instead (`axes`)."""
    table = batch.cache.get(key)
    if table is None:
        table = batch.cache[key] = per_kind(batch, lambda b: records(columns(b), axes))
    return table


def shift_toward(a: np.ndarray, k: int) -> np.ndarray:
    """out[b, r, c] = a[b, (r, c) + MOVES[k]] with False outside the map."""
    dr, dc = T.MOVES[k]
    out = np.zeros_like(a)
    h, w = a.shape[1:]
    out[:, max(0, -dr): h - max(0, dr), max(0, -dc): w - max(0, dc)] = \
        a[:, max(0, dr): h + min(0, dr), max(0, dc): w + min(0, dc)]
    return out

