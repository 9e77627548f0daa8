"""Invariants of the world under random play (hypothesis), and determinism inside a batch.

Each hypothesis test keeps its examples small (a few fishers, at most ~120 ticks) so the
whole file runs in well under 30 s. The worlds: the shipped lake, and the tiny, busy
pier world of tests/data/worlds_tiny (storms, bites, meals and deaths within a few
dozen ticks), so the invariants are exercised where things actually happen.
"""

from __future__ import annotations

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
from worlds.loader import WORLDS_DIR, list_worlds, load_world

WORLDS = {"lake": load_world("lake"), "pier": pier_file_world()}
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# a map larger than the lake, so that batching it with the lake pads the lake
_LAKE_ROWS = (WORLDS_DIR / "lake" / "map.txt").read_text().split()
BIG_MAP = "\n".join([row + "...." for row in _LAKE_ROWS] + ["." * (len(_LAKE_ROWS[0]) + 4)] * 6)


@st.composite
def plays(draw, max_ticks: int = 120):
    """A world, a seed, a fisher count, cohort or respawn, and an action sequence (T, F)."""
    name = draw(st.sampled_from(sorted(WORLDS)))
    seed = draw(st.integers(0, 2**32 - 1))
    n_fishers = draw(st.integers(1, 3))
    respawn = draw(st.booleans())
    ticks = draw(st.integers(1, max_ticks))
    flat = draw(st.lists(st.integers(0, N_ACTIONS - 1), min_size=ticks * n_fishers,
                         max_size=ticks * n_fishers))
    return name, seed, n_fishers, respawn, np.array(flat, dtype=np.int64).reshape(ticks, 1, n_fishers)


@SETTINGS
@given(plays())
def test_invariants_hold_under_random_play(play):
    name, seed, n_fishers, respawn, actions = play
    sim = Simulation(WORLDS[name], n_fishers, seeds=[seed], respawn=respawn)
    p = sim.batch.p
    walkable = np.isin(sim.batch.terrain[0], T.WALKABLE)
    water = sim.batch.water[0]
    h, w = WORLDS[name].shape
    for a in actions:
        hunger_before, alive_before = sim.state.hunger.copy(), sim.state.alive.copy()
        result = sim.step(a)
        s, ev = sim.state, result.events
        ate = has(ev, "ate")
        # hunger stays in [0, 1]; fish are never negative (and live only on water)
        assert ((s.hunger >= 0) & (s.hunger <= 1)).all()
        assert (s.fish >= 0).all() and np.isfinite(s.fish).all()
        assert (s.fish[0][~water] == 0).all()
        # reward is eating, nothing else: non-zero exactly where "ate" is set, and then a meal's worth
        assert np.array_equal(result.reward != 0, ate)
        assert (result.reward[ate] == p.fishing_meal_reward[0]).all()
        # no alive fisher stands on water or off the map
        rows, cols = s.row[s.alive], s.col[s.alive]
        assert ((rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)).all()
        assert walkable[rows, cols].all()
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
        # hunger rises by rate (x storm_multiplier when exposed) unless the fisher ate or a new one came
        stormy = s.weather[0] == W.STORM
        exposed = stormy & ~sim.ground_truth()["sheltered"]
        rate = p.hunger_rate[:, None] * np.where(exposed, p.hunger_storm_multiplier[:, None], 1.0)
        plain = alive_before & ~ate & ~has(ev, "spawned")
        expected = np.minimum(hunger_before + rate, 1.0)
        assert np.allclose(s.hunger[plain], expected[plain], rtol=0, atol=1e-12)
        obs = sim.observe()
        assert obs.shape == (1, n_fishers, OBS_SIZE)
        assert np.isfinite(obs).all() and (np.abs(obs) <= 1).all()


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
