"""Regression guard for the simulation core: trajectories must not change when the core is optimised.

A fixed random action sequence, with a reactive layer that sees fishing through, drives
three scenarios (the lake world, a mixed batch of two worlds of different shapes and rules,
and a non-respawning cohort) for `TICKS` ticks. Every tick's discrete state (positions,
alive, inventory, line, bite, weather, events, meals, lives, ...) must equal the stored
reference exactly; continuous state (hunger, fish, barometer, cloud, observation scalars)
must match it to 1e-4, and the egocentric view (whose values are multiples of 1/3) through
an exact per-slot checksum plus full snapshots. A last test checks that a world inside a
mixed batch follows exactly the trajectory it follows alone.

The worlds are written inline below (a copy of the lake world and a small non-square "pond"),
so edits to the shipped world files never move this reference. The reference was generated
from the unoptimised core (sim/ as of commit 7a8bdbb: the loader fix of 8ac8b43 and the
ripple scale of 7a8bdbb included), and regenerated once for three deliberate rule fixes
(the barometer trend's span, starvation with inexact hunger rates, no growth in water of
capacity 0), and once more for a new rule (fish grow wary of a still line: fishing.wary_ticks,
default 20; with it at 0 the old reference was matched bit for bit), and once for a new scale of
the line-age sense (sim.observe.LINE_AGE_TICKS, 64 ticks, was 20: with 20 the old reference was
matched bit for bit) with

    .venv/bin/python tests/test_core_regression.py --write

Regenerate it only for a deliberate change of the rules, never to make a failing
optimisation pass.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from sim.core import Simulation
from sim.fishers import CAST, EAT, REEL, WAIT
from sim.observe import LAYOUT, VIEW_SIZE
from worlds.loader import world_from_data

REFERENCE = Path(__file__).parent / "data" / "core_reference.npz"
TICKS = 400
SNAPSHOT_EVERY = 50
CONT_TOL = 1e-4

LAKE_TOML = """
name = "lake"
map = "map.txt"
[legend]
"." = "land"
":" = "shore"
"-" = "shallow"
"=" = "deep"
"%" = "reeds"
"^" = "rock"
"H" = "shelter"
[time]
day_length = 200
night_fraction = 0.3
horizon = 1000
[hunger]
rate = 0.01
storm_multiplier = 3.0
eat_threshold = 0.3
meal = 0.5
spawn = [0.2, 0.5]
[fishing]
settle = 3
bite_window = 2
p_bite = 0.12
cast_reach = 2
inventory_max = 3
spawn_inventory = 1
meal_reward = 1.0
[fish]
capacity = { shallow = 2.0, deep = 4.0, reeds = 8.0 }
regrowth = 0.05
immigration = 0.001
move_rate = 0.02
density_ref = 4.0
preference_strength = 0.5
shallow_preference = { clear = -0.5, cloudy = 0.2, rain = 0.6, storm = -0.8 }
night_shallow_shift = 0.5
[weather]
initial = { clear = 0.5, cloudy = 0.5 }
lead = [10, 20]
barometer = { clear = 1.0, cloudy = 0.7, rain = 0.4, storm = 0.1 }
cloud = { clear = 0.1, cloudy = 0.5, rain = 0.75, storm = 0.95 }
barometer_rate = 0.15
barometer_noise = 0.01
cloud_rate = 0.2
[weather.dwell]
clear = [50, 110]
cloudy = [30, 70]
rain = [25, 55]
storm = [25, 55]
[weather.next]
clear = { cloudy = 1.0 }
cloudy = { clear = 0.4, rain = 0.4, storm = 0.2 }
rain = { cloudy = 0.6, storm = 0.4 }
storm = { rain = 0.5, cloudy = 0.5 }
[bites]
weather = { clear = 0.7, cloudy = 1.0, rain = 1.5, storm = 0.0 }
front_boost = 1.8
midday = 0.5
night = 0.6
[storm]
p_lose_line = 0.1
p_lose_fish = 0.05
"""

LAKE_MAP = """\
......................
..H........^^.....H...
......................
...::::::::::::::::...
...:%%%-----------:...
...:%%-====-=====-:...
..H:--=========%%-:H..
...:-==========%%-:...
...:-======----==-:...
...:-=====-%%%-==-:...
..H:--====-%%%-==-:H..
...:--------------:...
...::::::::::::::::...
......^^..............
..........H...........
......................
"""

# A taller, narrower world with other rules: padding in both axes inside a mixed batch,
# a longer cast, no settle time, frequent storms, fast hunger (many deaths and respawns),
# a small bag (fish released), ice to walk on.
POND_TOML = """
name = "pond"
map = "map.txt"
[legend]
"." = "land"
":" = "shore"
"-" = "shallow"
"=" = "deep"
"%" = "reeds"
"^" = "rock"
"H" = "shelter"
"*" = "ice"
[time]
day_length = 60
night_fraction = 0.4
horizon = 500
[hunger]
rate = 0.02
storm_multiplier = 2.0
eat_threshold = 0.2
meal = 0.4
spawn = [0.0, 0.6]
[fishing]
settle = 0
bite_window = 3
p_bite = 0.3
cast_reach = 3
inventory_max = 2
spawn_inventory = 2
meal_reward = 2.0
[fish]
capacity = { shallow = 1.0, deep = 3.0, reeds = 6.0 }
regrowth = 0.08
immigration = 0.002
move_rate = 0.05
density_ref = 2.0
preference_strength = 0.8
shallow_preference = { clear = 0.3, cloudy = -0.2, rain = 0.9, storm = -0.9 }
night_shallow_shift = -0.4
[weather]
initial = { clear = 0.2, cloudy = 0.3, rain = 0.2, storm = 0.3 }
lead = [3, 8]
barometer = { clear = 0.9, cloudy = 0.6, rain = 0.35, storm = 0.05 }
cloud = { clear = 0.2, cloudy = 0.6, rain = 0.8, storm = 1.0 }
barometer_rate = 0.3
barometer_noise = 0.03
cloud_rate = 0.35
[weather.dwell]
clear = [10, 30]
cloudy = [8, 20]
rain = [8, 25]
storm = [10, 30]
[weather.next]
clear = { cloudy = 0.5, storm = 0.5 }
cloudy = { clear = 0.2, rain = 0.3, storm = 0.5 }
rain = { cloudy = 0.3, storm = 0.7 }
storm = { clear = 0.3, rain = 0.3, cloudy = 0.4 }
[bites]
weather = { clear = 1.0, cloudy = 1.2, rain = 2.0, storm = 0.5 }
front_boost = 1.5
midday = 0.7
night = 1.3
[storm]
p_lose_line = 0.3
p_lose_fish = 0.2
"""

POND_MAP = """\
...........
.H...^.....
...:::::...
..:-----:..
..:-===-:..
..:-=%=-:..
..:-===-:..
..:--%--:..
..::::::::.
.....H.....
...:::::...
...:-=-:...
...:=%=:...
...:-=-:...
...:::::...
.^....***..
...H..*-*..
......***..
"""

DISCRETE_STATE = ("tick", "weather", "next_weather", "change_at", "cue_at", "row", "col", "facing",
                  "alive", "inventory", "line", "line_row", "line_col", "line_age", "bite", "lives",
                  "lifetime", "meals", "catches")
DISCRETE_RESULT = ("events", "starved", "final_meals", "final_catches", "final_lifetime")
CONTINUOUS_STATE = ("hunger", "barometer", "cloud")


def _world(toml_text: str, map_text: str, name: str):
    return world_from_data(tomllib.loads(toml_text), map_text, f"<inline {name}>")


LAKE = _world(LAKE_TOML, LAKE_MAP, "lake")
POND = _world(POND_TOML, POND_MAP, "pond")

# name -> (worlds, fishers, seeds, respawn)
SCENARIOS = {
    "lake": ([LAKE] * 8, 4, list(range(8)), True),
    "mixed": ([LAKE, POND, POND, LAKE, POND, LAKE], 3, [101, 7, 8, 202, 9, 303], True),
    "cohort": ([POND, LAKE, POND], 4, [5, 6, 7], False),
}


def _actions(n_ticks: int, n_worlds: int, n_fishers: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 8, (n_ticks, n_worlds, n_fishers))


def _policy(obs: np.ndarray, base: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Fixed random actions with a reactive layer, so lines stay out and bites are seen through.

    Uniform random actions drop lines almost at once and rarely stand on the shore facing
    water; this layer casts when facing water, mostly waits with a line out, reels in most
    (not all) showing bites and eats when hungry, all decided by the fixed uniforms u.
    """
    at = lambda name: obs[..., LAYOUT[name]] > 0.5  # noqa: E731
    act = base.copy()
    eat = at("hungry_enough") & (obs[..., LAYOUT["inventory"]] > 0) & (u < 0.5)
    act[eat] = EAT
    act[at("facing_water") & ~at("line_out") & (u < 0.7)] = CAST
    act[at("line_out") & (u < 0.85)] = WAIT
    act[at("bite") & (u < 0.6)] = REEL
    return act


def _view_codes(obs: np.ndarray) -> np.ndarray:
    """The view as small integers (every view value is a multiple of 1/3)."""
    return np.rint(obs[..., :VIEW_SIZE].astype(np.float64) * 3).astype(np.int64)


_CHECK_WEIGHTS = np.random.default_rng(12345).integers(1, 1 << 20, VIEW_SIZE)


def record(name: str, n_ticks: int = TICKS) -> dict[str, np.ndarray]:
    """Run one scenario and return its per-tick record (arrays with a leading tick axis)."""
    worlds, n_fishers, seeds, respawn = SCENARIOS[name]
    sim = Simulation(worlds, n_fishers, seeds=seeds, respawn=respawn)
    base = _actions(n_ticks, len(worlds), n_fishers, seed=len(name))
    uniforms = np.random.default_rng(len(name) + 1000).random(base.shape)
    obs = sim.observe()
    rec: dict[str, list] = {}

    def put(key, value):
        rec.setdefault(key, []).append(np.array(value))

    for t in range(n_ticks):
        res = sim.step(_policy(obs, base[t], uniforms[t]))
        obs = sim.observe()
        s = sim.state
        for f in DISCRETE_STATE:
            put(f, getattr(s, f))
        for f in DISCRETE_RESULT:
            put(f, getattr(res, f))
        put("reward", res.reward)
        for f in CONTINUOUS_STATE:
            put(f, getattr(s, f))
        put("fish_total", s.fish.sum(axis=(1, 2)))
        put("obs_scalars", obs[..., VIEW_SIZE:])
        put("view_check", _view_codes(obs) @ _CHECK_WEIGHTS)
        if t % SNAPSHOT_EVERY == SNAPSHOT_EVERY - 1:
            put("fish_snapshot", s.fish)
            put("view_snapshot", _view_codes(obs).astype(np.int8))
    return {k: np.stack(v) for k, v in rec.items()}


def _is_discrete(key: str) -> bool:
    return key in DISCRETE_STATE or key in DISCRETE_RESULT or key in ("view_check", "view_snapshot")


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    with np.load(REFERENCE) as data:
        return {k: data[k] for k in data.files}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_trajectory_matches_reference(reference, name):
    got = record(name)
    keys = sorted(k.split("/", 1)[1] for k in reference if k.startswith(name + "/"))
    assert keys == sorted(got), "the recorded fields changed"
    for key in keys:
        ref, new = reference[f"{name}/{key}"], got[key]
        assert ref.shape == new.shape, key
        if _is_discrete(key):
            bad = np.argwhere(ref != new)
            assert bad.size == 0, f"{name}/{key}: first difference at (tick, ...) {tuple(bad[0])}"
        else:
            err = np.abs(ref.astype(np.float64) - new)
            assert err.max() <= CONT_TOL, \
                f"{name}/{key}: max error {err.max():.3g} at {np.unravel_index(err.argmax(), err.shape)}"


def test_reference_exercises_the_rules(reference):
    """The scenarios reach the events and situations that matter (else the guard is weak)."""
    from sim.events import BIT

    events = np.concatenate([reference[f"{n}/events"].reshape(-1) for n in SCENARIOS])
    for name, bit in BIT.items():
        assert (events & bit).any(), f"no '{name}' event in the reference scenarios"
    weather = np.concatenate([reference[f"{n}/weather"].reshape(-1) for n in SCENARIOS])
    assert set(np.unique(weather)) == {0, 1, 2, 3}


def _run_states(sim: Simulation, actions: np.ndarray):
    for a in actions:
        res = sim.step(a)
        obs = sim.observe()
        yield sim.state, res, obs


def test_world_alone_equals_world_in_batch():
    """World b of a mixed batch follows exactly the trajectory it follows alone (1000 ticks)."""
    worlds = [LAKE, POND, LAKE, POND, LAKE, POND, LAKE]
    seeds = [31, 32, 33, 34, 35, 36, 37]
    n_ticks, n_fishers = 1000, 3
    actions = _actions(n_ticks, len(worlds), n_fishers, seed=99)
    picks = (1, 4)  # a pond padded to the lake's width, a lake padded to the pond's height
    batch_run = _run_states(Simulation(worlds, n_fishers, seeds=seeds), actions)
    alone_runs = [_run_states(Simulation([worlds[b]], n_fishers, seeds=[seeds[b]]), actions[:, b:b + 1])
                  for b in picks]
    fields = DISCRETE_STATE + CONTINUOUS_STATE + ("keys", "baro_hist")
    for t in range(n_ticks):
        state, res, obs = next(batch_run)
        for b, run in zip(picks, alone_runs, strict=True):
            one, one_res, one_obs = next(run)
            for f in fields:
                assert np.array_equal(getattr(state, f)[b], getattr(one, f)[0]), f"tick {t} world {b} {f}"
            h, w = worlds[b].shape
            assert np.array_equal(state.fish[b, :h, :w], one.fish[0]), f"tick {t} world {b} fish"
            for f in DISCRETE_RESULT + ("reward",):
                assert np.array_equal(getattr(res, f)[b], getattr(one_res, f)[0]), f"tick {t} world {b} {f}"
            assert np.array_equal(obs[b], one_obs[0]), f"tick {t} world {b} observations"


def write_reference() -> None:
    out = {f"{name}/{k}": v for name in SCENARIOS for k, v in record(name).items()}
    for k, v in out.items():  # store compactly: small ints, float32 for continuous values
        if v.dtype == np.float64:
            out[k] = v.astype(np.float32)
        elif v.dtype.kind in "iu" and k.split("/")[1] != "view_check":
            out[k] = v.astype(np.int32)
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(REFERENCE, **out)
    print(f"wrote {REFERENCE} ({REFERENCE.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    if "--write" in sys.argv:
        write_reference()
    else:
        print(__doc__)


# ---------------------------------------------------------------- observe against a plain oracle


def _oracle_observe(state, batch) -> np.ndarray:
    """Observations computed the plain way, slot by slot (no tables, no caches): the oracle
    for `sim.observe.observe`, whose tables and incremental grids must never go stale."""
    from sim import terrain as T
    from sim import weather as W
    from sim.observe import (
        _TERRAIN_CHANNEL,
        LINE_AGE_TICKS,
        OBS_SIZE,
        RIPPLE_FULL,
        RIPPLE_LEVELS,
        SCALE_TICKS,
        VIEW,
        VIEW_CHANNELS,
        VIEW_RADIUS,
    )

    b, f = state.n_worlds, state.n_fishers
    h, w, r = batch.height, batch.width, VIEW_RADIUS
    channel = np.zeros((b, h + 2 * r, w + 2 * r), dtype=np.int64)  # off the map: "blocked" (0)
    channel[:, r:-r, r:-r] = np.vectorize(lambda code: _TERRAIN_CHANNEL[int(code)])(batch.terrain)
    level = (np.minimum(state.fish / batch.p.fish_density_ref[:, None, None] / RIPPLE_FULL, 1.0)
             * RIPPLE_LEVELS).astype(np.int16) * batch.water
    ripples = np.zeros((b, h + 2 * r, w + 2 * r))
    ripples[:, r:-r, r:-r] = level / RIPPLE_LEVELS
    obs = np.zeros((b, f, OBS_SIZE), dtype=np.float32)
    view = obs[..., :VIEW_SIZE].reshape(b, f, VIEW, VIEW, len(VIEW_CHANNELS))
    for i in range(b):
        for j in range(f):
            row, col = state.row[i, j], state.col[i, j]
            window = (i, slice(row, row + VIEW), slice(col, col + VIEW))
            view[i, j, :, :, :6] = channel[window][..., None] == np.arange(6)
            view[i, j, :, :, 7] = ripples[window]
            for k in range(f):
                dr, dc = state.row[i, k] - row, state.col[i, k] - col
                if k != j and state.alive[i, k] and abs(dr) <= r and abs(dc) <= r:
                    view[i, j, dr + r, dc + r, 6] = 1.0
    s = obs[..., VIEW_SIZE:]
    s[..., 0] = state.hunger
    s[..., 1] = np.minimum(state.inventory, 3) / 3.0
    s[..., 2] = state.line
    s[..., 3] = np.minimum(state.line_age * state.line, LINE_AGE_TICKS) / LINE_AGE_TICKS
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
    bidx = np.arange(b)[:, None]
    sheltered = batch.is_shelter[bidx, state.row, state.col]
    s[..., 13] = sheltered
    direction = batch.shelter_dir[bidx, state.row, state.col]
    s[..., 14:18] = (direction[..., None] == np.arange(4)) & ~sheltered[..., None]
    dist = batch.shelter_dist[bidx, state.row, state.col]
    s[..., 18] = np.where(dist < 0, 1.0, np.minimum(dist, SCALE_TICKS) / SCALE_TICKS)
    s[..., 19:23] = state.facing[..., None] == np.arange(4)
    ahead_r, ahead_c = state.row + T.MOVES[state.facing, 0], state.col + T.MOVES[state.facing, 1]
    inside = (ahead_r >= 0) & (ahead_r < h) & (ahead_c >= 0) & (ahead_c < w)
    s[..., 23] = inside & batch.water[bidx, np.clip(ahead_r, 0, h - 1), np.clip(ahead_c, 0, w - 1)]
    s[..., 24] = state.hunger >= batch.p.hunger_eat_threshold[:, None]
    return obs


def _assert_obs_equal(got: np.ndarray, want: np.ndarray, where: str) -> None:
    assert got.dtype == np.float32 and got.shape == want.shape, where
    bad = np.argwhere(got != want)
    assert bad.size == 0, f"{where}: {len(bad)} values differ, first at (world, slot, index) {tuple(bad[0])}"


def test_observe_matches_the_oracle_through_a_run_and_hand_edits():
    """Bit-identical to the plain computation: in a run, after fish, positions and lives are
    edited by hand (as set-up scenes do), and when two states of one batch are observed in turn."""
    from sim.observe import RIPPLE_FULL, RIPPLE_LEVELS, observe

    worlds, n_fishers, seeds, _ = SCENARIOS["mixed"]
    sim = Simulation(worlds, n_fishers, seeds=seeds)
    base = _actions(60, len(worlds), n_fishers, seed=3)
    uniforms = np.random.default_rng(4).random(base.shape)
    edit = np.random.default_rng(5)
    obs = sim.observe()
    other = None
    for t in range(60):
        sim.step(_policy(obs, base[t], uniforms[t]))
        obs = sim.observe()
        _assert_obs_equal(obs, _oracle_observe(sim.state, sim.batch), f"tick {t}")
        if t == 20:
            other = sim.state.copy()
        if t % 10 == 5:  # hand edits between two observations
            s = sim.state
            water = sim.batch.water
            s.fish[water] *= edit.uniform(0.0, 1.5, water.sum())
            # some cells exactly on a ripple level's boundary, and just below it
            ref = sim.batch.p.fish_density_ref[:, None, None] * RIPPLE_FULL
            on_edge = water & (edit.random(water.shape) < 0.2)
            k = edit.integers(1, RIPPLE_LEVELS + 1, water.shape)
            s.fish[on_edge] = (ref * k / RIPPLE_LEVELS)[on_edge]
            s.fish[on_edge & (k == 2)] = np.nextafter(s.fish[on_edge & (k == 2)], 0.0)
            s.alive[edit.random(s.alive.shape) < 0.2] = False
            j = edit.integers(0, n_fishers)
            s.row[:, j], s.col[:, j] = s.row[:, 0], s.col[:, 0]  # two fishers on one cell
            s.facing[:, :] = edit.integers(0, 4, s.facing.shape)
            _assert_obs_equal(sim.observe(), _oracle_observe(s, sim.batch), f"tick {t}, after edits")
        if other is not None and t % 7 == 0:  # another state of the same batch, then back
            _assert_obs_equal(observe(other, sim.batch), _oracle_observe(other, sim.batch), f"tick {t}, copy")
            _assert_obs_equal(sim.observe(), _oracle_observe(sim.state, sim.batch), f"tick {t}, back again")


def test_observe_writes_every_value_of_a_buffer_it_is_given():
    """The kernel fills the whole observation itself (no zeroed buffer to rely on): a buffer full
    of garbage comes back equal to the oracle, and to a fresh observation, tick after tick."""
    from sim.observe import OBS_SIZE, observe

    worlds, n_fishers, seeds, _ = SCENARIOS["mixed"]
    sim = Simulation(worlds, n_fishers, seeds=seeds)
    buffer = np.empty((len(worlds), n_fishers, OBS_SIZE), dtype=np.float32)
    for t, a in enumerate(_actions(25, len(worlds), n_fishers, seed=8)):
        sim.step(a)
        buffer[...] = np.nan if t % 2 else 7.0
        got = observe(sim.state, sim.batch, out=buffer)
        assert got is buffer
        _assert_obs_equal(got, _oracle_observe(sim.state, sim.batch), f"tick {t}, given buffer")
        _assert_obs_equal(sim.observe(), got, f"tick {t}, fresh array")
    with pytest.raises(ValueError, match="out"):
        observe(sim.state, sim.batch, out=np.empty((1, n_fishers, OBS_SIZE), dtype=np.float32))


# ---------------------------------------------------------------- fish and draws against plain references


def _oracle_update_fish(fish: np.ndarray, batch, weather: np.ndarray, night: np.ndarray) -> np.ndarray:
    """One tick of the fish rule computed the plain way, on whole (B, H, W) grids: the oracle for
    the compiled fish update (movement, the current in any direction, growth), bit for bit."""
    from types import SimpleNamespace

    from sim.batch import shift_toward
    from sim.fish import preference

    p = batch.p
    col = lambda a: np.asarray(a)[:, None, None]  # noqa: E731
    pref = preference(SimpleNamespace(n_worlds=batch.n, weather=weather), batch, night)
    strength = col(p.fish_preference_strength * pref)
    attract = batch.shallow_water * strength + batch.water
    reach = np.maximum(batch.shallow_nbr_sum * strength + batch.n_water_nbr, 1e-9)
    leaving = fish * (col(p.fish_move_rate) * batch.has_water_nbr)
    per_unit = leaving / reach
    # from the north, south, west and east neighbours, in that order (MOVES: N, S, E, W)
    inflow = shift_toward(per_unit, 0) + shift_toward(per_unit, 1) + shift_toward(per_unit, 3) \
        + shift_toward(per_unit, 2)
    fish = fish + (inflow * attract - leaving)
    direction = p.fish_current.astype(np.int64)
    for k in range(4):  # the current carries a share downstream: it arrives from the cell upstream
        share = col(p.fish_current_rate * (direction == k)) * (batch.water & shift_toward(batch.water, k))
        drift = fish * share
        fish = fish - drift + shift_toward(drift, k ^ 1)
    regrowth = col(p.fish_regrowth) * (batch.capacity > 0)
    growth = fish * regrowth * (1.0 - fish * batch.inv_capacity) + col(p.fish_immigration) * batch.capacity
    return np.maximum(fish + growth, 0.0)


def test_fish_update_matches_the_plain_rule_with_currents_in_every_direction():
    from sim.fish import update_fish
    from worlds.loader import load_world, override_world

    river = load_world("river")
    worlds = [river, LAKE, POND]
    for direction, rate in (("north", 0.04), ("south", 0.1), ("east", 0.02), ("west", 0.07)):
        worlds.append(override_world(LAKE, {"fish.current": direction, "fish.current_rate": rate}))
        worlds.append(override_world(POND, {"fish.current": direction, "fish.current_rate": rate}))
    sim = Simulation(worlds, 1, seeds=list(range(len(worlds))))
    s, batch = sim.state, sim.batch
    rng = np.random.default_rng(0)
    s.fish[batch.water] *= rng.uniform(0.0, 2.0, batch.water.sum())
    want = s.fish.copy()
    east = lambda fish: fish[0][:, -3:].sum() / fish[0].sum()  # noqa: E731
    before = east(s.fish)
    for t in range(300):
        s.weather[:] = rng.integers(0, 4, batch.n)
        night = rng.random(batch.n) < 0.3
        want = _oracle_update_fish(want, batch, s.weather, night)
        update_fish(s, batch, night)
        bad = np.argwhere(s.fish != want)
        assert bad.size == 0, f"tick {t}: fish differ first at (world, row, col) {tuple(bad[0])}"
    assert east(s.fish) > before + 0.02, (before, east(s.fish))  # the river's current carried fish east


def _plain_uniform(keys: np.ndarray, stream: int, tick: np.ndarray, n: int) -> np.ndarray:
    """The counter-based draws as numpy arithmetic: splitmix64 of (key, stream, tick, index)."""
    m1, m2, gold = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB), np.uint64(0x9E3779B97F4A7C15)

    def mix(x):
        x = x ^ (x >> np.uint64(30))
        x = x * m1
        x = x ^ (x >> np.uint64(27))
        x = x * m2
        return x ^ (x >> np.uint64(31))

    with np.errstate(over="ignore"):
        base = mix(keys ^ mix(tick.astype(np.uint64) * gold + np.uint64(stream) * m1))
        bits = mix(base[:, None] ^ (np.arange(1, n + 1, dtype=np.uint64) * m2)[None, :])
    return (bits >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def test_draws_match_the_plain_hash():
    from sim import rng

    keys = rng.world_keys(list(range(50)) + [2**40, 7])
    tick = np.random.default_rng(1).integers(-1, 10**6, keys.size)
    for stream in (rng.STREAM_WEATHER, rng.STREAM_BITE, rng.STREAM_RESET):
        assert np.array_equal(rng.uniform(keys, stream, tick, 13), _plain_uniform(keys, stream, tick, 13))
