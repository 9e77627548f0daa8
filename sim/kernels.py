"""The core's compiled kernels (numba, one thread): the one implementation of the rules' hot paths.

Why numba: a tick is a few thousand tiny decisions (one per fisher slot) and one small
stencil per world. As numpy, every phase costs tens of calls of 1.5-3 us each whatever
the batch, plus temporaries; as plain loops compiled once, a tick of 256 worlds x 4
fishers is a fraction of a millisecond (see benchmarks/README.md). Each kernel REPLACES
the numpy code of its phase: the rule modules (`sim.weather`, `sim.fishers`, `sim.fish`,
`sim.observe`, `sim.rng`) describe the rules in words, build the per-batch tables the
kernels read, and call these kernels; there is no second implementation of a rule beside
them (a slow plain reference lives in tests/ only).

Conventions that keep the kernels exact and safe:

- Every floating-point expression is evaluated in the order the rule states it (no
  fastmath, no fused multiply-add) with numpy's error model (a division by zero gives
  inf or nan, as in numpy): trajectories are bit-identical to the numpy core that preceded
  these kernels, which `tests/test_core_regression.py` checks, with plain references of
  the observation, the fish update and the draws.
- All numba code lives in this one module. numba's on-disk cache (``cache=True``) is keyed
  on this file only, and it freezes global values at compile time; so no kernel reads a
  constant defined in another module. Rule constants arrive at run time in record arrays
  (numpy structured dtypes) whose fields are named where they are built, from the world's
  parameters (`sim.weather.kernel_table`, `sim.fishers.kernel_table`,
  `sim.fish.kernel_table`, `sim.step.kernel_codes`, `sim.observe`): a kernel reads
  ``w.dwell_low[state]`` or ``c.ev_catch``, and a field it reads that no builder wrote is an
  error when it compiles. The exceptions are the view's shape (``OBS_*``), a compile-time
  constant here so that its loops unroll (`sim.observe` refuses to import if it differs),
  and the bits of the map grids (``M_*``, ``V_*``).
- Kernels take the state's (B, F) and (B,) arrays as they are and write in place; one
  world never reads another world's data, so a world alone and the same world inside any
  batch follow one trajectory. Static tables hold one record or row per kind of world
  (`WorldBatch.kind`: the same map and rules), indexed by `kind[b]`.
- Arrays travel in plain tuples that a kernel names with a NamedTuple (`StateArrays`,
  `StepTables`, `StepOut`, `ObserveTables`): numba dispatches a tuple of arrays as fast as
  separate arguments but a NamedTuple several times slower (microseconds a call, which
  matter at B=1). A kernel names the arrays it reads once, at its top: an array taken
  from a tuple inside a loop costs reference counting there, several times slower.
- The step function is one helper per phase (`_sky`, `_actions`, `_bites`, `_storm`,
  `_fish`, `_hunger`), in the order of `sim.step`, each over every world in turn.
- The first call of a kernel compiles it (seconds) or loads it from the cache
  (``__pycache__``, well under a second); see benchmarks/README.md for measured costs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

# ------------------------------------------------------------------------------------------------ RNG
# counter-based draws (see sim.rng): a draw is a hash of (world key, stream, tick, index)

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True, error_model="numpy")
def _mix(x):
    """splitmix64 finaliser: a bijective scramble of 64-bit integers (wrapping arithmetic)."""
    x = x ^ (x >> _S30)
    x = x * _M1
    x = x ^ (x >> _S27)
    x = x * _M2
    return x ^ (x >> _S31)


@njit(cache=True, error_model="numpy")
def stream_base(key, stream, tick):
    """The hash of (world key, stream, tick) from which that stream's draws at that tick follow."""
    return _mix(key ^ _mix(np.uint64(tick) * _GOLD + np.uint64(stream) * _M1))


@njit(cache=True, error_model="numpy")
def draw(base, index):
    """Draw `index` (0, 1, ...) of a stream at one tick: a uniform float64 in [0, 1), 53 bits."""
    bits = _mix(base ^ (np.uint64(index + 1) * _M2))
    return np.float64(bits >> _S11) * _TO_UNIT


@njit(cache=True, error_model="numpy")
def uniform(keys, stream, tick, out):
    """out[b, i] = draw i of `stream` at tick[b] of world b (keys (B,) uint64, tick (B,) int64)."""
    for b in range(out.shape[0]):
        base = stream_base(keys[b], stream, tick[b])
        for i in range(out.shape[1]):
            out[b, i] = draw(base, i)


# ------------------------------------------------------------------------------------------------ tuples
# What the kernels receive, by name. Python passes each as a plain tuple (numba dispatches a
# tuple of arrays as fast as separate arguments, a NamedTuple about three times slower) and the
# kernel names it again with the class below: `StateArrays(*state)`.


class StateArrays(NamedTuple):
    """The arrays of `sim.state.State`, in its field order (`State.arrays()`)."""

    keys: np.ndarray
    tick: np.ndarray
    respawn: np.ndarray
    weather: np.ndarray
    next_weather: np.ndarray
    change_at: np.ndarray
    cue_at: np.ndarray
    barometer: np.ndarray
    baro_hist: np.ndarray
    cloud: np.ndarray
    fish: np.ndarray
    row: np.ndarray
    col: np.ndarray
    facing: np.ndarray
    alive: np.ndarray
    hunger: np.ndarray
    inventory: np.ndarray
    line: np.ndarray
    line_row: np.ndarray
    line_col: np.ndarray
    line_age: np.ndarray
    bite: np.ndarray
    lives: np.ndarray
    lifetime: np.ndarray
    meals: np.ndarray
    catches: np.ndarray


class StepTables(NamedTuple):
    """A batch's static tables and scratch for `step` (sim.step builds them, once per batch).

    The per-kind tables are record arrays, one record per kind of world (`WorldBatch.kind`),
    whose fields are named where they are built: `weather` by `sim.weather.kernel_table`,
    `fishers` by `sim.fishers.kernel_table`, `fish` by `sim.fish.kernel_table`.
    """

    codes: np.ndarray        # (1,) record: streams, weather states, actions, event bits (sim.step)
    moves: np.ndarray        # (4, 2) int64: terrain.MOVES
    kind: np.ndarray         # (B,) int64: each world's kind now (sim.tide sets it)
    weather: np.ndarray      # (kinds,) record
    fishers: np.ndarray      # (kinds,) record
    fish: np.ndarray         # (kinds,) record: strength and current
    fish_cells: np.ndarray   # (kinds, hb, wb) records: static per-cell fields over the water box
    box: np.ndarray          # (2,) int64: the water box's top-left corner
    pmap: np.ndarray         # (kinds, H + 2 pad, W + 2 pad) uint8: bits M_* (sim.fishers.padded_map)
    spawn_cells: np.ndarray  # (kinds, n) int64 flat cells
    spawn_count: np.ndarray  # (kinds,) int64
    scratch: np.ndarray      # (2, hb + 2, wb + 2) float64 with a zero border (`_update_fish`)
    senses: np.ndarray       # (B,) record SENSES: written by phase 1, read by the later phases


class StepOut(NamedTuple):
    """What a tick reports per slot (`sim.step.StepResult`, in its field order)."""

    reward: np.ndarray
    events: np.ndarray
    starved: np.ndarray
    final_meals: np.ndarray
    final_catches: np.ndarray
    final_lifetime: np.ndarray


# ------------------------------------------------------------------------------------------------ weather
# a world's senses of the sky and the day, (B,) records that `world_senses` writes
SENSES = np.dtype([("day", np.float64), ("night", np.float64), ("midday", np.float64), ("front", np.float64),
                   ("bite_factor", np.float64), ("trend", np.float64)])


@njit(cache=True, error_model="numpy")
def _schedule(w, b, tick, s, u0, u1, u2):
    """World b (weather record w of its kind) enters s.weather[b] at `tick`: draw how long it
    lasts (u0), what comes next (u1) and how long before the change its cues show (u2)."""
    cur = s.weather[b]
    length = np.int64(np.floor(u0 * w.dwell_span[cur] + w.dwell_low[cur]))
    at = tick + max(length, 1)
    s.change_at[b] = at
    # categorical draw: the first state whose cumulative probability exceeds u1
    n = 0
    for j in range(4):
        n += w.next_cumulative[cur, j] <= u1
    s.next_weather[b] = min(n, 3)
    lead = u2 * w.lead_span + w.lead_low
    s.cue_at[b] = at - np.int64(np.floor(lead))


@njit(cache=True, error_model="numpy")
def reset_weather(idx, kind, reset_stream, wtab, state):
    """Start the weather of worlds idx (at their tick, 0): the initial state (draw 3 of the
    reset stream at tick -1), its schedule (draws 0-2), the barometer, its history and the clouds."""
    s = StateArrays(*state)
    for b in idx:
        w = wtab[kind[b]]
        base = stream_base(s.keys[b], reset_stream, np.int64(-1))
        u3 = draw(base, np.int64(3))
        n = 0
        for j in range(4):
            n += w.initial_cumulative[j] <= u3
        s.weather[b] = min(n, 3)
        _schedule(w, b, s.tick[b], s, draw(base, np.int64(0)), draw(base, np.int64(1)),
                  draw(base, np.int64(2)))
        cur = s.weather[b]
        s.barometer[b] = w.barometer[cur]
        s.baro_hist[b, :] = s.barometer[b]
        s.cloud[b] = w.cloud[cur]


@njit(cache=True, error_model="numpy")
def _advance_weather(stream, w, b, s):
    """One tick of world b's weather: switch state when due (and schedule the next change),
    then move the barometer (with noise) and the clouds toward the cued state's values."""
    t = s.tick[b]
    base = stream_base(s.keys[b], stream, t)
    if t >= s.change_at[b]:
        s.weather[b] = s.next_weather[b]
        _schedule(w, b, t, s, draw(base, np.int64(0)), draw(base, np.int64(1)), draw(base, np.int64(2)))
    cue = s.next_weather[b] if t >= s.cue_at[b] else s.weather[b]
    noise = (draw(base, np.int64(3)) - 0.5) * w.noise_scale  # uniform noise with the barometer's std
    old = s.barometer[b]
    value = (w.barometer[cue] - old) * w.barometer_rate + old + noise
    if value < 0.0:
        value = 0.0
    if value > 1.0:
        value = 1.0
    s.barometer[b] = value
    old = s.cloud[b]
    s.cloud[b] = (w.cloud[cue] - old) * w.cloud_rate + old
    s.baro_hist[b, t % s.baro_hist.shape[1]] = value


@njit(cache=True, error_model="numpy")
def _front(rain, t, cue_at, weather, next_weather):
    """A change to rain or storm is announced: its cues already show (from cue_at on)."""
    return t >= cue_at and next_weather >= rain and next_weather > weather


@njit(cache=True, error_model="numpy")
def _trend(b, tick, barometer, baro_hist):
    """The barometer now minus the oldest entry of its history ring: read between steps, that
    entry was written TREND_TICKS - 1 ticks ago (the newest at tick - 1)."""
    return barometer[b] - baro_hist[b, tick[b] % baro_hist.shape[1]]


@njit(cache=True, error_model="numpy")
def _world_senses(rain, w, b, tick, weather, next_weather, cue_at, barometer, baro_hist, out):
    """out[b] (SENSES): world b's (weather record w of its kind) time of day (daylight first,
    night at the end), night, midday, an announced front, the bite factor of fish (weather,
    front, midday sun, night) and the barometer trend."""
    t = tick[b]
    day = (t % w.day_length) / w.day_length
    night = day >= w.night_from
    midday = abs(day - w.noon) <= w.midday_half
    front = _front(rain, t, cue_at[b], weather[b], next_weather[b])
    o = out[b]
    o.day = day
    o.night = night
    o.midday = midday
    o.front = front
    o.bite_factor = w.bite_factor[weather[b], np.int64(front), np.int64(midday), np.int64(night)]
    o.trend = _trend(b, tick, barometer, baro_hist)


@njit(cache=True, error_model="numpy")
def world_senses(rain, wtab, kind, tick, weather, next_weather, cue_at, barometer, baro_hist, out):
    """`_world_senses` of every world (out: (B,) SENSES). The state's arrays come one by one:
    this runs before every observation, where unboxing all of a state's would cost more."""
    for b in range(tick.shape[0]):
        _world_senses(rain, wtab[kind[b]], b, tick, weather, next_weather, cue_at, barometer, baro_hist, out)


@njit(cache=True, error_model="numpy")
def front_coming(rain, tick, cue_at, weather, next_weather, out):
    """`_front` of every world (out: (B,) bool)."""
    for b in range(tick.shape[0]):
        out[b] = _front(rain, tick[b], cue_at[b], weather[b], next_weather[b])


@njit(cache=True, error_model="numpy")
def barometer_trend(tick, barometer, baro_hist, out):
    """`_trend` of every world (out: (B,) float64)."""
    for b in range(tick.shape[0]):
        out[b] = _trend(b, tick, barometer, baro_hist)


# ------------------------------------------------------------------------------------------------ fish


@njit(cache=True, error_model="numpy")
def _update_fish(b, night, weather, fish, box, fk, cells, scratch):
    """One tick of world b's fish in the water box (box = (r0, c0)), in place; fk: the fish
    record of its kind (`sim.fish.kernel_table`), cells: its (hb, wb) cell records
    (`sim.fish.cell_table`).

    Movement: a share of every cell's fish leaves, split over the water neighbours in
    proportion to their attractiveness; then the current (if any) carries a share
    downstream; then logistic growth plus immigration. scratch: (2, hb + 2, wb + 2) with a
    zero border (the neighbours of the box's edge cells outside it hold nothing).
    """
    hb, wb = cells.shape
    r0, c0 = box[0], box[1]
    s = fk.strength[weather, np.int64(night)]
    per_unit = scratch[0]
    for r in range(hb):
        for c in range(wb):
            cell = cells[r, c]
            leaving = fish[b, r0 + r, c0 + c] * cell.move_share
            reach = cell.shallow_nbr_sum * s + cell.n_water_nbr
            if reach < 1e-9:
                reach = 1e-9
            per_unit[r + 1, c + 1] = leaving / reach
    current = fk.current != 0.0
    for r in range(hb):
        for c in range(wb):
            cell = cells[r, c]
            f = fish[b, r0 + r, c0 + c]
            leaving = f * cell.move_share
            # the neighbours in the rule's order: north, south, west, east
            inflow = per_unit[r, c + 1] + per_unit[r + 2, c + 1] + per_unit[r + 1, c] + per_unit[r + 1, c + 2]
            attract = cell.shallow_water * s + cell.water
            f = f + (inflow * attract - leaving)
            if not current:
                f = _grow(f, cell.regrowth, cell.inv_capacity, cell.immigration)
            fish[b, r0 + r, c0 + c] = f
    if current:
        drift = scratch[1]
        dr, dc = np.int64(fk.current_dr), np.int64(fk.current_dc)
        for r in range(hb):
            for c in range(wb):
                drift[r + 1, c + 1] = fish[b, r0 + r, c0 + c] * cells[r, c].current_share
        for r in range(hb):
            for c in range(wb):
                f = fish[b, r0 + r, c0 + c] - drift[r + 1, c + 1] + drift[r + 1 - dr, c + 1 - dc]
                cell = cells[r, c]
                fish[b, r0 + r, c0 + c] = _grow(f, cell.regrowth, cell.inv_capacity, cell.immigration)


@njit(cache=True, error_model="numpy")
def _grow(f, regrowth, inv_capacity, immigration):
    """Logistic growth plus immigration, never below 0:
    f + (regrowth * f * (1 - f / capacity) + immigration * capacity)."""
    growth = f * regrowth * (1.0 - f * inv_capacity)
    f = f + (growth + immigration)
    if f < 0.0:
        f = 0.0
    return f


@njit(cache=True, error_model="numpy")
def update_fish(night, kind, weather, fish, box, ftab, cells, scratch):
    """`_update_fish` for every world (night: (B,) bool; ftab, cells: the fish records per kind)."""
    for b in range(fish.shape[0]):
        k = kind[b]
        _update_fish(b, night[b], weather[b], fish, box, ftab[k], cells[k], scratch)


# ------------------------------------------------------------------------------------------------ fishers
# bits of the padded map `pmap` (kinds, H + 2 pad, W + 2 pad) uint8 (nothing in the padding)
M_WALKABLE, M_WATER, M_FISHABLE_FROM, M_SHELTER = 1, 2, 4, 8


@njit(cache=True, error_model="numpy")
def _spawn(fr, cells, count, width, s, b, f, u0, u1, u2):
    """A new life in slot (b, f) (fr: the fishers record of the world's kind, cells and count
    its spawn cells): a spawn cell (u0), some hunger (u1), a facing (u2), the spawn inventory;
    the line, bite and the life's counters cleared."""
    i = min(np.int64(u0 * count), count - 1)
    cell = cells[i]
    s.row[b, f] = cell // width
    s.col[b, f] = cell % width
    s.facing[b, f] = np.int64(u2 * 4)
    low = fr.spawn_hunger_low
    s.hunger[b, f] = low + u1 * (fr.spawn_hunger_high - low)
    s.inventory[b, f] = np.int64(fr.spawn_inventory)
    s.line[b, f] = False
    s.line_age[b, f] = 0
    s.bite[b, f] = 0
    s.lifetime[b, f] = 0
    s.meals[b, f] = 0
    s.catches[b, f] = 0
    s.line_row[b, f] = 0
    s.line_col[b, f] = 0
    s.alive[b, f] = True
    s.lives[b, f] += 1


@njit(cache=True, error_model="numpy")
def spawn_slots(slots, u, kind, ftab, spawn_cells, spawn_count, width, state):
    """`_spawn` for the flat slots (indices into B * F) with their three uniforms u (n, 3)."""
    s = StateArrays(*state)
    n_fishers = s.row.shape[1]
    for i in range(slots.shape[0]):
        b, f = slots[i] // n_fishers, slots[i] % n_fishers
        k = kind[b]
        _spawn(ftab[k], spawn_cells[k], spawn_count[k], width, s, b, f, u[i, 0], u[i, 1], u[i, 2])


# ------------------------------------------------------------------------------------------------ step
# One helper per phase of sim.step, each over every world in turn; `step` runs them in order.
# A world never reads another world's data, so phase by phase over all worlds computes what
# world by world would. Each helper names the arrays it uses once, at its top: an array read
# from a tuple inside a loop costs a reference count there (several times slower).


@njit(cache=True, error_model="numpy")
def _sky(t, s):
    """Phase 1: the weather, and what fish and fishers sense of it this tick (t.senses)."""
    c, kind, wtab, senses = t.codes[0], t.kind, t.weather, t.senses
    tick, weather, next_weather, cue_at = s.tick, s.weather, s.next_weather, s.cue_at
    barometer, baro_hist = s.barometer, s.baro_hist
    for b in range(kind.shape[0]):
        w = wtab[kind[b]]
        _advance_weather(c.stream_weather, w, b, s)
        _world_senses(c.rain, w, b, tick, weather, next_weather, cue_at, barometer, baro_hist, senses)


@njit(cache=True, error_model="numpy")
def _clear(o):
    """The tick's report starts empty: no events, no reward, nobody starved."""
    o.events[:] = 0
    o.reward[:] = 0.0
    o.starved[:] = False
    o.final_meals[:] = 0
    o.final_catches[:] = 0
    o.final_lifetime[:] = 0


@njit(cache=True, error_model="numpy")
def _actions(act, t, s, o, pad):
    """Phase 2: one action per living fisher: move, cast, reel in or eat (see sim.fishers).
    Reeling lowers the fish at once; the cells reeled from never go below
    0 (after all of a world's catches)."""
    c, kind, moves, pmap, fishers = t.codes[0], t.kind, t.moves, t.pmap, t.fishers
    row, col, facing, alive, fish = s.row, s.col, s.facing, s.alive, s.fish
    line, line_row, line_col, line_age, bite = s.line, s.line_row, s.line_col, s.line_age, s.bite
    hunger, inventory, meals, catches = s.hunger, s.inventory, s.meals, s.catches
    reward, events = o.reward, o.events
    north, west = c.north, c.west
    for b in range(row.shape[0]):
        k = kind[b]
        fr = fishers[k]
        landed_any = False
        for f in range(row.shape[1]):
            a = act[b, f]
            if not alive[b, f]:
                continue
            if north <= a <= west:  # a move, or a turn toward a cell that cannot be walked on
                direction = a - north
                facing[b, f] = direction
                if line[b, f]:
                    events[b, f] |= c.ev_line_dropped
                line[b, f] = False
                bite[b, f] = 0
                r, cc = row[b, f] + moves[direction, 0], col[b, f] + moves[direction, 1]
                if pmap[k, r + pad, cc + pad] & M_WALKABLE:
                    row[b, f], col[b, f] = r, cc
            elif a == c.cast:  # the line lands on the farthest cell, up to cast_reach, of water ahead
                if line[b, f] or not (pmap[k, row[b, f] + pad, col[b, f] + pad] & M_FISHABLE_FROM):
                    continue
                direction = facing[b, f]
                dr, dc = moves[direction, 0], moves[direction, 1]
                reach = fr.cast_reach
                r, cc = row[b, f] + pad, col[b, f] + pad
                land = 0
                while land < pad and land + 1 <= reach:
                    if not pmap[k, r + (land + 1) * dr, cc + (land + 1) * dc] & M_WATER:
                        break
                    land += 1
                if land > 0:
                    line[b, f] = True
                    line_row[b, f] = row[b, f] + land * dr
                    line_col[b, f] = col[b, f] + land * dc
                    line_age[b, f] = 0
                    bite[b, f] = 0
                    events[b, f] |= c.ev_cast
            elif a == c.reel:
                if not line[b, f]:
                    continue
                hooked = bite[b, f] > 0
                room = inventory[b, f] < fr.inventory_max
                if hooked and room:
                    events[b, f] |= c.ev_catch
                    inventory[b, f] += 1
                    catches[b, f] += 1
                    fish[b, line_row[b, f], line_col[b, f]] -= 1.0
                    landed_any = True
                elif hooked:
                    events[b, f] |= c.ev_released
                else:
                    events[b, f] |= c.ev_reeled_empty
                line[b, f] = False
                bite[b, f] = 0
            elif a == c.eat:
                if inventory[b, f] <= 0:
                    continue
                if hunger[b, f] >= fr.eat_threshold:  # only a meal is ever rewarded
                    events[b, f] |= c.ev_ate
                    inventory[b, f] -= 1
                    meals[b, f] += 1
                    h = hunger[b, f] - fr.meal
                    hunger[b, f] = h if not h < 0.0 else 0.0
                    reward[b, f] = np.float32(fr.meal_reward)
                else:
                    events[b, f] |= c.ev_refused
        if landed_any:
            for f in range(row.shape[1]):
                if act[b, f] == c.reel and events[b, f] & c.ev_catch:
                    r, cc = line_row[b, f], line_col[b, f]
                    if fish[b, r, cc] < 0.0:
                        fish[b, r, cc] = 0.0


@njit(cache=True, error_model="numpy")
def _bites(t, s, o, pad):
    """Phase 3: lines age; a showing bite counts down (missed at 0, no new bite this tick); a
    line past its settle time with no bite showing may get one (less likely the longer it has
    waited, with `wary_ticks`), and if it does not, a share
    `spook` of the fish under it swims off to the neighbouring water (`_spook`)."""
    c, kind, fishers, senses = t.codes[0], t.kind, t.fishers, t.senses
    keys, tick, fish, line, line_row, line_col = s.keys, s.tick, s.fish, s.line, s.line_row, s.line_col
    line_age, bite, events = s.line_age, s.bite, o.events
    for b in range(line.shape[0]):
        fr = fishers[kind[b]]
        factor = senses[b].bite_factor
        base = stream_base(keys[b], c.stream_bite, tick[b])
        for f in range(line.shape[1]):
            if not line[b, f]:
                continue
            line_age[b, f] += 1
            if bite[b, f] != 0:
                bite[b, f] -= 1
                if bite[b, f] == 0:
                    events[b, f] |= c.ev_missed
            elif line_age[b, f] > fr.settle:
                density = fish[b, line_row[b, f], line_col[b, f]] / fr.density_ref
                if density > 2.0:
                    density = 2.0
                p = fr.p_bite * density * factor
                if fr.wary_ticks > 0.0:  # fish grow wary of a still line
                    p *= np.exp(-(line_age[b, f] - fr.settle - 1) / fr.wary_ticks)
                if draw(base, f) < p:
                    bite[b, f] = np.int64(fr.bite_window)
                    events[b, f] |= c.ev_bite
                elif fr.spook > 0.0:
                    _spook(fish, b, line_row[b, f], line_col[b, f], fr.spook, t.pmap[kind[b]], t.moves, pad)


@njit(cache=True, error_model="numpy")
def _spook(fish, b, r, c, share, pmap, moves, pad):
    """A share of the fish under a waiting line swims off, in equal parts to the water cells
    beside it (none beside: they stay): the spot goes quiet, the fish are not lost."""
    n = 0
    for d in range(4):
        if pmap[r + moves[d, 0] + pad, c + moves[d, 1] + pad] & M_WATER:
            n += 1
    if n == 0:
        return
    leaving = fish[b, r, c] * share
    fish[b, r, c] -= leaving
    for d in range(4):
        if pmap[r + moves[d, 0] + pad, c + moves[d, 1] + pad] & M_WATER:
            fish[b, r + moves[d, 0], c + moves[d, 1]] += leaving / n


@njit(cache=True, error_model="numpy")
def _storm(t, s, o, pad):
    """Phase 4: in a storm, exposed fishers may lose their line or a fish; in the squall ahead
    of one (its last `squall_ticks` ticks before it breaks) they lose the line and every fish
    they carry; sheltered ones are safe."""
    c, kind, fishers, pmap = t.codes[0], t.kind, t.fishers, t.pmap
    keys, tick, weather, row, col, alive = s.keys, s.tick, s.weather, s.row, s.col, s.alive
    next_weather, change_at = s.next_weather, s.change_at
    line, bite, inventory, events = s.line, s.bite, s.inventory, o.events
    for b in range(row.shape[0]):
        k = kind[b]
        fr = fishers[k]
        if _in_squall(b, fr.squall_ticks, weather, next_weather, change_at, tick, c.storm):
            _squall(b, k, pmap, pad, row, col, alive, line, bite, inventory, events, c)
            continue
        if weather[b] != c.storm:
            continue
        base = stream_base(keys[b], c.stream_storm, tick[b])
        for f in range(row.shape[1]):
            if not alive[b, f]:
                continue
            if pmap[k, row[b, f] + pad, col[b, f] + pad] & M_SHELTER:
                events[b, f] |= c.ev_sheltered
                continue
            if line[b, f] and draw(base, 2 * f) < fr.p_lose_line:
                line[b, f] = False
                bite[b, f] = 0
                events[b, f] |= c.ev_line_swept
            if inventory[b, f] > 0 and draw(base, 2 * f + 1) < fr.p_lose_fish:
                inventory[b, f] -= 1
                events[b, f] |= c.ev_fish_swept


@njit(cache=True, error_model="numpy")
def _in_squall(b, squall_ticks, weather, next_weather, change_at, tick, storm):
    """World b is in the squall ahead of a storm: one is due within `squall_ticks` ticks and not
    on yet (read by the storm and hunger phases)."""
    return weather[b] != storm and next_weather[b] == storm and change_at[b] - tick[b] <= squall_ticks


@njit(cache=True, error_model="numpy")
def _squall(b, k, pmap, pad, row, col, alive, line, bite, inventory, events, c):
    """The squall ahead of a storm in world b: every fisher outside a shelter loses its line
    and all it carries (no draw: being caught out is certain to cost)."""
    for f in range(row.shape[1]):
        if not alive[b, f] or pmap[k, row[b, f] + pad, col[b, f] + pad] & M_SHELTER:
            continue
        if line[b, f]:
            line[b, f] = False
            bite[b, f] = 0
            events[b, f] |= c.ev_line_swept
        if inventory[b, f] > 0:
            inventory[b, f] = 0
            events[b, f] |= c.ev_fish_swept


@njit(cache=True, error_model="numpy")
def _fish(t, s):
    """Phase 5: the fish of every world move and regrow (`_update_fish`)."""
    kind, senses, fish_tab, cells, box, scratch = t.kind, t.senses, t.fish, t.fish_cells, t.box, t.scratch
    weather, fish = s.weather, s.fish
    for b in range(kind.shape[0]):
        k = kind[b]
        _update_fish(b, senses[b].night != 0.0, weather[b], fish, box, fish_tab[k], cells[k], scratch)


@njit(cache=True, error_model="numpy")
def _hunger(t, s, o, pad):
    """Phase 6: hunger rises (faster when exposed to a storm); at 1 the fisher starves and, in
    respawning worlds, a new fisher takes the slot."""
    c, kind, fishers, pmap = t.codes[0], t.kind, t.fishers, t.pmap
    keys, tick, weather, respawn = s.keys, s.tick, s.weather, s.respawn
    next_weather, change_at = s.next_weather, s.change_at
    row, col, alive = s.row, s.col, s.alive
    hunger, lifetime, meals, catches, line, bite = s.hunger, s.lifetime, s.meals, s.catches, s.line, s.bite
    events, starved = o.events, o.starved
    final_meals, final_catches, final_lifetime = o.final_meals, o.final_catches, o.final_lifetime
    width = s.fish.shape[2]
    for b in range(row.shape[0]):
        k = kind[b]
        fr = fishers[k]
        exposed_any = weather[b] == c.storm
        storm_multiplier = fr.storm_multiplier
        if _in_squall(b, fr.squall_ticks, weather, next_weather, change_at, tick, c.storm):
            exposed_any, storm_multiplier = True, fr.squall_multiplier
        base = stream_base(keys[b], c.stream_spawn, tick[b])
        for f in range(row.shape[1]):
            if not alive[b, f]:
                continue
            rate = fr.hunger_rate
            if exposed_any and not pmap[k, row[b, f] + pad, col[b, f] + pad] & M_SHELTER:
                rate = rate * storm_multiplier
            h = hunger[b, f] + rate
            hunger[b, f] = h if not h > 1.0 else 1.0
            lifetime[b, f] += 1
            # a tolerance, so that summing an inexact rate (10 x 0.1) starves on the intended tick
            if hunger[b, f] >= fr.starve_at:
                hunger[b, f] = 1.0
                events[b, f] |= c.ev_starved
                alive[b, f] = False
                line[b, f] = False
                bite[b, f] = 0
                starved[b, f] = True
                final_meals[b, f] = meals[b, f]
                final_catches[b, f] = catches[b, f]
                final_lifetime[b, f] = lifetime[b, f]
                if respawn[b]:
                    _spawn(fr, t.spawn_cells[k], t.spawn_count[k], width, s, b, f, draw(base, 3 * f),
                           draw(base, 3 * f + 1), draw(base, 3 * f + 2))
                    events[b, f] |= c.ev_spawned


@njit(cache=True, error_model="numpy")
def step(act, tables, state, out):
    """One tick of every world, in place: the phases of sim.step, in its order.

    tables, state, out: plain tuples in the field order of StepTables, StateArrays, StepOut.
    Returns 0, or 1 (nothing changed) if an action is outside [0, n_actions) or a fisher
    stands off the map.
    """
    t, s, o = StepTables(*tables), StateArrays(*state), StepOut(*out)
    row, col, tick = s.row, s.col, s.tick
    height, width = s.fish.shape[1], s.fish.shape[2]
    n_actions = t.codes[0].n_actions
    for b in range(row.shape[0]):
        for f in range(row.shape[1]):
            if act[b, f] < 0 or act[b, f] >= n_actions:
                return 1
            if row[b, f] < 0 or row[b, f] >= height or col[b, f] < 0 or col[b, f] >= width:
                return 1
    pad = (t.pmap.shape[1] - height) // 2  # the map's padding: no move or cast looks outside it
    _sky(t, s)
    _clear(o)
    _actions(act, t, s, o, pad)
    _bites(t, s, o, pad)
    _storm(t, s, o, pad)
    _fish(t, s)
    _hunger(t, s, o, pad)
    for b in range(tick.shape[0]):
        tick[b] += 1
    return 0


# ------------------------------------------------------------------------------------------------ observe
# the view's shape as compile-time constants (the loops over a view cell's channels unroll):
# sim.observe checks at import that VIEW_RADIUS, VIEW_CHANNELS and RIPPLE_LEVELS agree
OBS_RADIUS, OBS_CHANNELS, OBS_LEVELS = 3, 8, 3
_OBS_VIEW = 2 * OBS_RADIUS + 1
# bits of the padded view grid `vgrid` (kinds, H + 2 r, W + 2 r) uint8: the terrain channel in bits
# 0-3 (the padding is channel 0, "blocked"), water in bit 4, a shelter in bit 5
V_CHANNEL, V_WATER, V_SHELTER = 15, 16, 32


class ObserveTables(NamedTuple):
    """A batch's static tables and scratch for `observe` (sim.observe builds them, once per batch)."""

    layout: np.ndarray        # (1,) record: where each sense goes and the senses' scales (sim.observe)
    codes: np.ndarray         # (1,) record: as StepTables.codes
    moves: np.ndarray         # (4, 2) int64
    kind: np.ndarray          # (B,) int64
    weather: np.ndarray       # (kinds,) record: as StepTables.weather
    fishers: np.ndarray       # (kinds,) record: as StepTables.fishers
    thresholds: np.ndarray    # (kinds, OBS_LEVELS) float64: the fish at which each ripple level begins
    ripple_value: np.ndarray  # (OBS_LEVELS + 1,) float32: the ripples channel's value per level
    vgrid: np.ndarray         # (kinds, H + 2 r, W + 2 r) uint8: bits V_*
    shelter_dir: np.ndarray   # (kinds, H, W) int8: the first move toward the nearest shelter
    shelter_dist: np.ndarray  # (kinds, H, W) int32: its walking distance (-1: none)
    senses: np.ndarray        # (B,) record SENSES of the state observed (`world_senses`)
    day_sin: np.ndarray       # (B,) float64: sin and cos of 2 pi senses.day
    day_cos: np.ndarray


@njit(cache=True, error_model="numpy")
def observe(tables, state, out):
    """Every slot's observation (B, F, OBS_SIZE) float32, every value written: the egocentric
    view (terrain one-hot, other living fishers, ripples: the level of a water cell's fish is
    the number of the world's level thresholds at or below it), then the scalar senses (the
    world's, as float32, and the fisher's own). One pass over the slots: `out` is larger than
    the caches at large B. tables, state: plain tuples in the field order of ObserveTables and
    StateArrays. Returns 1 (nothing written) if a fisher stands off the map."""
    t, s = ObserveTables(*tables), StateArrays(*state)
    lay, cd, kind, wtab, fishers, moves = t.layout[0], t.codes[0], t.kind, t.weather, t.fishers, t.moves
    thresholds, ripple_value, vgrid = t.thresholds, t.ripple_value, t.vgrid
    shelter_dir, shelter_dist = t.shelter_dir, t.shelter_dist
    senses, day_sin, day_cos = t.senses, t.day_sin, t.day_cos
    row, col, facing, alive, hunger, inventory = s.row, s.col, s.facing, s.alive, s.hunger, s.inventory
    line, line_age, bite, fish = s.line, s.line_age, s.bite, s.fish
    weather, barometer, cloud = s.weather, s.barometer, s.cloud
    n_worlds, n_fishers = row.shape
    height, width = fish.shape[1], fish.shape[2]
    radius, view, channels = OBS_RADIUS, _OBS_VIEW, OBS_CHANNELS
    ch_fisher, ch_ripples = lay.fisher, lay.ripples
    scale, full = lay.scale_ticks, lay.inventory_full
    for b in range(n_worlds):
        for f in range(n_fishers):
            if row[b, f] < 0 or row[b, f] >= height or col[b, f] < 0 or col[b, f] >= width:
                return 1
    for b in range(n_worlds):
        k = kind[b]
        # the world's senses, as float32
        sense = senses[b]
        s_barometer = np.float32(barometer[b])
        trend = sense.trend * lay.trend_gain
        if trend < -1.0:
            trend = -1.0
        if trend > 1.0:
            trend = 1.0
        s_trend = np.float32(trend)
        s_cloud = np.float32(cloud[b])
        s_rain = np.float32(weather[b] >= cd.rain)
        s_storm = np.float32(weather[b] == cd.storm)
        s_sin, s_cos = np.float32(day_sin[b]), np.float32(day_cos[b])
        s_night = np.float32(sense.day >= wtab[k].night_from)
        eat_threshold = fishers[k].eat_threshold
        t1, t2, t3 = thresholds[k, 0], thresholds[k, 1], thresholds[k, 2]
        for f in range(n_fishers):
            o = out[b, f]
            r, c = row[b, f], col[b, f]
            # the view: the window's top-left is (r, c) in the grid padded by the radius
            for dy in range(view):
                for dx in range(view):
                    code = vgrid[k, r + dy, c + dx]
                    at = (dy * view + dx) * channels
                    for i in range(channels):
                        o[at + i] = 0.0
                    o[at + (code & V_CHANNEL)] = 1.0
                    if code & V_WATER:
                        x = fish[b, r + dy - radius, c + dx - radius]
                        o[at + ch_ripples] = ripple_value[(x >= t1) + (x >= t2) + (x >= t3)]
            # other living fishers in view (at the centre too, where the fisher itself is not one)
            for g in range(n_fishers):
                if g == f or not alive[b, g]:
                    continue
                dy, dx = row[b, g] - r, col[b, g] - c
                if -radius <= dy <= radius and -radius <= dx <= radius:
                    o[((dy + radius) * view + dx + radius) * channels + ch_fisher] = 1.0
            # the scalar senses
            o[lay.hunger] = hunger[b, f]
            o[lay.inventory] = min(inventory[b, f], full) / full
            o[lay.line_out] = line[b, f]
            o[lay.line_age] = min(line_age[b, f] * line[b, f], lay.line_age_ticks) / lay.line_age_ticks
            o[lay.bite] = bite[b, f] > 0
            o[lay.barometer] = s_barometer
            o[lay.barometer_trend] = s_trend
            o[lay.cloud] = s_cloud
            o[lay.raining] = s_rain
            o[lay.storm] = s_storm
            o[lay.day_sin] = s_sin
            o[lay.day_cos] = s_cos
            o[lay.night] = s_night
            sheltered = (vgrid[k, r + radius, c + radius] & V_SHELTER) != 0
            o[lay.in_shelter] = sheltered
            direction = shelter_dir[k, r, c]
            o[lay.shelter_north] = direction == 0 and not sheltered
            o[lay.shelter_south] = direction == 1 and not sheltered
            o[lay.shelter_east] = direction == 2 and not sheltered
            o[lay.shelter_west] = direction == 3 and not sheltered
            dist = shelter_dist[k, r, c]
            o[lay.shelter_distance] = 1.0 if dist < 0 else min(dist, scale) / scale
            fc = facing[b, f]
            o[lay.facing_north] = fc == 0
            o[lay.facing_south] = fc == 1
            o[lay.facing_east] = fc == 2
            o[lay.facing_west] = fc == 3
            ahead = vgrid[k, r + radius + moves[fc, 0], c + radius + moves[fc, 1]]
            o[lay.facing_water] = (ahead & V_WATER) != 0
            o[lay.hungry_enough] = hunger[b, f] >= eat_threshold
    return 0
