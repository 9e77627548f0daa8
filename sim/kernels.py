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
  constant defined in another module. Rule constants (event bits, action codes, streams,
  the observation layout) arrive at run time in small arrays, built by the rule modules,
  whose positions are named by the ``C_*``, ``W_*``, ``F_*``, ``K_*``, ``O_*`` and
  ``P_*`` constants below. The exception is the view's shape (``OBS_*``), a compile-time
  constant here so that its loops unroll; `sim.observe` refuses to import if it differs.
- Kernels take the state's (B, F) and (B,) arrays as they are and write in place; one
  world never reads another world's data, so a world alone and the same world inside any
  batch follow one trajectory. Static tables hold one row per kind of world
  (`WorldBatch.kind`: the same map and rules), indexed by `kind[b]`.
- The first call of a kernel compiles it (seconds) or loads it from the cache
  (``__pycache__``, well under a second); see benchmarks/README.md for measured costs.
"""

from __future__ import annotations

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


# ------------------------------------------------------------------------------------------------ codes
# positions in the int64 `codes` array (sim.step.kernel_codes): streams, weather states,
# actions and event bits, as the rule modules define them
(C_STREAM_WEATHER, C_STREAM_BITE, C_STREAM_STORM, C_STREAM_SPAWN, C_RAIN, C_STORM,
 C_NORTH, C_WEST, C_CAST, C_REEL, C_EAT, C_N_ACTIONS,
 C_EV_CAST, C_EV_BITE, C_EV_CATCH, C_EV_MISSED, C_EV_REELED_EMPTY, C_EV_RELEASED, C_EV_ATE,
 C_EV_REFUSED, C_EV_LINE_DROPPED, C_EV_LINE_SWEPT, C_EV_FISH_SWEPT, C_EV_SHELTERED, C_EV_STARVED,
 C_EV_SPAWNED) = range(26)
N_CODES = 26

# ------------------------------------------------------------------------------------------------ weather
# columns of the weather table `wtab` (kinds, N_W) float64 (sim.weather.kernel_table); blocks
# of 4 are indexed by a weather state
W_DWELL_LOW = 0          # 4: a state's dwell is floor(low + u * span) ticks, at least 1
W_DWELL_SPAN = 4         # 4
W_NEXT_CUMULATIVE = 8    # 16: [state * 4 + next], cumulative transition probabilities
W_INITIAL_CUMULATIVE = 24  # 4: cumulative initial-state probabilities
W_BAROMETER = 28         # 4: the barometer's target per state
W_CLOUD = 32             # 4: the cloud cover's target per state
W_BITE_FACTOR = 36       # 32: [weather * 8 + front * 4 + midday * 2 + night]
W_LEAD_LOW, W_LEAD_SPAN = 68, 69
W_NOISE_SCALE, W_BAROMETER_RATE, W_CLOUD_RATE = 70, 71, 72
W_DAY_LENGTH, W_NIGHT_FROM, W_NOON, W_MIDDAY_HALF = 73, 74, 75, 76
N_W = 77

# columns of the per-world senses `senses` (B, N_K) float64 that `world_senses` writes
K_DAY, K_NIGHT, K_MIDDAY, K_FRONT, K_BITE_FACTOR, K_TREND = range(6)
N_K = 6


@njit(cache=True, error_model="numpy")
def _schedule(wtab, k, b, tick, weather, next_weather, change_at, cue_at, u0, u1, u2):
    """World b (of kind k) enters weather[b] at `tick`: draw how long it lasts (u0), what comes
    next (u1) and how long before the change its cues show (u2)."""
    cur = weather[b]
    length = np.int64(np.floor(u0 * wtab[k, W_DWELL_SPAN + cur] + wtab[k, W_DWELL_LOW + cur]))
    at = tick + max(length, 1)
    change_at[b] = at
    # categorical draw: the first state whose cumulative probability exceeds u1
    n = 0
    for j in range(4):
        n += wtab[k, W_NEXT_CUMULATIVE + cur * 4 + j] <= u1
    next_weather[b] = min(n, 3)
    lead = u2 * wtab[k, W_LEAD_SPAN] + wtab[k, W_LEAD_LOW]
    cue_at[b] = at - np.int64(np.floor(lead))


@njit(cache=True, error_model="numpy")
def reset_weather(idx, kind, keys, reset_stream, tick, wtab, weather, next_weather, change_at, cue_at,
                  barometer, baro_hist, cloud):
    """Start the weather of worlds idx (at their tick, 0): the initial state (draw 3 of the
    reset stream at tick -1), its schedule (draws 0-2), the barometer, its history and the clouds."""
    for b in idx:
        k = kind[b]
        base = stream_base(keys[b], reset_stream, np.int64(-1))
        u3 = draw(base, np.int64(3))
        n = 0
        for j in range(4):
            n += wtab[k, W_INITIAL_CUMULATIVE + j] <= u3
        weather[b] = min(n, 3)
        _schedule(wtab, k, b, tick[b], weather, next_weather, change_at, cue_at,
                  draw(base, np.int64(0)), draw(base, np.int64(1)), draw(base, np.int64(2)))
        cur = weather[b]
        barometer[b] = wtab[k, W_BAROMETER + cur]
        baro_hist[b, :] = barometer[b]
        cloud[b] = wtab[k, W_CLOUD + cur]


@njit(cache=True, error_model="numpy")
def _advance_weather(codes, wtab, k, b, keys, tick, weather, next_weather, change_at, cue_at, barometer,
                     baro_hist, cloud):
    """One tick of world b's weather: switch state when due (and schedule the next change),
    then move the barometer (with noise) and the clouds toward the cued state's values."""
    t = tick[b]
    base = stream_base(keys[b], codes[C_STREAM_WEATHER], t)
    if t >= change_at[b]:
        weather[b] = next_weather[b]
        _schedule(wtab, k, b, t, weather, next_weather, change_at, cue_at, draw(base, np.int64(0)),
                  draw(base, np.int64(1)), draw(base, np.int64(2)))
    cue = next_weather[b] if t >= cue_at[b] else weather[b]
    noise = (draw(base, np.int64(3)) - 0.5) * wtab[k, W_NOISE_SCALE]  # uniform noise with the barometer's std
    old = barometer[b]
    value = (wtab[k, W_BAROMETER + cue] - old) * wtab[k, W_BAROMETER_RATE] + old + noise
    if value < 0.0:
        value = 0.0
    if value > 1.0:
        value = 1.0
    barometer[b] = value
    old = cloud[b]
    cloud[b] = (wtab[k, W_CLOUD + cue] - old) * wtab[k, W_CLOUD_RATE] + old
    baro_hist[b, t % baro_hist.shape[1]] = value


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
def _world_senses(rain, wtab, k, b, tick, weather, next_weather, cue_at, barometer, baro_hist, out):
    """out[b, K_*]: world b's (of kind k) time of day (daylight first, night at the end), night,
    midday, an announced front, the bite factor of fish (weather, front, midday sun, night) and
    the barometer trend."""
    t = tick[b]
    day = (t % wtab[k, W_DAY_LENGTH]) / wtab[k, W_DAY_LENGTH]
    night = day >= wtab[k, W_NIGHT_FROM]
    midday = abs(day - wtab[k, W_NOON]) <= wtab[k, W_MIDDAY_HALF]
    front = _front(rain, t, cue_at[b], weather[b], next_weather[b])
    out[b, K_DAY] = day
    out[b, K_NIGHT] = night
    out[b, K_MIDDAY] = midday
    out[b, K_FRONT] = front
    out[b, K_BITE_FACTOR] = wtab[k, W_BITE_FACTOR + weather[b] * 8 + front * 4 + midday * 2 + night]
    out[b, K_TREND] = _trend(b, tick, barometer, baro_hist)


@njit(cache=True, error_model="numpy")
def world_senses(rain, wtab, kind, tick, weather, next_weather, cue_at, barometer, baro_hist, out):
    """`_world_senses` of every world (out: (B, N_K))."""
    for b in range(tick.shape[0]):
        _world_senses(rain, wtab, kind[b], b, tick, weather, next_weather, cue_at, barometer, baro_hist, out)


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
# columns of the fish table `fwtab` (kinds, N_FW) float64 (sim.fish)
FW_STRENGTH = 0          # 8: strength * preference by weather * 2 + night
FW_CURRENT = 8           # 1 if the world has a current, else 0
FW_CURRENT_DR, FW_CURRENT_DC = 9, 10  # the current's step (downstream = cell + (dr, dc))
N_FW = 11
# fields of the fish box `fbox` (kinds, N_FB, hb, wb) float64: static per cell of the water box
(FB_MOVE_SHARE, FB_WATER, FB_SHALLOW_WATER, FB_N_WATER_NBR, FB_SHALLOW_NBR_SUM, FB_REGROWTH,
 FB_INV_CAPACITY, FB_IMMIGRATION, FB_CURRENT_SHARE) = range(9)
N_FB = 9


@njit(cache=True, error_model="numpy")
def _update_fish(b, k, night, weather, fish, box, fwtab, fbox, scratch):
    """One tick of world b's (of kind k) fish in the water box (box = (r0, c0)), in place.

    Movement: a share of every cell's fish leaves, split over the water neighbours in
    proportion to their attractiveness; then the current (if any) carries a share
    downstream; then logistic growth plus immigration. scratch: (2, hb + 2, wb + 2) with a
    zero border (the neighbours of the box's edge cells outside it hold nothing).
    """
    hb, wb = fbox.shape[2], fbox.shape[3]
    r0, c0 = box[0], box[1]
    s = fwtab[k, FW_STRENGTH + weather * 2 + night]
    fields = fbox[k]
    per_unit = scratch[0]
    for r in range(hb):
        for c in range(wb):
            leaving = fish[b, r0 + r, c0 + c] * fields[FB_MOVE_SHARE, r, c]
            reach = fields[FB_SHALLOW_NBR_SUM, r, c] * s + fields[FB_N_WATER_NBR, r, c]
            if reach < 1e-9:
                reach = 1e-9
            per_unit[r + 1, c + 1] = leaving / reach
    current = fwtab[k, FW_CURRENT] != 0.0
    for r in range(hb):
        for c in range(wb):
            f = fish[b, r0 + r, c0 + c]
            leaving = f * fields[FB_MOVE_SHARE, r, c]
            # the neighbours in the rule's order: north, south, west, east
            inflow = per_unit[r, c + 1] + per_unit[r + 2, c + 1] + per_unit[r + 1, c] + per_unit[r + 1, c + 2]
            attract = fields[FB_SHALLOW_WATER, r, c] * s + fields[FB_WATER, r, c]
            f = f + (inflow * attract - leaving)
            if not current:
                f = _grow(f, fields, r, c)
            fish[b, r0 + r, c0 + c] = f
    if current:
        drift = scratch[1]
        dr, dc = np.int64(fwtab[k, FW_CURRENT_DR]), np.int64(fwtab[k, FW_CURRENT_DC])
        for r in range(hb):
            for c in range(wb):
                drift[r + 1, c + 1] = fish[b, r0 + r, c0 + c] * fields[FB_CURRENT_SHARE, r, c]
        for r in range(hb):
            for c in range(wb):
                f = fish[b, r0 + r, c0 + c] - drift[r + 1, c + 1] + drift[r + 1 - dr, c + 1 - dc]
                fish[b, r0 + r, c0 + c] = _grow(f, fields, r, c)


@njit(cache=True, error_model="numpy")
def _grow(f, fields, r, c):
    """Logistic growth plus immigration, never below 0:
    f + (regrowth * f * (1 - f / capacity) + immigration * capacity)."""
    growth = f * fields[FB_REGROWTH, r, c] * (1.0 - f * fields[FB_INV_CAPACITY, r, c])
    f = f + (growth + fields[FB_IMMIGRATION, r, c])
    if f < 0.0:
        f = 0.0
    return f


@njit(cache=True, error_model="numpy")
def update_fish(night, kind, weather, fish, box, fwtab, fbox, scratch):
    """`_update_fish` for every world (night: (B,) bool)."""
    for b in range(fish.shape[0]):
        _update_fish(b, kind[b], night[b], weather[b], fish, box, fwtab, fbox, scratch)


# ------------------------------------------------------------------------------------------------ fishers
# columns of the fisher table `ftab` (kinds, N_F) float64 (sim.fishers.kernel_table)
(F_HUNGER_RATE, F_STORM_MULTIPLIER, F_EAT_THRESHOLD, F_MEAL, F_SPAWN_HUNGER_LOW, F_SPAWN_HUNGER_HIGH,
 F_SETTLE, F_BITE_WINDOW, F_P_BITE, F_CAST_REACH, F_INVENTORY_MAX, F_SPAWN_INVENTORY, F_MEAL_REWARD,
 F_DENSITY_REF, F_P_LOSE_LINE, F_P_LOSE_FISH, F_STARVE_AT) = range(17)
N_F = 17
# bits of the padded map `pmap` (kinds, H + 2 pad, W + 2 pad) uint8 (nothing in the padding)
M_WALKABLE, M_WATER, M_FISHABLE_FROM, M_SHELTER = 1, 2, 4, 8


@njit(cache=True, error_model="numpy")
def _spawn(ftab, spawn_cells, spawn_count, width, k, b, f, u0, u1, u2, row, col, facing, hunger, inventory,
           alive, lives, line, line_age, bite, lifetime, meals, catches, line_row, line_col):
    """A new life in slot (b, f) of a world of kind k: a spawn cell (u0), some hunger (u1), a
    facing (u2), the spawn inventory; the line, bite and the life's counters cleared."""
    count = spawn_count[k]
    i = min(np.int64(u0 * count), count - 1)
    cell = spawn_cells[k, i]
    row[b, f] = cell // width
    col[b, f] = cell % width
    facing[b, f] = np.int64(u2 * 4)
    low = ftab[k, F_SPAWN_HUNGER_LOW]
    hunger[b, f] = low + u1 * (ftab[k, F_SPAWN_HUNGER_HIGH] - low)
    inventory[b, f] = np.int64(ftab[k, F_SPAWN_INVENTORY])
    line[b, f] = False
    line_age[b, f] = 0
    bite[b, f] = 0
    lifetime[b, f] = 0
    meals[b, f] = 0
    catches[b, f] = 0
    line_row[b, f] = 0
    line_col[b, f] = 0
    alive[b, f] = True
    lives[b, f] += 1


@njit(cache=True, error_model="numpy")
def spawn_slots(slots, u, kind, ftab, spawn_cells, spawn_count, width, row, col, facing, hunger, inventory,
                alive, lives, line, line_age, bite, lifetime, meals, catches, line_row, line_col):
    """`_spawn` for the flat slots (indices into B * F) with their three uniforms u (n, 3)."""
    n_fishers = row.shape[1]
    for i in range(slots.shape[0]):
        b, f = slots[i] // n_fishers, slots[i] % n_fishers
        _spawn(ftab, spawn_cells, spawn_count, width, kind[b], b, f, u[i, 0], u[i, 1], u[i, 2], row, col,
               facing, hunger, inventory, alive, lives, line, line_age, bite, lifetime, meals, catches,
               line_row, line_col)


@njit(cache=True, error_model="numpy")
def step(act, codes, moves, kind, wtab, ftab, fwtab, fbox, box, pmap, spawn_cells, spawn_count, scratch,
         keys, tick, respawn, weather, next_weather, change_at, cue_at, barometer, baro_hist, cloud, fish,
         row, col, facing, alive, hunger, inventory, line, line_row, line_col, line_age, bite, lives,
         lifetime, meals, catches, senses,
         reward, events, starved, final_meals, final_catches, final_lifetime):
    """One tick of every world, in place (see sim.step for the phases and why in this order).

    Returns 0, or 1 (nothing changed) if an action is outside [0, N_ACTIONS) or a fisher
    stands off the map.
    """
    n_worlds, n_fishers = row.shape
    height, width = fish.shape[1], fish.shape[2]
    pad = (pmap.shape[1] - height) // 2
    for b in range(n_worlds):
        for f in range(n_fishers):
            if act[b, f] < 0 or act[b, f] >= codes[C_N_ACTIONS]:
                return 1
            if row[b, f] < 0 or row[b, f] >= height or col[b, f] < 0 or col[b, f] >= width:
                return 1
    north, west = codes[C_NORTH], codes[C_WEST]
    cast_, reel_, eat_ = codes[C_CAST], codes[C_REEL], codes[C_EAT]
    for b in range(n_worlds):
        t = tick[b]
        k = kind[b]
        # 1. weather, and what fish and fishers sense of it this tick
        _advance_weather(codes, wtab, k, b, keys, tick, weather, next_weather, change_at, cue_at, barometer,
                         baro_hist, cloud)
        _world_senses(codes[C_RAIN], wtab, k, b, tick, weather, next_weather, cue_at, barometer, baro_hist,
                      senses)
        night = senses[b, K_NIGHT] != 0.0
        for f in range(n_fishers):
            events[b, f] = 0
            reward[b, f] = 0.0
            starved[b, f] = False
            final_meals[b, f] = 0
            final_catches[b, f] = 0
            final_lifetime[b, f] = 0
        # 2. actions: move, cast, reel in, eat (one per fisher; reeling lowers the fish at once)
        landed_any = False
        for f in range(n_fishers):
            a = act[b, f]
            if not alive[b, f]:
                continue
            if north <= a <= west:  # a move, or a turn toward a cell that cannot be walked on
                direction = a - north
                facing[b, f] = direction
                if line[b, f]:
                    events[b, f] |= codes[C_EV_LINE_DROPPED]
                line[b, f] = False
                bite[b, f] = 0
                r, c = row[b, f] + moves[direction, 0], col[b, f] + moves[direction, 1]
                if pmap[k, r + pad, c + pad] & M_WALKABLE:
                    row[b, f], col[b, f] = r, c
            elif a == cast_:  # the line lands on the farthest cell, up to cast_reach, of unbroken water ahead
                if line[b, f] or not (pmap[k, row[b, f] + pad, col[b, f] + pad] & M_FISHABLE_FROM):
                    continue
                direction = facing[b, f]
                dr, dc = moves[direction, 0], moves[direction, 1]
                reach = ftab[k, F_CAST_REACH]
                r, c = row[b, f] + pad, col[b, f] + pad
                land = 0
                while land < pad and land + 1 <= reach:
                    if not pmap[k, r + (land + 1) * dr, c + (land + 1) * dc] & M_WATER:
                        break
                    land += 1
                if land > 0:
                    line[b, f] = True
                    line_row[b, f] = row[b, f] + land * dr
                    line_col[b, f] = col[b, f] + land * dc
                    line_age[b, f] = 0
                    bite[b, f] = 0
                    events[b, f] |= codes[C_EV_CAST]
            elif a == reel_:
                if not line[b, f]:
                    continue
                hooked = bite[b, f] > 0
                room = inventory[b, f] < ftab[k, F_INVENTORY_MAX]
                if hooked and room:
                    events[b, f] |= codes[C_EV_CATCH]
                    inventory[b, f] += 1
                    catches[b, f] += 1
                    fish[b, line_row[b, f], line_col[b, f]] -= 1.0
                    landed_any = True
                elif hooked:
                    events[b, f] |= codes[C_EV_RELEASED]
                else:
                    events[b, f] |= codes[C_EV_REELED_EMPTY]
                line[b, f] = False
                bite[b, f] = 0
            elif a == eat_:
                if inventory[b, f] <= 0:
                    continue
                if hunger[b, f] >= ftab[k, F_EAT_THRESHOLD]:  # only a meal is ever rewarded
                    events[b, f] |= codes[C_EV_ATE]
                    inventory[b, f] -= 1
                    meals[b, f] += 1
                    h = hunger[b, f] - ftab[k, F_MEAL]
                    hunger[b, f] = h if not h < 0.0 else 0.0
                    reward[b, f] = np.float32(ftab[k, F_MEAL_REWARD])
                else:
                    events[b, f] |= codes[C_EV_REFUSED]
        if landed_any:  # fish cells reeled from never go below 0 (after all of the world's catches)
            for f in range(n_fishers):
                if act[b, f] == reel_ and events[b, f] & codes[C_EV_CATCH]:
                    r, c = line_row[b, f], line_col[b, f]
                    if fish[b, r, c] < 0.0:
                        fish[b, r, c] = 0.0
        # 3. bites: lines age; a showing bite counts down (missed at 0, no new bite this tick);
        # a line past its settle time with no bite showing may get one
        factor = senses[b, K_BITE_FACTOR]
        bite_base = stream_base(keys[b], codes[C_STREAM_BITE], t)
        for f in range(n_fishers):
            if not line[b, f]:
                continue
            line_age[b, f] += 1
            if bite[b, f] != 0:
                bite[b, f] -= 1
                if bite[b, f] == 0:
                    events[b, f] |= codes[C_EV_MISSED]
            elif line_age[b, f] > ftab[k, F_SETTLE]:
                density = fish[b, line_row[b, f], line_col[b, f]] / ftab[k, F_DENSITY_REF]
                if density > 2.0:
                    density = 2.0
                if draw(bite_base, f) < ftab[k, F_P_BITE] * density * factor:
                    bite[b, f] = np.int64(ftab[k, F_BITE_WINDOW])
                    events[b, f] |= codes[C_EV_BITE]
        # 4. storm: exposed fishers may lose their line or a fish; sheltered ones are safe
        exposed_any = weather[b] == codes[C_STORM]
        if exposed_any:
            storm_base = stream_base(keys[b], codes[C_STREAM_STORM], t)
            for f in range(n_fishers):
                if not alive[b, f]:
                    continue
                if pmap[k, row[b, f] + pad, col[b, f] + pad] & M_SHELTER:
                    events[b, f] |= codes[C_EV_SHELTERED]
                    continue
                if line[b, f] and draw(storm_base, 2 * f) < ftab[k, F_P_LOSE_LINE]:
                    line[b, f] = False
                    bite[b, f] = 0
                    events[b, f] |= codes[C_EV_LINE_SWEPT]
                if inventory[b, f] > 0 and draw(storm_base, 2 * f + 1) < ftab[k, F_P_LOSE_FISH]:
                    inventory[b, f] -= 1
                    events[b, f] |= codes[C_EV_FISH_SWEPT]
        # 5. fish: movement and regrowth
        _update_fish(b, k, night, weather[b], fish, box, fwtab, fbox, scratch)
        # 6. hunger rises (faster when exposed to a storm); at 1 the fisher starves and, in
        # respawning worlds, a new fisher takes the slot
        spawn_base = stream_base(keys[b], codes[C_STREAM_SPAWN], t)
        for f in range(n_fishers):
            if not alive[b, f]:
                continue
            rate = ftab[k, F_HUNGER_RATE]
            if exposed_any and not pmap[k, row[b, f] + pad, col[b, f] + pad] & M_SHELTER:
                rate = rate * ftab[k, F_STORM_MULTIPLIER]
            h = hunger[b, f] + rate
            hunger[b, f] = h if not h > 1.0 else 1.0
            lifetime[b, f] += 1
            # a tolerance, so that summing an inexact rate (10 x 0.1) starves on the intended tick
            if hunger[b, f] >= ftab[k, F_STARVE_AT]:
                hunger[b, f] = 1.0
                events[b, f] |= codes[C_EV_STARVED]
                alive[b, f] = False
                line[b, f] = False
                bite[b, f] = 0
                starved[b, f] = True
                final_meals[b, f] = meals[b, f]
                final_catches[b, f] = catches[b, f]
                final_lifetime[b, f] = lifetime[b, f]
                if respawn[b]:
                    _spawn(ftab, spawn_cells, spawn_count, width, k, b, f, draw(spawn_base, 3 * f),
                           draw(spawn_base, 3 * f + 1), draw(spawn_base, 3 * f + 2), row, col, facing,
                           hunger, inventory, alive, lives, line, line_age, bite, lifetime, meals, catches,
                           line_row, line_col)
                    events[b, f] |= codes[C_EV_SPAWNED]
        tick[b] = t + 1
    return 0


# ------------------------------------------------------------------------------------------------ observe
# the view's shape as compile-time constants (the loops over a view cell's channels unroll):
# sim.observe checks at import that VIEW_RADIUS, VIEW_CHANNELS and RIPPLE_LEVELS agree
OBS_RADIUS, OBS_CHANNELS, OBS_LEVELS = 3, 8, 3
_OBS_VIEW = 2 * OBS_RADIUS + 1
# positions in the int64 `layout` array (sim.observe): two view channels and each scalar sense
(O_FISHER, O_RIPPLES) = range(2)
(P_HUNGER, P_INVENTORY, P_LINE_OUT, P_LINE_AGE, P_BITE, P_BAROMETER, P_BAROMETER_TREND, P_CLOUD, P_RAINING,
 P_STORM, P_DAY_SIN, P_DAY_COS, P_NIGHT, P_IN_SHELTER, P_SHELTER_NORTH, P_SHELTER_SOUTH, P_SHELTER_EAST,
 P_SHELTER_WEST, P_SHELTER_DISTANCE, P_FACING_NORTH, P_FACING_SOUTH, P_FACING_EAST, P_FACING_WEST,
 P_FACING_WATER, P_HUNGRY_ENOUGH) = range(2, 27)
N_LAYOUT = 27
# positions in the float64 `oconst` array: scales of the scalar senses
Q_SCALE_TICKS, Q_INVENTORY_FULL, Q_TREND_GAIN = range(3)
# bits of the padded view grid `vgrid` (kinds, H + 2 r, W + 2 r) uint8: the terrain channel in bits
# 0-3 (the padding is channel 0, "blocked"), water in bit 4, a shelter in bit 5
V_CHANNEL, V_WATER, V_SHELTER = 15, 16, 32


@njit(cache=True, error_model="numpy")
def observe(layout, oconst, codes, kind, wtab, thresholds, ripple_value, vgrid, shelter_dir, shelter_dist,
            moves, eat_threshold, row, col, facing, alive, hunger, inventory, line, line_age, bite,
            weather, barometer, cloud, fish, senses, day_sin, day_cos, out):
    """Every slot's observation (B, F, OBS_SIZE) float32, every value written: the egocentric
    view (terrain one-hot, other living fishers, ripples: the level of a water cell's fish is
    the number of the world's level thresholds at or below it) and the scalar senses.
    senses: `world_senses` of this state. Returns 1 (nothing written) if a fisher stands off
    the map."""
    n_worlds, n_fishers = row.shape
    height, width = fish.shape[1], fish.shape[2]
    radius, view, channels = OBS_RADIUS, _OBS_VIEW, OBS_CHANNELS
    ch_fisher, ch_ripples = layout[O_FISHER], layout[O_RIPPLES]
    scale, full = oconst[Q_SCALE_TICKS], oconst[Q_INVENTORY_FULL]
    for b in range(n_worlds):
        for f in range(n_fishers):
            if row[b, f] < 0 or row[b, f] >= height or col[b, f] < 0 or col[b, f] >= width:
                return 1
    for b in range(n_worlds):
        k = kind[b]
        # the world's senses, as float32
        s_barometer = np.float32(barometer[b])
        trend = senses[b, K_TREND] * oconst[Q_TREND_GAIN]
        if trend < -1.0:
            trend = -1.0
        if trend > 1.0:
            trend = 1.0
        s_trend = np.float32(trend)
        s_cloud = np.float32(cloud[b])
        s_rain = np.float32(weather[b] >= codes[C_RAIN])
        s_storm = np.float32(weather[b] == codes[C_STORM])
        s_sin, s_cos = np.float32(day_sin[b]), np.float32(day_cos[b])
        s_night = np.float32(senses[b, K_DAY] >= wtab[k, W_NIGHT_FROM])
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
            o[layout[P_HUNGER]] = hunger[b, f]
            o[layout[P_INVENTORY]] = min(inventory[b, f], full) / full
            o[layout[P_LINE_OUT]] = line[b, f]
            o[layout[P_LINE_AGE]] = min(line_age[b, f] * line[b, f], scale) / scale
            o[layout[P_BITE]] = bite[b, f] > 0
            o[layout[P_BAROMETER]] = s_barometer
            o[layout[P_BAROMETER_TREND]] = s_trend
            o[layout[P_CLOUD]] = s_cloud
            o[layout[P_RAINING]] = s_rain
            o[layout[P_STORM]] = s_storm
            o[layout[P_DAY_SIN]] = s_sin
            o[layout[P_DAY_COS]] = s_cos
            o[layout[P_NIGHT]] = s_night
            sheltered = (vgrid[k, r + radius, c + radius] & V_SHELTER) != 0
            o[layout[P_IN_SHELTER]] = sheltered
            direction = shelter_dir[k, r, c]
            o[layout[P_SHELTER_NORTH]] = direction == 0 and not sheltered
            o[layout[P_SHELTER_SOUTH]] = direction == 1 and not sheltered
            o[layout[P_SHELTER_EAST]] = direction == 2 and not sheltered
            o[layout[P_SHELTER_WEST]] = direction == 3 and not sheltered
            dist = shelter_dist[k, r, c]
            o[layout[P_SHELTER_DISTANCE]] = 1.0 if dist < 0 else min(dist, scale) / scale
            fc = facing[b, f]
            o[layout[P_FACING_NORTH]] = fc == 0
            o[layout[P_FACING_SOUTH]] = fc == 1
            o[layout[P_FACING_EAST]] = fc == 2
            o[layout[P_FACING_WEST]] = fc == 3
            ahead = vgrid[k, r + radius + moves[fc, 0], c + radius + moves[fc, 1]]
            o[layout[P_FACING_WATER]] = (ahead & V_WATER) != 0
            o[layout[P_HUNGRY_ENOUGH]] = hunger[b, f] >= eat_threshold[k]
    return 0
