"""What a fisher senses: a fixed-size egocentric view plus scalar senses, the same in every world.

The view is VIEW x VIEW cells centred on the fisher (north up), with channels
blocked (off-map or rock), ground, shallow, deep, reeds, shelter, other fishers and
ripples. Ripples are the only hint of fish: the fish density of a water cell,
coarsened to RIPPLE_LEVELS steps up to RIPPLE_FULL. The fish field itself and the hidden weather state
are never observed; the barometer, its trend, cloud cover, rain and lightning are.
`LAYOUT` names every slice so scripted fishers and probes never hard-code offsets.
"""

from __future__ import annotations

import numpy as np

from sim import terrain as T
from sim import weather as W
from sim.batch import WorldBatch
from sim.fishers import _cell, in_shelter
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


class _ViewCache:
    """Per-batch static data for the view: padded terrain channel codes and window offsets.

    Each cell of the view is encoded as one small integer (terrain channel, fishers
    there clipped to 2, ripple level) and decoded by a lookup table: one gather per
    view cell instead of one per channel.
    """

    def __init__(self, batch: WorldBatch):
        r = VIEW_RADIUS
        self.hp, self.wp = batch.height + 2 * r, batch.width + 2 * r
        channel = np.zeros(T.N_TERRAIN, dtype=np.int16)
        for code, ch in _TERRAIN_CHANNEL.items():
            channel[code] = ch
        self.terrain_code = np.zeros((batch.n, self.hp, self.wp), dtype=np.int16)  # padding is "blocked"
        self.terrain_code[:, r:-r, r:-r] = channel[batch.terrain]
        dy, dx = np.meshgrid(np.arange(VIEW), np.arange(VIEW), indexing="ij")
        self.offsets = (dy * self.wp + dx).reshape(-1)
        n_codes = N_STATIC * 3 * (RIPPLE_LEVELS + 1)
        codes = np.arange(n_codes)
        self.lut = np.zeros((n_codes, len(VIEW_CHANNELS)), dtype=np.float32)
        self.lut[codes, codes % N_STATIC] = 1.0
        self.lut[:, N_STATIC] = (codes // N_STATIC) % 3 >= 1
        self.lut[:, N_STATIC + 1] = (codes // (3 * N_STATIC)) / RIPPLE_LEVELS


def _cache(batch: WorldBatch) -> _ViewCache:
    if getattr(batch, "_view_cache", None) is None:
        batch._view_cache = _ViewCache(batch)
    return batch._view_cache


def observe(state: State, batch: WorldBatch) -> np.ndarray:
    """Observations of every fisher slot: (B, F, OBS_SIZE) float32."""
    c = _cache(batch)
    b, f = state.n_worlds, state.n_fishers
    r = VIEW_RADIUS
    rows = np.arange(b)[:, None]
    cells = ((rows * batch.height + state.row) * batch.width + state.col)[state.alive]
    occupied = np.bincount(cells, minlength=b * batch.height * batch.width).reshape(b, batch.height, batch.width)
    density = state.fish / batch.p.fish_density_ref[:, None, None]
    ripple = (np.minimum(density / RIPPLE_FULL, 1.0) * RIPPLE_LEVELS).astype(np.int16) * batch.water
    code = c.terrain_code.copy()
    code[:, r:-r, r:-r] += N_STATIC * np.minimum(occupied, 2) + 3 * N_STATIC * ripple
    idx = ((rows * c.hp + state.row) * c.wp + state.col)[..., None] + c.offsets  # (B, F, V*V)
    view_codes = np.take(code, idx)
    centre = VIEW_RADIUS * VIEW + VIEW_RADIUS
    # the fisher itself is not "another fisher": at the centre, show others only
    own = state.alive.astype(np.int16)
    occ_centre = np.minimum((view_codes[..., centre] // N_STATIC) % 3 - own, 1)
    view_codes[..., centre] += N_STATIC * (occ_centre - (view_codes[..., centre] // N_STATIC) % 3)
    obs = np.empty((b, f, OBS_SIZE), dtype=np.float32)
    obs[..., :VIEW_SIZE] = np.take(c.lut, view_codes, axis=0).reshape(b, f, VIEW_SIZE)

    s = obs[..., VIEW_SIZE:]
    p = batch.p
    s[..., 0] = state.hunger
    s[..., 1] = np.minimum(state.inventory, 3) / 3.0
    s[..., 2] = state.line
    s[..., 3] = np.minimum(state.line_age * state.line, SCALE_TICKS) / SCALE_TICKS
    s[..., 4] = state.bite > 0
    s[..., 5] = state.barometer[:, None]
    s[..., 6] = np.clip(W.barometer_trend(state) * 5.0, -1.0, 1.0)[:, None]
    s[..., 7] = state.cloud[:, None]
    s[..., 8] = (state.weather >= W.RAIN)[:, None]
    s[..., 9] = (state.weather == W.STORM)[:, None]
    phase = 2 * np.pi * W.day_phase(state, batch)
    s[..., 10] = np.sin(phase)[:, None]
    s[..., 11] = np.cos(phase)[:, None]
    s[..., 12] = W.is_night(state, batch)[:, None]
    sheltered = in_shelter(state, batch)
    s[..., 13] = sheltered
    direction = _cell(batch.shelter_dir, batch, state.row, state.col)
    s[..., 14:18] = (direction[..., None] == np.arange(4)) & ~sheltered[..., None]
    dist = _cell(batch.shelter_dist, batch, state.row, state.col)
    s[..., 18] = np.where(dist < 0, 1.0, np.minimum(dist, SCALE_TICKS) / SCALE_TICKS)
    s[..., 19:23] = state.facing[..., None] == np.arange(4)
    ahead_r = state.row + T.MOVES[state.facing, 0]
    ahead_c = state.col + T.MOVES[state.facing, 1]
    s[..., 23] = _cell(batch.water, batch, ahead_r, ahead_c)
    s[..., 24] = state.hunger >= p.hunger_eat_threshold[:, None]
    return obs
