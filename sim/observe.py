"""What a fisher senses: a fixed-size egocentric view plus scalar senses, the same in every world.

The view is VIEW x VIEW cells centred on the fisher (north up), with channels
blocked (off-map or rock), ground, shallow, deep, reeds, shelter, other fishers and
ripples. Ripples are the only hint of fish: the fish density of a water cell,
coarsened to RIPPLE_LEVELS steps up to RIPPLE_FULL. The fish field itself and the hidden weather state
are never observed; the barometer, its trend, cloud cover, rain and lightning are.
`LAYOUT` names every slice so scripted fishers and probes never hard-code offsets.

How it is computed: `kernels.observe` writes every value of every slot's row directly
(terrain one-hot from a padded per-batch grid, other fishers from the slots of the world,
ripples from the fish through each world's exact level thresholds, then the scalars); this
module defines the layout and builds the tables it reads (`kernels.ObserveTables`), the
layout as one record whose fields are named by `SCALARS`.
"""

from __future__ import annotations

import numpy as np

from sim import fishers as FS
from sim import kernels as K
from sim import terrain as T
from sim import tide
from sim import weather as W
from sim.batch import WorldBatch, per_kind, records
from sim.state import State
from sim.step import kernel_codes

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
SCALE_TICKS = 20.0  # the shelter distance is divided by this and clipped to 1
# the line age is divided by this and clipped to 1: long enough to see a line the fish have grown
# wary of (their bite chance falls by e every fishing.wary_ticks, 20 in the shipped worlds), so
# that a policy without memory can tell when waiting on has stopped paying
LINE_AGE_TICKS = 64.0


def view_of(obs: np.ndarray) -> np.ndarray:
    """The egocentric view of observations (..., OBS_SIZE) as (..., VIEW, VIEW, channels)."""
    return obs[..., LAYOUT["view"]].reshape(*obs.shape[:-1], VIEW, VIEW, len(VIEW_CHANNELS))


_FISHER, _RIPPLES = VIEW_CHANNELS.index("fisher"), VIEW_CHANNELS.index("ripples")
_S = {name: VIEW_SIZE + i for i, name in enumerate(SCALARS)}
INVENTORY_FULL = 3  # the inventory sense is min(inventory, INVENTORY_FULL) / INVENTORY_FULL
TREND_GAIN = 5.0  # the barometer trend sense is clip(trend * TREND_GAIN, -1, 1)


def ripple_level(fish: np.ndarray, density_ref: np.ndarray) -> np.ndarray:
    """Ripple level (0..RIPPLE_LEVELS) of water cells holding `fish` (the rule, as int16)."""
    density = fish / density_ref
    return (np.minimum(density / RIPPLE_FULL, 1.0) * RIPPLE_LEVELS).astype(np.int16)


def _level_thresholds(density_ref: np.ndarray) -> np.ndarray:
    """(B, RIPPLE_LEVELS): t_k (k = 1..RIPPLE_LEVELS), the smallest float64 fish count whose
    ripple level is >= k. `ripple_level` is monotone in fish, so for fish >= 0 the level is the
    number of thresholds at or below the fish (and 0 for anything below 0)."""
    b = density_ref.size
    out = np.empty((b, RIPPLE_LEVELS))
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
        out[:, k - 1] = x
    return out


def _layout() -> np.ndarray:
    """Where the kernel writes what, by name: the fisher and ripples channels, the position of
    every scalar sense (`SCALARS`), and the senses' scales; one record."""
    if (VIEW_RADIUS, len(VIEW_CHANNELS), RIPPLE_LEVELS) != (K.OBS_RADIUS, K.OBS_CHANNELS, K.OBS_LEVELS):
        raise AssertionError("observe: set kernels.OBS_RADIUS, OBS_CHANNELS and OBS_LEVELS to VIEW_RADIUS, "
                             "len(VIEW_CHANNELS) and RIPPLE_LEVELS")
    positions = {"fisher": _FISHER, "ripples": _RIPPLES, **_S}
    scales = {"scale_ticks": SCALE_TICKS, "line_age_ticks": LINE_AGE_TICKS, "inventory_full": INVENTORY_FULL,
              "trend_gain": TREND_GAIN}
    return records({**{name: np.array([at], dtype=np.int64) for name, at in positions.items()},
                    **{name: np.array([value], dtype=np.float64) for name, value in scales.items()}})


_LAYOUT = _layout()


def _tables(batch: WorldBatch) -> tuple[K.ObserveTables, tuple[np.ndarray, ...]]:
    """A batch's `kernels.ObserveTables`, and as the plain tuple the kernel takes (built on first
    use, then cached): they depend on the batch only, so any state of the batch can be observed."""
    cached = batch.cache.get("view")
    if cached is not None:
        return cached
    r = VIEW_RADIUS
    h, w = batch.height, batch.width
    channel = np.zeros(T.N_TERRAIN, dtype=np.uint8)
    for code, ch in _TERRAIN_CHANNEL.items():
        channel[code] = ch
    if channel.max() > K.V_CHANNEL or len(VIEW_CHANNELS) < N_STATIC:
        raise AssertionError("observe: the terrain channels do not fit the view grid's bits")

    # per kind of world (`WorldBatch.kind`): the terrain channel of every cell, water and
    # shelter bits, padded by the radius with "blocked" (0)
    def grid(b: WorldBatch) -> np.ndarray:
        out = np.zeros((b.n, h + 2 * r, w + 2 * r), dtype=np.uint8)
        out[:, r:r + h, r:r + w] = (channel[b.terrain] + b.water * K.V_WATER + b.is_shelter * K.V_SHELTER)
        return out

    tables = K.ObserveTables(
        layout=_LAYOUT, codes=kernel_codes(), moves=T.MOVES, kind=batch.kind, weather=W.kernel_table(batch),
        fishers=FS.kernel_table(batch),
        thresholds=_level_thresholds(per_kind(batch, lambda b: b.p.fish_density_ref)),
        ripple_value=(np.arange(RIPPLE_LEVELS + 1) / RIPPLE_LEVELS).astype(np.float32),
        vgrid=per_kind(batch, grid), shelter_dir=per_kind(batch, lambda b: b.shelter_dir),
        shelter_dist=per_kind(batch, lambda b: b.shelter_dist), senses=np.zeros(batch.n, dtype=K.SENSES),
        day_sin=np.zeros(batch.n), day_cos=np.zeros(batch.n))
    cached = batch.cache["view"] = tables, tuple(tables)
    return cached


def observe(state: State, batch: WorldBatch, out: np.ndarray | None = None) -> np.ndarray:
    """Observations of every fisher slot: (B, F, OBS_SIZE) float32, a new array, or written
    into `out` (C-contiguous float32 of that shape; every value is overwritten) and returned."""
    t, args = _tables(batch)
    s = state
    tide.sync(s, batch)
    shape = (s.n_worlds, s.n_fishers, OBS_SIZE)
    if out is None:
        out = np.empty(shape, dtype=np.float32)
    elif out.shape != shape or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError(f"out: expected a C-contiguous float32 array of shape {shape}")
    K.world_senses(W.RAIN, t.weather, batch.kind, s.tick, s.weather, s.next_weather, s.cue_at, s.barometer,
                   s.baro_hist, t.senses)
    phase = 2 * np.pi * t.senses["day"]
    np.sin(phase, out=t.day_sin)
    np.cos(phase, out=t.day_cos)
    if K.observe(args, s.arrays(), out):
        raise ValueError("state: a fisher stands off the map (row, col outside the world)")
    return out
