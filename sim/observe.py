"""What a fisher senses: a fixed-size egocentric view plus scalar senses, the same in every world.

The view is VIEW x VIEW cells centred on the fisher (north up), with channels
blocked (off-map or rock), ground, shallow, deep, reeds, shelter, other fishers and
ripples. Ripples are the only hint of fish: the fish density of a water cell,
coarsened to RIPPLE_LEVELS steps up to RIPPLE_FULL. The fish field itself and the hidden weather state
are never observed; the barometer, its trend, cloud cover, rain and lightning are.
`LAYOUT` names every slice so scripted fishers and probes never hard-code offsets.

How it is computed (performance; every value is the rule's, bit for bit): an observation
row is mostly a function of the cell a fisher stands on (the terrain of its view, the
shelter senses), so those parts are built once per (world map, cell) into a table and a
tick's observations start as one gather of whole rows. On top go the parts that change:
ripples (kept in a padded grid that is updated only where a cell's ripple level changed,
found by comparing the fish with each cell's exact level thresholds), other fishers (from
the pairs of slots of a world) and the scalar senses.
"""

from __future__ import annotations

import numpy as np

from sim import terrain as T
from sim import weather as W
from sim.batch import WorldBatch
from sim.state import State

VIEW_RADIUS = 3
VIEW = 2 * VIEW_RADIUS + 1
VIEW_CHANNELS = ("blocked", "ground", "shallow", "deep", "reeds", "shelter", "fisher", "ripples")
RIPPLE_LEVELS = 3
RIPPLE_FULL = 2.0  # density (fish / density_ref) at which ripples are full: where bites stop rising
SCALARS = (
    "hunger", "inventory", "line_out", "line_age", "bite", "barometer", "barometer_trend", "cloud",
    "raining", "storm", "day_sin", "day_cos", "night", "in_shelter",
    "shelter_north", "shelter_south", "shelter_east", "shelter_west", "shelter_distance",
    "facing_north", "facing_south", "facing_east", "facing_west", "facing_water", "hungry_enough",
)
_TERRAIN_CHANNEL = {T.VOID: 0, T.ROCK: 0, T.LAND: 1, T.SHORE: 1, T.ICE: 1,
                    T.SHALLOW: 2, T.DEEP: 3, T.REEDS: 4, T.SHELTER: 5}
N_STATIC = 6  # terrain channels
VIEW_SIZE = VIEW * VIEW * len(VIEW_CHANNELS)
OBS_SIZE = VIEW_SIZE + len(SCALARS)
LAYOUT: dict[str, slice | int] = {"view": slice(0, VIEW_SIZE)}
LAYOUT.update({name: VIEW_SIZE + i for i, name in enumerate(SCALARS)})
SCALE_TICKS = 20.0  # line age and shelter distance are divided by this and clipped to 1


def view_of(obs: np.ndarray) -> np.ndarray:
    """The egocentric view of observations (..., OBS_SIZE) as (..., VIEW, VIEW, channels)."""
    return obs[..., LAYOUT["view"]].reshape(*obs.shape[:-1], VIEW, VIEW, len(VIEW_CHANNELS))


# the row table keeps at most this many rows (about 27 MB) before it is cleared and refilled
ROW_TABLE_ROWS = 16384
_CENTRE = VIEW_RADIUS * VIEW + VIEW_RADIUS
_FISHER, _RIPPLES = VIEW_CHANNELS.index("fisher"), VIEW_CHANNELS.index("ripples")
_S = {name: VIEW_SIZE + i for i, name in enumerate(SCALARS)}


def ripple_level(fish: np.ndarray, density_ref: np.ndarray) -> np.ndarray:
    """Ripple level (0..RIPPLE_LEVELS) of water cells holding `fish` (the rule, as int16)."""
    density = fish / density_ref
    return (np.minimum(density / RIPPLE_FULL, 1.0) * RIPPLE_LEVELS).astype(np.int16)


def _level_thresholds(density_ref: np.ndarray) -> np.ndarray:
    """(B, RIPPLE_LEVELS + 2): [-inf, t_1, .., t_L, +inf], t_k the smallest float64 fish count
    whose ripple level is >= k. `ripple_level` is monotone in fish, so level >= k iff fish >= t_k."""
    b = density_ref.size
    out = np.empty((b, RIPPLE_LEVELS + 2))
    out[:, 0], out[:, -1] = -np.inf, np.inf
    for k in range(1, RIPPLE_LEVELS + 1):
        x = density_ref * RIPPLE_FULL * k / RIPPLE_LEVELS
        for _ in range(64):  # a few ulps at most
            high = ripple_level(x, density_ref) >= k
            if not high.any():
                break
            x = np.where(high, np.nextafter(x, -np.inf), x)
        for _ in range(64):
            low = ripple_level(x, density_ref) < k
            if not low.any():
                break
            x = np.where(low, np.nextafter(x, np.inf), x)
        below = np.nextafter(x, -np.inf)
        if not ((ripple_level(x, density_ref) >= k).all() and (ripple_level(below, density_ref) < k).all()):
            raise AssertionError("ripple thresholds: the level is not monotone in the fish count")
        out[:, k] = x
    return out


class _ViewCache:
    """Per-batch tables and scratch of `observe`; every piece that depends on the state is
    checked against the state it is asked about, so any state of the batch can be observed."""

    def __init__(self, batch: WorldBatch):
        b, h, w, r = batch.n, batch.height, batch.width, VIEW_RADIUS
        self.hp, self.wp = h + 2 * r, w + 2 * r
        # worlds with the same (padded) map share their table rows
        kinds: dict[bytes, int] = {}
        self.kind = np.array([kinds.setdefault(batch.terrain[i].tobytes(), len(kinds)) for i in range(b)])
        self.kind_world = np.zeros(len(kinds), dtype=np.int64)
        self.kind_world[self.kind[::-1]] = np.arange(b)[::-1]  # a world of each kind
        channel = np.zeros(T.N_TERRAIN, dtype=np.int8)
        for code, ch in _TERRAIN_CHANNEL.items():
            channel[code] = ch
        self.terrain_channel = np.zeros((b, self.hp, self.wp), dtype=np.int8)  # padding is "blocked"
        self.terrain_channel[:, r:-r, r:-r] = channel[batch.terrain]
        dy, dx = np.meshgrid(np.arange(VIEW), np.arange(VIEW), indexing="ij")
        self.offsets = (dy * self.wp + dx).reshape(-1)
        self.row_of = np.full(len(kinds) * h * w * 4, -1, dtype=np.int64)  # by (kind, cell, facing)
        self.rows = np.empty((0, OBS_SIZE), dtype=np.float32)
        self.n_rows = 0
        # ripples: the fish box of sim.fish (all water), a level per cell and its thresholds
        rows_, cols_ = np.nonzero(batch.water.any(axis=0))
        self.r0, self.r1, self.c0, self.c1 = rows_.min(), rows_.max() + 1, cols_.min(), cols_.max() + 1
        box = (slice(None), slice(self.r0, self.r1), slice(self.c0, self.c1))
        n_box = batch.water[box].size
        self.world_of = np.repeat(np.arange(b), n_box // b)
        rr, cc = np.meshgrid(np.arange(self.r0, self.r1), np.arange(self.c0, self.c1), indexing="ij")
        self.grid_index = (self.world_of * (self.hp * self.wp)
                           + np.tile(((rr + r) * self.wp + cc + r).reshape(-1), b))
        self.fish_index = self.world_of * (h * w) + np.tile((rr * w + cc).reshape(-1), b)
        self.water = batch.water[box].reshape(-1)
        self.density_ref = batch.p.fish_density_ref
        # a cell's level is known while its fish stay in [low, high) of that level; for fish >= +0
        # the float64 order is the order of the bit patterns, so one unsigned range check
        # (bits - low_bits < high_bits - low_bits) tells whether the level may have changed;
        # anything else (a negative fish, -0.0, NaN) always counts as changed and is recomputed
        self.thresholds = _level_thresholds(batch.p.fish_density_ref)
        self.thresholds[:, 0] = 0.0
        self.threshold_bits = self.thresholds.view(np.uint64)
        self.low = np.zeros(batch.water[box].shape, dtype=np.uint64)  # level 0 everywhere to start
        high = np.where(self.water, self.threshold_bits[self.world_of, 1], np.float64(np.inf).view(np.uint64))
        self.span = (high - self.low.reshape(-1)).reshape(self.low.shape)  # off water: never changes
        self.offset = np.zeros(self.low.shape, dtype=np.uint64)
        self.changed = np.zeros(self.low.shape, dtype=bool)
        self.ripple_value = (np.arange(RIPPLE_LEVELS + 1) / RIPPLE_LEVELS).astype(np.float32)
        # the view's two changing channels as one small code per padded cell: bit 0 = a living
        # fisher stands there, bits 1-2 = the ripple level; decoded to the two adjacent floats
        # (fisher, ripples) of a view cell as one complex64 (real, imag)
        n_cells = b * self.hp * self.wp
        self.dynamic = np.zeros(n_cells + 8, dtype=np.uint8)  # + 8: the last window row reads 8 bytes
        # 8 consecutive codes from each cell: one gather fetches a window row (7 cells, 1 unused)
        self.dynamic_rows = np.ndarray((n_cells,), dtype=np.uint64, buffer=self.dynamic, strides=(1,))
        self.row_offsets = np.arange(VIEW) * self.wp
        self.marked = np.zeros(0, dtype=np.int64)  # cells whose fisher bit is set
        codes = np.arange(256)
        ripples = self.ripple_value[np.minimum(codes // 2, RIPPLE_LEVELS)]
        pair = (codes % 2 + 1j * ripples).astype(np.complex64)
        self.decode = pair.view(np.uint64)  # raw bits of the (fisher, ripples) float32 pair
        self.weather = np.zeros((b, 8))
        self.rows_b = np.arange(b)

    def table_rows(self, batch: WorldBatch, keys: np.ndarray) -> np.ndarray:
        """Row indices of (kind, cell, facing) keys, building missing rows (clearing a full table first)."""
        rows = self.row_of[keys]
        missing = rows < 0
        if missing.any():
            new = np.unique(keys[missing])
            if self.n_rows + new.size > max(ROW_TABLE_ROWS, keys.size):
                self.row_of[:] = -1
                self.n_rows = 0
                new = np.unique(keys)
            self._build(batch, new)
            rows = self.row_of[keys]
        return rows

    def _build(self, batch: WorldBatch, keys: np.ndarray) -> None:
        """Table rows for (kind, cell, facing) keys: the view's terrain, shelter and facing senses."""
        if self.n_rows + keys.size > self.rows.shape[0]:
            limit = max(ROW_TABLE_ROWS, self.n_rows + keys.size)
            size = min(max(2 * self.rows.shape[0], self.n_rows + keys.size, 256), limit)
            grown = np.empty((size, OBS_SIZE), np.float32)
            grown[:self.n_rows] = self.rows[:self.n_rows]
            self.rows = grown
        hw = batch.height * batch.width
        facing, cell = keys % 4, keys // 4
        world = self.kind_world[cell // hw]
        row, col = (cell % hw) // batch.width, cell % batch.width
        n = keys.size
        out = np.zeros((n, OBS_SIZE), dtype=np.float32)
        view = out[:, :VIEW_SIZE].reshape(n, VIEW * VIEW, len(VIEW_CHANNELS))
        corner = (world * self.hp + row) * self.wp + col  # the view's top-left in padded coordinates
        channel = self.terrain_channel.reshape(-1)[corner[:, None] + self.offsets]
        view[np.arange(n)[:, None], np.arange(VIEW * VIEW), channel] = 1.0
        sheltered = batch.is_shelter[world, row, col]
        direction = batch.shelter_dir[world, row, col]
        dist = batch.shelter_dist[world, row, col]
        out[:, _S["in_shelter"]] = sheltered
        toward = (direction[:, None] == np.arange(4)) & ~sheltered[:, None]
        out[:, _S["shelter_north"]:_S["shelter_west"] + 1] = toward
        out[:, _S["shelter_distance"]] = np.where(dist < 0, 1.0, np.minimum(dist, SCALE_TICKS) / SCALE_TICKS)
        out[:, _S["facing_north"]:_S["facing_west"] + 1] = facing[:, None] == np.arange(4)
        ahead_r, ahead_c = row + T.MOVES[facing, 0], col + T.MOVES[facing, 1]
        inside = (ahead_r >= 0) & (ahead_r < batch.height) & (ahead_c >= 0) & (ahead_c < batch.width)
        ahead = batch.water[world, np.where(inside, ahead_r, 0), np.where(inside, ahead_c, 0)]
        out[:, _S["facing_water"]] = inside & ahead
        self.rows[self.n_rows:self.n_rows + n] = out
        self.row_of[keys] = np.arange(self.n_rows, self.n_rows + n)
        self.n_rows += n

    def update_ripples(self, fish: np.ndarray) -> None:
        """Bring the ripple grid up to date with `fish` (B, H, W), where levels changed."""
        fish = np.ascontiguousarray(fish, dtype=np.float64)
        box = fish.view(np.uint64)[:, self.r0:self.r1, self.c0:self.c1]
        np.subtract(box, self.low, out=self.offset)
        np.greater_equal(self.offset, self.span, out=self.changed)
        cells = np.flatnonzero(self.changed)
        if cells.size == 0:
            return
        world = self.world_of[cells]
        level = ripple_level(fish.reshape(-1)[self.fish_index[cells]], self.density_ref[world])
        np.clip(level, 0, RIPPLE_LEVELS, out=level)  # (a fish count below 0 is not a state the rules make)
        low = self.threshold_bits[world, level]
        self.low.reshape(-1)[cells] = low
        self.span.reshape(-1)[cells] = self.threshold_bits[world, level + 1] - low
        grid = self.grid_index[cells]
        self.dynamic[grid] = (self.dynamic[grid] & 1) | (level.astype(np.uint8) << 1)

    def mark_fishers(self, cells: np.ndarray) -> None:
        """Set the fisher bit on exactly these padded cells (those of living fishers)."""
        self.dynamic[self.marked] &= 0xFE
        self.dynamic[cells] |= 1
        self.marked = cells


class _SlotView:
    """Per-(batch, F) index arrays of `observe`."""

    def __init__(self, batch: WorldBatch, cache: _ViewCache, n_fishers: int):
        b, f = batch.n, n_fishers
        world = np.repeat(np.arange(b), f)
        self.key_base = cache.kind[world] * (batch.height * batch.width)
        self.grid_base = world * (cache.hp * cache.wp)
        self.not_self = ~np.eye(f, dtype=bool)
        self.window = np.empty((b * f, VIEW), dtype=np.int64)
        self.rows = np.empty((b * f, VIEW), dtype=np.uint64)
        self.codes = np.empty((b * f, VIEW, VIEW), dtype=np.intp)  # take's index dtype: no conversion
        self.pairs = np.empty((b * f, VIEW, VIEW), dtype=np.uint64)
        self.eat_threshold = batch.slots(f).eat_threshold.reshape(b, f)


def _cache(batch: WorldBatch, n_fishers: int) -> tuple[_ViewCache, _SlotView]:
    cache = batch.cache.get("view")
    if cache is None:
        cache = batch.cache["view"] = _ViewCache(batch)
    slots = batch.cache.get(("view", n_fishers))
    if slots is None:
        slots = batch.cache[("view", n_fishers)] = _SlotView(batch, cache, n_fishers)
    return cache, slots


def observe(state: State, batch: WorldBatch) -> np.ndarray:
    """Observations of every fisher slot: (B, F, OBS_SIZE) float32."""
    b, f = state.n_worlds, state.n_fishers
    c, sv = _cache(batch, f)
    row, col, alive = state.row.reshape(-1), state.col.reshape(-1), state.alive.reshape(-1)
    # what depends on the cell and facing only: view terrain, shelter and facing senses
    here = row * batch.width + col
    table_rows = c.table_rows(batch, (sv.key_base + here) * 4 + state.facing.reshape(-1))  # may grow c.rows
    obs = c.rows[table_rows].reshape(b, f, OBS_SIZE)

    # the view's fisher and ripple channels (adjacent: one complex64 per view cell)
    c.update_ripples(state.fish)
    corner = sv.grid_base + row * c.wp + col
    c.mark_fishers((corner + (VIEW_RADIUS * c.wp + VIEW_RADIUS))[alive])
    np.add(corner[:, None], c.row_offsets, out=sv.window)
    sv.rows[...] = c.dynamic_rows[sv.window]  # (N, VIEW) window rows of 8 codes
    np.copyto(sv.codes, sv.rows.view(np.uint8).reshape(-1, VIEW, 8)[:, :, :VIEW])
    np.take(c.decode, sv.codes, out=sv.pairs)
    itemsize = obs.itemsize
    pairs = np.ndarray((b * f, VIEW, VIEW), dtype=np.complex64, buffer=obs, offset=_FISHER * itemsize,
                       strides=(OBS_SIZE * itemsize, VIEW * len(VIEW_CHANNELS) * itemsize,
                                len(VIEW_CHANNELS) * itemsize))
    pairs[...] = sv.pairs.view(np.complex64)
    # at the centre, only others: the fisher itself is not "another fisher"
    same = here.reshape(b, 1, f) == here.reshape(b, f, 1)
    same &= state.alive[:, None, :]
    same &= sv.not_self
    obs[..., _CENTRE * len(VIEW_CHANNELS) + _FISHER] = same.any(axis=2)

    s = obs[..., VIEW_SIZE:]
    s[..., 0] = state.hunger
    s[..., 1] = np.minimum(state.inventory, 3) / 3.0
    s[..., 2] = state.line
    s[..., 3] = np.minimum(state.line_age * state.line, SCALE_TICKS) / SCALE_TICKS
    s[..., 4] = state.bite > 0
    # the world's senses (W.barometer_trend, W.day_phase, W.is_night), one (B, 8) block
    p, senses = batch.p, c.weather
    senses[:, 0] = state.barometer
    trend = senses[:, 1]
    trend[:] = W.barometer_trend(state)
    trend *= 5.0
    np.maximum(trend, -1.0, out=trend)
    np.minimum(trend, 1.0, out=trend)
    senses[:, 2] = state.cloud
    senses[:, 3] = state.weather >= W.RAIN
    senses[:, 4] = state.weather == W.STORM
    day = state.tick % p.time_day_length
    day /= p.time_day_length
    phase = 2 * np.pi * day
    senses[:, 5] = np.sin(phase)
    senses[:, 6] = np.cos(phase)
    senses[:, 7] = day >= 1.0 - p.time_night_fraction
    s[..., 5:13] = senses[:, None, :]
    s[..., 24] = state.hunger >= sv.eat_threshold
    return obs
