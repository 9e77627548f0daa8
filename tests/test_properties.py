"""Invariants of the world under random play (hypothesis), and determinism inside a batch.

The invariants the rules promise, checked after every tick of random play:

- hunger stays in [0, 1] and rises by exactly the rate (x storm_multiplier when exposed to a
  storm) unless the fisher ate or is new; a cohort's dead stay dead, a respawning world is full;
- reward is eating, nothing else: non-zero exactly on "ate", and then one meal's reward;
- events follow the actions that cause them; inventories stay in [0, inventory_max];
- living fishers stand on walkable cells of the map as it is now (tides move the shore);
  a line out lies on water as it is now; a bite shows only on a line that is out;
- fish are finite, never negative, and live only on water as it is now;
- a world's fish together never exceed S* = C (1 + sqrt(1 + 4 i / r)) / 2, C the sum of the
  capacities, r the regrowth, i the immigration (S* = C without immigration): movement and the
  current move fish without making any, catches take them, and by Cauchy-Schwarz the logistic
  growth of all cells together is at most r S (1 - S / C), whose fixed point with i C added is
  S*. A single cell has no such bound relative to its own capacity: the depth preference and
  the current gather fish by design (up to 2.3x a cell's capacity in the river), and cells of
  capacity 0 carry fish through (see the strict xfail below);
- the weather is one of four states; barometer and clouds stay in [0, 1]; the tick counts up;
- observations keep one shape, finite and within [-1, 1].

The worlds: every shipped world (tides on the coast, the current in the river, ice, the mirror),
generated worlds from any seed, and the tiny, busy pier world of tests/data/worlds_tiny
(storms, bites, meals and deaths within a few dozen ticks). The default suite runs 30 examples
of at most 120 ticks; `pytest -m slow` runs 1,000 examples of up to 400 ticks and 60 long runs
of up to 5,000 ticks.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from helpers import pier_file_world, tiny_world
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import terrain as T
from sim import weather as W
from sim.core import Simulation
from sim.events import BIT, has
from sim.fishers import CAST, EAT, N_ACTIONS, REEL
from sim.observe import OBS_SIZE
from sim.tide import terrain_now
from worlds.loader import WORLDS_DIR, World, list_worlds, load_world

WORLDS = {"lake": load_world("lake"), "pier": pier_file_world()}
POOL = sorted([*list_worlds(), "pier", "generated"])
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONG = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# a map larger than the lake, so that batching it with the lake pads the lake
_LAKE_ROWS = (WORLDS_DIR / "lake" / "map.txt").read_text().split()
BIG_MAP = "\n".join([row + "...." for row in _LAKE_ROWS] + ["." * (len(_LAKE_ROWS[0]) + 4)] * 6)


@functools.cache
def world_of(name: str, seed: int = 0) -> World:
    """A world of the pool ("generated" takes the seed)."""
    if name == "pier":
        return WORLDS["pier"]
    return load_world(f"generated:{seed}" if name == "generated" else name)


def fish_bound(world: World, capacity: np.ndarray) -> float:
    """S*: the most fish the world can hold together (see the module docstring)."""
    total, r, i = float(capacity.sum()), world.params.fish.regrowth, world.params.fish.immigration
    if i == 0:
        return total
    assert r > 0, "the loader refuses immigration without regrowth"
    return total * (1 + math.sqrt(1 + 4 * i / r)) / 2


def _setting(draw, max_ticks: int, names: tuple[str, ...]) -> tuple[World, int, int, bool, int]:
    """A world of `names`, a seed, a fisher count, cohort or respawn, and a number of ticks."""
    name = draw(st.sampled_from(sorted(names)))
    world = world_of(name, draw(st.integers(0, 10_000)) if name == "generated" else 0)
    return (world, draw(st.integers(0, 2**32 - 1)), draw(st.integers(1, 3)), draw(st.booleans()),
            draw(st.integers(1, max_ticks)))


@st.composite
def plays(draw, max_ticks: int = 120, names: tuple[str, ...] = ("lake", "pier")):
    """A world, a seed, a fisher count, cohort or respawn, and an action sequence (T, 1, F), drawn
    action by action (hypothesis can shrink it)."""
    world, seed, n_fishers, respawn, ticks = _setting(draw, max_ticks, names)
    flat = draw(st.lists(st.integers(0, N_ACTIONS - 1), min_size=ticks * n_fishers,
                         max_size=ticks * n_fishers))
    return world, seed, n_fishers, respawn, np.array(flat, dtype=np.int64).reshape(ticks, 1, n_fishers)


@st.composite
def long_plays(draw, max_ticks: int, names: tuple[str, ...]):
    """Like `plays`, for runs too long to draw action by action: the actions come from a drawn seed
    and a drawn preference over the actions (a fisher that mostly casts and waits, one that mostly
    walks, ...), so long runs reach the states that patient or restless play leads to."""
    world, seed, n_fishers, respawn, ticks = _setting(draw, max_ticks, names)
    weights = np.array(draw(st.lists(st.integers(0, 5), min_size=N_ACTIONS, max_size=N_ACTIONS)), float)
    weights += 0.01
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    actions = rng.choice(N_ACTIONS, size=(ticks, 1, n_fishers), p=weights / weights.sum())
    return world, seed, n_fishers, respawn, actions.astype(np.int64)


def check_play(world: World, seed: int, n_fishers: int, respawn: bool, actions: np.ndarray) -> None:
    """Step a simulation of `world` through `actions` (T, 1, F), checking every invariant each tick."""
    sim = Simulation(world, n_fishers, seeds=[seed], respawn=respawn)
    p = sim.batch.p
    h, w = world.shape
    bound = fish_bound(world, sim.batch.capacity[0]) * (1 + 1e-9)
    for a in actions:
        hunger_before, alive_before = sim.state.hunger.copy(), sim.state.alive.copy()
        lives_before, tick_before = sim.state.lives.copy(), int(sim.state.tick[0])
        result = sim.step(a)
        s, ev = sim.state, result.events
        ate = has(ev, "ate")
        terrain = terrain_now(s, sim.batch, 0)[:h, :w]
        walkable, water = np.isin(terrain, T.WALKABLE), np.isin(terrain, T.WATER)
        # hunger stays in [0, 1]; fish are finite, never negative, only on water as it is now
        assert ((s.hunger >= 0) & (s.hunger <= 1)).all()
        fish = s.fish[0][:h, :w]
        assert (fish >= 0).all() and np.isfinite(fish).all()
        assert (fish[~water] == 0).all()
        assert fish.sum() <= bound, f"{fish.sum()} fish, more than the bound {bound}"
        # reward is eating, nothing else: non-zero exactly where "ate" is set, and then a meal's worth
        assert np.array_equal(result.reward != 0, ate)
        assert (result.reward[ate] == p.fishing_meal_reward[0]).all()
        # no alive fisher stands on water or off the map; lines lie on water; bites only on lines
        rows, cols = s.row[s.alive], s.col[s.alive]
        assert ((rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)).all()
        assert walkable[rows, cols].all()
        assert water[s.line_row[s.line], s.line_col[s.line]].all()
        assert not ((s.bite > 0) & ~s.line).any()
        # events follow the actions that cause them
        assert not (ate & (a != EAT)).any()
        assert not (has(ev, "catch") & (a != REEL)).any()
        assert not (has(ev, "cast") & (a != CAST)).any()
        assert ((s.inventory >= 0) & (s.inventory <= p.fishing_inventory_max[0])).all()
        # a cohort's dead stay dead; in respawning worlds every slot is always alive
        if respawn:
            assert s.alive.all()
        else:
            assert not (s.alive & ~alive_before).any()
        assert (s.lives >= lives_before).all() and int(s.tick[0]) == tick_before + 1
        # hunger rises by rate (x storm_multiplier when exposed) unless the fisher ate or a new one came
        stormy = s.weather[0] == W.STORM
        exposed = stormy & ~sim.ground_truth()["sheltered"]
        rate = p.hunger_rate[:, None] * np.where(exposed, p.hunger_storm_multiplier[:, None], 1.0)
        plain = alive_before & ~ate & ~has(ev, "spawned")
        expected = np.minimum(hunger_before + rate, 1.0)
        assert np.allclose(s.hunger[plain], expected[plain], rtol=0, atol=1e-12)
        # the weather and its cues
        assert 0 <= int(s.weather[0]) < 4 and 0 <= s.barometer[0] <= 1 and 0 <= s.cloud[0] <= 1
        obs = sim.observe()
        assert obs.shape == (1, n_fishers, OBS_SIZE)
        assert np.isfinite(obs).all() and (np.abs(obs) <= 1).all()


@SETTINGS
@given(plays())
def test_invariants_hold_under_random_play(play):
    check_play(*play)


@SETTINGS
@given(plays(max_ticks=60, names=tuple(POOL)))
def test_invariants_hold_in_every_kind_of_world(play):
    """Tides, the current, ice, the mirror and generated worlds, briefly, in the default suite."""
    check_play(*play)


@pytest.mark.slow
@SLOW
@given(long_plays(max_ticks=400, names=tuple(POOL)))
def test_invariants_hold_in_a_thousand_plays_of_every_kind_of_world(play):
    check_play(*play)


@pytest.mark.slow
@LONG
@given(long_plays(max_ticks=5000, names=("river", "coast", "pond", "generated", "ice")))
def test_invariants_hold_over_long_runs(play):
    """Long runs: several tides and weather cycles, fish stocks fished down and regrown."""
    check_play(*play)


@pytest.mark.xfail(strict=True, reason=(
    "A per-cell bound relative to the cell's own capacity is not a rule: the river's current "
    "piles fish at its downstream end (and the depth preference gathers them in the shallows) "
    "up to 2.3x the stated capacity. The rules keep the world's total bound (checked above)."))
def test_fish_per_cell_stay_within_twice_their_capacity_in_the_river():
    world = load_world("river")
    sim = Simulation(world, 1, seeds=[0])
    capacity = sim.batch.capacity[0]
    water = capacity > 0
    worst = 0.0
    for _ in range(1500):
        sim.step(np.zeros((1, 1), dtype=np.int64))
        worst = max(worst, float((sim.state.fish[0][water] / capacity[water]).max()))
    assert worst <= 2.0, f"a river cell held {worst:.2f}x its capacity"


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n_fishers=st.integers(1, 4), ticks=st.integers(0, 5))
def test_observation_shape_is_identical_across_worlds(seed, n_fishers, ticks):
    worlds = [load_world(n) for n in list_worlds()] + [WORLDS["pier"]]
    shapes = set()
    for world in worlds:
        sim = Simulation(world, n_fishers, seeds=[seed])
        for _ in range(ticks):
            sim.step(np.zeros((1, n_fishers), np.int64))
        obs = sim.observe()
        shapes.add((obs.shape[2], obs.dtype.name))
    assert shapes == {(OBS_SIZE, "float32")}


_TRACKED = ("row", "col", "facing", "alive", "hunger", "inventory", "line", "line_row", "line_col",
            "line_age", "bite", "lives", "lifetime", "meals", "catches")
_TRACKED_WORLD = ("weather", "next_weather", "change_at", "cue_at", "barometer", "cloud", "tick")


def _trajectory(sim: Simulation, index: int, actions: np.ndarray, others: np.ndarray | None,
                shape: tuple[int, int]):
    """Step `sim`; yield world `index`'s per-tick record (its actions from `actions`)."""
    h, w = shape
    for t in range(actions.shape[0]):
        full = others[t].copy() if others is not None else np.zeros((1, actions.shape[1]), np.int64)
        full[index] = actions[t]
        r = sim.step(full)
        s = sim.state
        record = {"reward": r.reward[index], "events": r.events[index], "starved": r.starved[index],
                  "fish": s.fish[index, :h, :w]}
        record.update({k: getattr(s, k)[index] for k in _TRACKED + _TRACKED_WORLD})
        if t % 25 == 0:
            record["obs"] = sim.observe()[index]
        yield {k: np.array(v, copy=True) for k, v in record.items()}


SMALL_MAP = "H:-==\n.:-==\n..:--\n"  # 3 x 5
WIDE_MAP = ".........\n.H..:----\n....:-==-\n....:----\n.........\n"  # 5 x 9


def _pool(target: str) -> list:
    """Other worlds to batch with: different sizes (so padding differs) and rules."""
    small = tiny_world(SMALL_MAP, calm=False, name="small")
    wide = tiny_world(WIDE_MAP, calm=False, name="wide")
    if target == "pier":  # tiny worlds only: 256 of them stay fast
        return [WORLDS["pier"], small, wide]
    return [WORLDS["pier"], WORLDS["lake"], small, tiny_world(BIG_MAP, calm=False, name="big")]


@pytest.mark.parametrize(("target", "n_others", "ticks"), [("pier", 256, 1200), ("lake", 24, 1000)])
def test_a_world_alone_and_inside_a_batch_share_one_trajectory(target, n_others, ticks):
    world = WORLDS[target]
    seed, n_fishers = 20240611, 2
    rng = np.random.default_rng(99)
    actions = rng.integers(0, N_ACTIONS, size=(ticks, n_fishers))
    alone = list(_trajectory(Simulation(world, n_fishers, seeds=[seed]), 0, actions, None, world.shape))

    # the others: other seeds of the same world, other worlds of other sizes (for the lake, one
    # larger than it, so it is padded), and the same world with the same seed under other actions
    pool = _pool(target)
    others = [pool[i % len(pool)] for i in range(n_others)]
    other_seeds = [int(x) for x in rng.integers(0, 2**31, n_others)]
    other_seeds[3] = seed
    others[3] = world
    index = n_others // 2
    worlds = others[:index] + [world] + others[index:]
    seeds = other_seeds[:index] + [seed] + other_seeds[index:]
    batch = Simulation(worlds, n_fishers, seeds=seeds)
    other_actions = rng.integers(0, N_ACTIONS, size=(ticks, len(worlds), n_fishers))
    inside = _trajectory(batch, index, actions, other_actions, world.shape)

    for t, (a, b) in enumerate(zip(alone, inside, strict=True)):
        for key in a:
            assert np.array_equal(a[key], b[key]), f"tick {t}: {key} differs inside the batch"
    # the trajectory was not trivial: lives ended, lines were cast, the weather changed
    events = np.array([r["events"] for r in alone])
    assert (events & BIT["cast"]).any() and (events & BIT["starved"]).any()
    assert len({int(r["weather"]) for r in alone}) > 1


def test_a_reset_world_starts_exactly_like_a_fresh_one():
    world = WORLDS["pier"]
    sim = Simulation([world, WORLDS["lake"]], 2, seeds=[11, 12])
    rng = np.random.default_rng(3)
    for _ in range(60):
        sim.step(rng.integers(0, N_ACTIONS, size=(2, 2)))
    other = sim.state.select([1])
    sim.reset(seeds=[11], idx=[0])
    fresh = Simulation([world, WORLDS["lake"]], 2, seeds=[11, 12]).state
    for key in _TRACKED + _TRACKED_WORLD + ("fish", "keys", "baro_hist"):
        assert np.array_equal(getattr(sim.state, key)[0], getattr(fresh, key)[0]), key
        assert np.array_equal(getattr(sim.state, key)[1], getattr(other, key)[0]), f"{key} of world 1 moved"
