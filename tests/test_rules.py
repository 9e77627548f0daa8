"""The world's rules (DESIGN.md, "The world: rules that must hold"), one test per rule.

Every scene is a tiny non-square map (rows != columns, so a swapped axis shows) built
from the lake's own parameter file with the calm baseline of `helpers.CALM`, plus the
few overrides that make the rule's outcome certain: p_bite = 1 with dense fish forces
a bite, p_bite = 0 forbids one, one weather state forever, exact binary hunger rates.
"""

from __future__ import annotations

import tomllib

import numpy as np
import pytest
from helpers import (
    ACTION,
    FACING,
    PIER,
    TINY_DIR,
    Scene,
    events,
    lake_data,
    only_weather,
    per_weather,
    pier_file_world,
    tiny_world,
)

from sim import terrain as T
from sim import weather as W
from sim.core import Simulation
from sim.events import has
from sim.observe import LAYOUT, OBS_SIZE, SCALARS, VIEW_CHANNELS, VIEW_RADIUS, view_of
from sim.state import TREND_TICKS
from worlds.loader import list_worlds, load_world, override_world, world_from_data
from worlds.schema import WEATHER_STATES

# A bite is certain while the line's cell holds >= 1 fish: chance = p_bite * min(fish / density_ref, 2).
FORCE_BITES = {"fishing.p_bite": 1.0, "fish.density_ref": 1.0}
SHORE = (1, 2)     # PIER: shore cell facing four cells of water to the east
SHELTER = (0, 2)   # PIER: shelter cell with water right to its east
STORM = only_weather("storm")

# 3 rows x 5 columns
SMALL = """
H:-==
.:-==
..:--
"""
# 3 rows x 8 columns: a shallow row beside a deep row, equal capacities
BANDS = """
::::::::
--------
========
"""


# ---------------------------------------------------------------- moving


@pytest.mark.parametrize(("action", "expected"), [("north", (0, 1)), ("south", (2, 1)),
                                                  ("east", (1, 2)), ("west", (1, 0))])
def test_moving_on_land_steps_one_cell_in_compass_direction(action, expected):
    scene = Scene(tiny_world())
    scene.place(0, 1, 1, facing="S")
    scene.step(action)
    assert scene.pos() == expected
    assert scene.facing() == action[0].upper()


@pytest.mark.parametrize(("start", "action", "what"), [
    ((1, 2), "east", "shallow water"),
    ((3, 3), "east", "shallow water"),
    ((0, 2), "east", "water beside the shelter"),
    ((2, 1), "west", "rock"),
    ((0, 0), "north", "the map edge"),
    ((3, 6), "south", "the map edge"),
])
def test_moving_into_water_rock_or_edge_only_turns(start, action, what):
    scene = Scene(tiny_world())
    facing_before = "W" if action != "west" else "E"
    scene.place(0, *start, facing=facing_before)
    scene.step(action)
    assert scene.pos() == start, f"walked into {what}"
    assert scene.facing() == action[0].upper(), f"did not turn to face {what}"


def test_a_fisher_is_never_on_water():
    scene = Scene(tiny_world(), n_fishers=4)
    rng = np.random.default_rng(7)
    walkable = np.isin(scene.sim.batch.terrain[0], T.WALKABLE)
    for _ in range(400):
        scene.sim.step(rng.integers(0, 5, size=(1, 4)))  # wait and the four moves
        s = scene.state
        assert walkable[s.row[0], s.col[0]].all()


@pytest.mark.parametrize("move", ["north", "east"])  # north walks to the shelter; east only turns
def test_moving_drops_the_line(move):
    scene = Scene(tiny_world())
    scene.place(0, *SHORE, facing="E")
    scene.step("cast")
    assert scene.line() is not None
    result = scene.step(move)
    assert scene.line() is None
    assert "line_dropped" in events(result)


# ---------------------------------------------------------------- casting


@pytest.mark.parametrize(("start", "facing", "reach", "landing"), [
    ((1, 2), "E", 1, (1, 3)),
    ((1, 2), "E", 2, (1, 4)),
    ((1, 2), "E", 4, (1, 6)),
    ((1, 2), "E", 9, (1, 6)),   # the map ends: the farthest water cell
    ((2, 2), "E", 3, (2, 3)),   # rock at (2, 4) breaks the water
    ((3, 3), "E", 2, (3, 5)),
    ((2, 2), "N", 2, None),     # (1, 2) north of (2, 2) is shore: nothing to cast on
])
def test_cast_lands_on_the_farthest_unbroken_water_within_reach(start, facing, reach, landing):
    scene = Scene(tiny_world(overrides={"fishing.cast_reach": reach}))
    scene.place(0, *start, facing=facing)
    result = scene.step("cast")
    assert scene.line() == landing
    assert ("cast" in events(result)) == (landing is not None)


@pytest.mark.parametrize("facing", ["N", "S", "W"])
def test_cast_needs_facing_water(facing):
    scene = Scene(tiny_world())
    scene.place(0, *SHORE, facing=facing)  # shelter north, land south and west
    result = scene.step("cast")
    assert scene.line() is None
    assert events(result) == []


def test_no_cast_from_a_shelter():
    scene = Scene(tiny_world(), n_fishers=2)
    scene.place(0, *SHELTER, facing="E")  # water right ahead, but inside the shelter
    scene.place(1, *SHORE, facing="E")    # control: the same cast from the shore
    result = scene.step("cast", "cast")
    assert scene.line(0) is None and "cast" not in events(result, 0)
    assert scene.line(1) == (1, 4) and "cast" in events(result, 1)


# ---------------------------------------------------------------- bites


@pytest.mark.parametrize("settle", [0, 1, 3, 6])
def test_no_bite_before_the_line_has_settled(settle):
    scene = Scene(tiny_world(overrides={**FORCE_BITES, "fishing.settle": settle}))
    scene.place(0, *SHORE, facing="E")
    results = scene.run(["cast"] + ["wait"] * (settle + 2))
    bites = [t for t, r in enumerate(results) if "bite" in events(r)]
    # the cast tick counts as the line's first tick: a certain bite comes `settle` ticks after it
    assert bites[0] == settle


def test_no_bite_when_bites_are_forbidden():
    scene = Scene(tiny_world(overrides={"fishing.p_bite": 0.0, "fishing.settle": 0}))
    scene.place(0, *SHORE, facing="E")
    results = scene.run(["cast"] + ["wait"] * 200)
    assert scene.line() is not None
    assert not any("bite" in events(r) for r in results)


@pytest.mark.parametrize("window", [1, 2, 4])
def test_a_bite_shows_for_bite_window_ticks_then_is_missed(window):
    scene = Scene(tiny_world(overrides={**FORCE_BITES, "fishing.settle": 0,
                                        "fishing.bite_window": window}))
    scene.place(0, *SHORE, facing="E")
    shown, evs = [], []
    for a in ["cast"] + ["wait"] * (window + 1):
        evs.append(events(scene.step(a)))
        shown.append(bool(scene.obs()[LAYOUT["bite"]]))
    assert "bite" in evs[0]
    assert shown[:window] == [True] * window      # the bobber dips for `window` observations
    assert shown[window] is False and "missed" in evs[window]
    assert not any("missed" in e for e in evs[:window])
    assert scene.line() is not None                # a missed bite leaves the line out


@pytest.mark.parametrize("delay", [1, 2, 3])
def test_reeling_in_during_a_bite_lands_the_fish(delay):
    scene = Scene(tiny_world(overrides={**FORCE_BITES, "fishing.settle": 0, "fishing.bite_window": 3}))
    scene.place(0, *SHORE, facing="E", inventory=1)
    scene.step("cast")                              # bite at once (settle 0)
    line = scene.line()
    fish_before = scene.fish_at(*line)
    scene.run(["wait"] * (delay - 1))
    assert scene.obs()[LAYOUT["bite"]] == 1.0
    result = scene.step("reel")
    assert "catch" in events(result)
    assert scene.state.inventory[0, 0] == 2
    assert scene.fish_at(*line) == fish_before - 1.0
    assert scene.line() is None


def test_reeling_in_after_the_bite_window_catches_nothing():
    scene = Scene(tiny_world(overrides={**FORCE_BITES, "fishing.settle": 0, "fishing.bite_window": 2}))
    scene.place(0, *SHORE, facing="E")
    results = scene.run(["cast", "wait", "wait", "reel"])
    assert "missed" in events(results[2])
    assert "reeled_empty" in events(results[3]) and "catch" not in events(results[3])
    assert scene.state.inventory[0, 0] == 0


def test_reeling_in_before_a_bite_wastes_the_cast():
    scene = Scene(tiny_world(overrides={**FORCE_BITES, "fishing.settle": 3}))
    scene.place(0, *SHORE, facing="E", inventory=1)
    scene.step("cast")
    line = scene.line()
    fish_before = scene.fish_at(*line)
    result = scene.step("reel")
    assert events(result) == ["reeled_empty"]
    assert scene.line() is None
    assert scene.state.inventory[0, 0] == 1
    assert scene.fish_at(*line) == fish_before


def test_a_full_bag_releases_the_fish():
    scene = Scene(tiny_world(overrides={**FORCE_BITES, "fishing.settle": 0, "fishing.inventory_max": 1}))
    scene.place(0, *SHORE, facing="E", inventory=1)
    scene.step("cast")
    fish_before = scene.fish_at(*scene.line())
    result = scene.step("reel")
    assert events(result) == ["released"]
    assert scene.state.inventory[0, 0] == 1
    assert scene.fish_at(1, 4) == fish_before


# ---------------------------------------------------------------- eating and reward


def test_eating_is_refused_when_not_hungry_enough():
    scene = Scene(tiny_world(overrides={"hunger.eat_threshold": 0.375}))
    scene.place(0, 1, 1, hunger=0.25, inventory=1)
    result = scene.step("eat")
    assert events(result) == ["refused"]
    assert result.reward[0, 0] == 0.0
    assert scene.state.inventory[0, 0] == 1
    assert scene.state.hunger[0, 0] == 0.25 + 1 / 1024


def test_eating_is_allowed_at_the_threshold_and_needs_a_fish():
    scene = Scene(tiny_world(overrides={"hunger.eat_threshold": 0.375}), n_fishers=2)
    scene.place(0, 1, 1, hunger=0.375, inventory=1)
    scene.place(1, 1, 0, hunger=0.875, inventory=0)
    result = scene.step("eat", "eat")
    assert events(result, 0) == ["ate"]
    assert events(result, 1) == [] and result.reward[0, 1] == 0.0


@pytest.mark.parametrize(("hunger", "after"), [(0.75, 0.25), (0.375, 0.0)])
def test_eating_reduces_hunger_by_meal_and_pays_meal_reward(hunger, after):
    scene = Scene(tiny_world(overrides={"hunger.meal": 0.5, "fishing.meal_reward": 2.5}))
    scene.place(0, 1, 1, hunger=hunger, inventory=2)
    result = scene.step("eat")
    assert events(result) == ["ate"]
    assert result.reward[0, 0] == 2.5
    assert scene.state.inventory[0, 0] == 1
    assert scene.state.hunger[0, 0] == after + 1 / 1024  # then the tick's hunger


def test_reward_is_zero_for_everything_but_a_meal():
    scene = Scene(tiny_world(overrides={**FORCE_BITES, "fishing.settle": 0, "fishing.meal_reward": 2.5}))
    scene.place(0, 1, 1, hunger=0.75, inventory=0)
    plan = ["wait", "north", "south", "east", "west", "east", "cast", "reel",  # the reel lands a fish
            "cast", "wait", "wait", "wait", "reel", "north", "south", "eat"]
    results = scene.run(plan)
    assert "catch" in events(results[7])
    rewards = [float(r.reward[0, 0]) for r in results]
    assert rewards[:-1] == [0.0] * (len(plan) - 1)
    assert events(results[-1]) == ["ate"] and rewards[-1] == 2.5


# ---------------------------------------------------------------- hunger and storms


def test_hunger_rises_by_rate_every_tick():
    scene = Scene(tiny_world(overrides={"hunger.rate": 0.125, "hunger.spawn": [0.0, 0.0]}), n_fishers=2)
    scene.place(0, *SHORE)
    scene.place(1, *SHELTER)
    for k in range(1, 6):
        scene.step("wait", "wait")
        assert scene.state.hunger[0].tolist() == [0.125 * k, 0.125 * k]


def test_storm_multiplies_hunger_only_for_exposed_fishers():
    world = tiny_world(overrides={**STORM, "hunger.rate": 0.125, "hunger.storm_multiplier": 2.0,
                                  "hunger.spawn": [0.0, 0.0]})
    scene = Scene(world, n_fishers=2)
    scene.place(0, *SHORE)     # exposed
    scene.place(1, *SHELTER)   # sheltered
    for k in range(1, 4):
        result = scene.step("wait", "wait")
        assert scene.state.hunger[0, 0] == 0.25 * k
        assert scene.state.hunger[0, 1] == 0.125 * k
        assert events(result, 1) == ["sheltered"]


def test_storm_sweeps_line_and_fish_of_exposed_fishers_only():
    world = tiny_world(overrides={**STORM, "storm.p_lose_line": 1.0, "storm.p_lose_fish": 1.0})
    scene = Scene(world, n_fishers=2)
    scene.place(0, *SHORE, facing="E", inventory=2)
    scene.place(1, *SHELTER, facing="E", inventory=2)
    result = scene.step("cast", "wait")
    assert {"cast", "line_swept", "fish_swept"} <= set(events(result, 0))
    assert scene.line(0) is None and scene.state.inventory[0, 0] == 1
    assert events(result, 1) == ["sheltered"]
    for _ in range(5):
        scene.step("wait", "wait")
    assert scene.state.inventory[0].tolist() == [0, 2]


def test_no_sweep_without_a_storm():
    world = tiny_world(overrides={"storm.p_lose_line": 1.0, "storm.p_lose_fish": 1.0})  # cloudy forever
    scene = Scene(world)
    scene.place(0, *SHORE, facing="E", inventory=2)
    results = scene.run(["cast"] + ["wait"] * 10)
    assert scene.line() is not None and scene.state.inventory[0, 0] == 2
    assert not any({"line_swept", "fish_swept"} & set(events(r)) for r in results)


def test_a_squall_ahead_of_a_storm_sweeps_all_an_exposed_fisher_carries():
    """The last squall_ticks ticks before a storm breaks: an exposed fisher loses its line and
    every fish, and its hunger rises squall_multiplier times faster; a sheltered one is safe;
    before the squall nothing happens, and no storm is on yet (only the cues announce it)."""
    world = tiny_world(overrides={"storm.squall_ticks": 3, "storm.squall_multiplier": 4.0,
                                  "hunger.rate": 0.0625, "hunger.spawn": [0.0, 0.0]})  # cloudy forever
    scene = Scene(world, n_fishers=2)
    scene.place(0, *SHORE, facing="E", inventory=3)
    scene.place(1, *SHELTER, facing="E", inventory=3)
    s = scene.state
    s.next_weather[0], s.change_at[0], s.cue_at[0] = W.STORM, s.tick[0] + 5, s.tick[0]
    scene.step("cast", "wait")
    scene.step("wait", "wait")  # 4 ticks before the storm: not yet
    assert scene.line(0) is not None and s.inventory[0].tolist() == [3, 3]
    assert s.hunger[0].tolist() == [0.125, 0.125]
    result = scene.step("wait", "wait")  # 3 ticks before: the squall
    assert {"line_swept", "fish_swept"} <= set(events(result, 0))
    assert scene.line(0) is None and s.inventory[0].tolist() == [0, 3]
    assert s.hunger[0].tolist() == [0.125 + 0.25, 0.1875]
    assert s.weather[0] != W.STORM and not any("sheltered" in events(result, f) for f in (0, 1))
    scene.step("wait", "wait")
    scene.step("wait", "wait")
    assert s.hunger[0, 0] == pytest.approx(0.125 + 3 * 0.25) and s.weather[0] != W.STORM
    scene.step("wait", "wait")
    assert s.weather[0] == W.STORM


# ---------------------------------------------------------------- starvation and lives

STARVE = {"hunger.rate": 0.25, "hunger.spawn": [0.0, 0.0], "fishing.spawn_inventory": 1}


@pytest.mark.parametrize("respawn", [False, True])
def test_starvation_ends_the_life_on_the_exact_tick(respawn):
    scene = Scene(tiny_world(overrides=STARVE), respawn=respawn)
    scene.place(0, 1, 1, hunger=0.0)
    results = scene.run(["wait"] * 4)  # 0.25, 0.5, 0.75, 1.0
    assert [bool(r.starved[0, 0]) for r in results] == [False, False, False, True]
    assert "starved" in events(results[3])
    assert results[3].final_lifetime[0, 0] == 4


def test_a_dead_fisher_of_a_cohort_stays_dead_and_scores_nothing():
    scene = Scene(tiny_world(overrides=STARVE), n_fishers=2, respawn=False)
    scene.place(0, 1, 1, hunger=0.5, inventory=3)
    scene.place(1, 1, 0, hunger=0.0, inventory=0)
    scene.run(["wait", "wait"])
    assert not scene.state.alive[0, 0]
    pos = scene.pos()
    for _ in range(30):
        result = scene.step("eat", "wait")
        assert result.reward[0, 0] == 0.0 and result.events[0, 0] == 0
        assert not scene.state.alive[0, 0]
    assert scene.state.lives[0, 0] == 1 and scene.state.inventory[0, 0] == 3
    assert scene.pos() == pos
    assert not scene.sim.ground_truth()["alive"][0, 0]


def test_respawn_gives_the_slot_a_new_life():
    world = tiny_world(overrides={**STARVE, "hunger.spawn": [0.125, 0.125]})
    scene = Scene(world, respawn=True)
    scene.place(0, 1, 1, hunger=0.75, inventory=0)
    result = scene.step("wait")
    assert {"starved", "spawned"} <= set(events(result))
    s = scene.state
    assert s.alive[0, 0] and s.lives[0, 0] == 2
    assert s.hunger[0, 0] == 0.125 and s.inventory[0, 0] == 1
    assert s.lifetime[0, 0] == 0 and s.meals[0, 0] == 0 and not s.line[0, 0]
    assert scene.terrain_at(*scene.pos()) in T.SPAWNABLE


def test_starvation_tick_does_not_drift_with_inexact_rates():
    scene = Scene(tiny_world(overrides={"hunger.rate": 0.1, "hunger.spawn": [0.0, 0.0]}))
    scene.place(0, 1, 1, hunger=0.0)
    results = scene.run(["wait"] * 10)
    assert results[-1].starved[0, 0], "hunger rose by 0.1 for 10 ticks from 0 but the fisher lives"


# ---------------------------------------------------------------- fish


def _deplete(n_fishers: int, ticks: int) -> tuple[float, int]:
    world = tiny_world(overrides={"fishing.p_bite": 1.0, "fish.density_ref": 0.5, "fishing.settle": 0})
    scene = Scene(world, n_fishers=n_fishers)
    for f in range(n_fishers):
        scene.place(f, *SHORE, facing="E")  # every line lands on (1, 4)
    scene.state.fish[0, 1, 4] = 4.0
    for t in range(ticks):
        scene.step(*(["cast", "reel"][t % 2],) * n_fishers)
    return scene.fish_at(1, 4), int(scene.state.catches[0].sum())


def test_fishers_share_the_fish_and_two_deplete_a_spot_faster_than_one():
    one_fish, one_catches = _deplete(1, 4)
    two_fish, two_catches = _deplete(2, 4)
    assert (one_fish, one_catches) == (2.0, 2)
    assert (two_fish, two_catches) == (0.0, 4)  # two catches in one tick both count


def test_an_emptied_spot_gives_no_more_bites():
    world = tiny_world(overrides={"fishing.p_bite": 1.0, "fish.density_ref": 0.5, "fishing.settle": 0})
    scene = Scene(world)
    scene.place(0, *SHORE, facing="E")
    scene.state.fish[0, 1, 4] = 0.0
    results = scene.run(["cast"] + ["wait"] * 50)
    assert not any("bite" in events(r) for r in results)


def _bite_hazard(wary_ticks: float, n: int = 4000, eligible: int = 12) -> np.ndarray:
    """Share of still-waiting lines that get a bite on each tick after settling, over n worlds."""
    world = tiny_world(overrides={"fishing.p_bite": 0.5, "fishing.wary_ticks": wary_ticks,
                                  "fishing.settle": 3, "fishing.bite_window": 1})
    sim = Simulation(world, 1, seeds=list(range(n)))
    s = sim.state
    s.row[:, 0], s.col[:, 0], s.facing[:, 0] = SHORE[0], SHORE[1], FACING["E"]
    s.fish[:, 1, 4] = 4.0  # density 1 (density_ref 4): the bite chance is p_bite x decay
    cast, wait = np.full((n, 1), ACTION["cast"]), np.full((n, 1), ACTION["wait"])
    sim.step(cast)
    for _ in range(2):
        sim.step(wait)
    waiting = np.ones(n, dtype=bool)
    hazard = []
    for _ in range(eligible):
        got = has(sim.step(wait).events[:, 0], "bite")
        hazard.append(got[waiting].mean())
        waiting &= ~got
    return np.array(hazard)


def test_fish_grow_wary_of_a_still_line():
    """The bite chance falls by a factor e every wary_ticks a settled line waits; 0 = never."""
    fresh = _bite_hazard(0.0)
    wary = _bite_hazard(5.0)
    assert fresh[:4] == pytest.approx(np.full(4, 0.5), abs=0.06)  # later, few lines are left
    expected = 0.5 * np.exp(-np.arange(12) / 5.0)
    assert wary[:6] == pytest.approx(expected[:6], abs=0.05)
    assert wary[6:].mean() < 0.2


@pytest.mark.parametrize("share", [0.1, 0.25])
def test_a_waiting_line_spooks_the_fish_under_it_to_the_water_beside(share):
    """A settled line without a bite: each tick `spook` of the fish under it swim to the water
    cells beside it, in equal parts (the spot goes quiet; no fish is lost)."""
    world = tiny_world(overrides={"fishing.spook": share, "fishing.settle": 3})
    scene = Scene(world)
    scene.place(0, *SHORE, facing="E")
    scene.state.fish[0] = 0.0
    scene.state.fish[0, 1, 4] = 4.0
    scene.step("cast")
    assert scene.line() == (1, 4)
    for _ in range(2):  # settling (the cast's tick counts): the fish are not yet spooked
        scene.step("wait")
    assert scene.fish_at(1, 4) == 4.0
    scene.step("wait")
    assert scene.fish_at(1, 4) == pytest.approx(4.0 * (1 - share))
    # the water beside (1, 4) in PIER: (0, 4), (1, 3), (1, 5); (2, 4) is rock
    beside = [scene.fish_at(r, c) for r, c in ((0, 4), (1, 3), (1, 5))]
    assert beside == pytest.approx([4.0 * share / 3] * 3)
    assert scene.fish_at(2, 4) == 0.0
    for _ in range(5):
        scene.step("wait")
    assert scene.fish_at(1, 4) == pytest.approx(4.0 * (1 - share) ** 6)
    assert scene.state.fish.sum() == pytest.approx(4.0)


def test_fish_movement_conserves_fish():
    world = tiny_world(BANDS, {"fish.move_rate": 0.3, "fish.preference_strength": 0.9})
    scene = Scene(world)
    total = scene.state.fish.sum()
    for _ in range(100):
        scene.step("wait")
    assert scene.state.fish.sum() == pytest.approx(total, rel=1e-12)


def test_fish_regrow_toward_capacity_after_depletion():
    world = tiny_world(overrides={"fish.regrowth": 0.05, "fish.immigration": 0.001})
    scene = Scene(world)
    capacity = scene.sim.batch.capacity[0]
    water = capacity > 0
    scene.state.fish[0] = 0.0
    previous = scene.state.fish[0].copy()
    for _ in range(600):
        scene.step("wait")
        now = scene.state.fish[0]
        assert (now[water] >= previous[water]).all(), "regrowth from empty is not monotone"
        assert (now[water] <= 1.05 * capacity[water]).all()
        previous = now.copy()
    assert np.allclose(previous[water] / capacity[water], 1.0, atol=0.05)


def test_fish_stay_within_reasonable_bounds_on_the_lake():
    scene = Scene(load_world("lake"), n_fishers=2, seed=3)
    capacity = scene.sim.batch.capacity[0]
    for _ in range(1500):
        scene.step("wait", "wait")
        fish = scene.state.fish[0]
        assert (fish >= 0).all() and np.isfinite(fish).all()
        assert (fish <= 2.0 * capacity).all()
    assert 0.9 <= scene.state.fish.sum() / capacity.sum() <= 1.1


def test_fish_stay_bounded_where_a_kind_of_water_has_capacity_zero():
    world = override_world(load_world("lake"), {"fish.capacity": {"shallow": 0.0, "deep": 4.0, "reeds": 8.0}})
    scene = Scene(world)
    for _ in range(600):
        scene.step("wait")
    assert scene.state.fish.max() <= 2 * 8.0


def _shallow_share(preference: float) -> float:
    world = tiny_world(BANDS, {
        "fish.capacity": {"shallow": 4.0, "deep": 4.0, "reeds": 4.0},
        "fish.move_rate": 0.2, "fish.preference_strength": 0.9, "fish.night_shallow_shift": 0.0,
        "fish.shallow_preference": per_weather(clear=preference, cloudy=preference,
                                               rain=preference, storm=preference),
    })
    scene = Scene(world)
    for _ in range(60):
        scene.step("wait")
    fish = scene.state.fish[0]
    return fish[1].sum() / (fish[1].sum() + fish[2].sum())


def test_fish_move_toward_the_shallows_when_the_preference_says_so():
    to_shallows, to_deep, neutral = _shallow_share(1.0), _shallow_share(-1.0), _shallow_share(0.0)
    assert to_shallows > 0.6 > 0.4 > to_deep
    assert neutral == pytest.approx(0.5, abs=0.02)


# ---------------------------------------------------------------- weather

CLEAR_THEN_STORM = {
    "weather.initial": per_weather(clear=1.0),
    "weather.dwell.clear": [20, 40],
    "weather.lead": [5, 15],
    "weather.next.clear": {"cloudy": 0.0, "rain": 0.0, "storm": 1.0},
}


def test_the_barometer_falls_before_a_change_to_storm():
    world = tiny_world(overrides=CLEAR_THEN_STORM)
    sim = Simulation([world] * 12, 1, seeds=list(range(12)))
    cue_at, change_at = sim.state.cue_at.copy(), sim.state.change_at.copy()
    assert (sim.state.next_weather == W.STORM).all() and (cue_at < change_at).all()
    baro, cloud, weather = [], [], []
    for _ in range(int(change_at.max()) + 1):
        tick = sim.state.tick.copy()
        sim.step(np.zeros((12, 1), np.int64))
        baro.append(sim.state.barometer.copy())
        cloud.append(sim.state.cloud.copy())
        weather.append(np.where(tick < change_at, -1, sim.state.weather))
    baro, cloud = np.array(baro), np.array(cloud)
    calm = world.params.weather.barometer["clear"]
    for b in range(12):
        cue, change = cue_at[b], change_at[b]
        assert (baro[:cue, b] == calm).all(), "the barometer moved before the cue"
        assert baro[change - 1, b] < calm - 0.3, "no clear fall before the storm arrives"
        assert cloud[change - 1, b] > cloud[cue - 1, b] + 0.3, "clouds did not thicken ahead"
        assert weather[change][b] == W.STORM


def test_front_in_counts_down_to_the_front():
    world = tiny_world(overrides=CLEAR_THEN_STORM)
    sim = Simulation(world, 1, seeds=[4])
    change_at = int(sim.state.change_at[0])
    seen = []
    while sim.state.weather[0] == W.CLEAR:
        seen.append(int(sim.ground_truth()["front_in"][0, 0]))
        sim.step(np.zeros((1, 1), np.int64))
    assert seen == list(range(change_at, -1, -1))
    assert sim.ground_truth()["front_in"][0, 0] == W.NO_FRONT  # storm -> anything is no front


@pytest.mark.parametrize("initial", [
    # single states and a file order unlike WEATHER_STATES: before commit 8ac8b43 the loader kept
    # file order and sim/batch.py read the table by position, so all but {"storm": 1} started wrong
    {"clear": 1.0}, {"cloudy": 1.0}, {"rain": 1.0}, {"storm": 1.0},
    {"cloudy": 0.5, "clear": 0.5}, {"storm": 0.5, "rain": 0.5},
])
def test_initial_weather_follows_the_initial_distribution(initial):
    world = tiny_world(overrides={"weather.initial": initial})
    sim = Simulation([world] * 64, 1, seeds=list(range(64)))
    allowed = [WEATHER_STATES.index(s) for s, p in initial.items() if p > 0]
    assert np.isin(sim.state.weather, allowed).all(), \
        f"initial {initial} gave {sorted({WEATHER_STATES[i] for i in sim.state.weather})}"
    if len(allowed) == 2:
        assert len(set(sim.state.weather.tolist())) == 2


def test_the_lake_starts_in_the_weather_its_file_says():
    lake = load_world("lake")
    allowed = [WEATHER_STATES.index(s) for s, p in lake.params.weather.initial.items() if p > 0]
    sim = Simulation([lake] * 64, 1, seeds=list(range(64)))
    assert np.isin(sim.state.weather, allowed).all()


def test_the_barometer_trend_compares_with_trend_ticks_ago():
    world = tiny_world(overrides=CLEAR_THEN_STORM)
    sim = Simulation(world, 1, seeds=[0])
    history = [float(sim.state.barometer[0])]
    for _ in range(int(sim.state.change_at[0]) + 10):
        sim.step(np.zeros((1, 1), np.int64))
        history.append(float(sim.state.barometer[0]))
        trend = float(W.barometer_trend(sim.state)[0])
        if len(history) > TREND_TICKS:
            options = [history[-1] - history[-1 - k] for k in (TREND_TICKS, TREND_TICKS - 1)]
            assert min(abs(trend - o) for o in options) < 1e-12, (trend, options)


# ---------------------------------------------------------------- observation


def test_the_observation_has_the_same_shape_in_every_world():
    worlds = [load_world(n) for n in list_worlds()] + [tiny_world(), tiny_world(SMALL), pier_file_world()]
    for world in worlds:
        obs = Simulation(world, 3, seeds=[1]).observe()
        assert obs.shape == (1, 3, OBS_SIZE) and obs.dtype == np.float32, world.name
    mixed = Simulation(worlds, 2, seeds=list(range(len(worlds)))).observe()
    assert mixed.shape == (len(worlds), 2, OBS_SIZE)


# 9 rows x 14 columns: wider than the 7 x 7 view, with water near the fisher and far from it
WIDE = """
..............
.H..:---====-.
....:-%%====-.
....:--=====-.
....:::::::::.
..............
..^.......:--=
..........:-==
..........:---
"""


def _wide_scene() -> Scene:
    scene = Scene(tiny_world(WIDE))
    scene.place(0, 2, 3, facing="E")  # land: water in view to the east, more water out of view
    return scene


def test_fish_out_of_view_are_not_observed():
    scene = _wide_scene()
    before = scene.obs()
    r, c = scene.pos()
    rows, cols = np.indices(scene.state.fish.shape[1:])
    far = (np.abs(rows - r) > VIEW_RADIUS) | (np.abs(cols - c) > VIEW_RADIUS)
    assert (scene.sim.batch.water[0] & far).sum() > 20 and (scene.sim.batch.water[0] & ~far).sum() > 5
    scene.state.fish[0][far] *= np.random.default_rng(0).uniform(0.0, 3.0, far.sum())
    assert np.array_equal(scene.obs(), before)


def test_fish_in_view_show_only_as_coarse_ripples():
    scene = _wide_scene()
    before = scene.obs()
    water = scene.sim.batch.water[0]
    # ripples are coarse (RIPPLE_LEVELS steps of density, capped): at capacity, 20% more fish
    # stays within every cell's ripple level, so nothing a fisher sees changes
    scene.state.fish[0][water] *= 1.2
    assert np.array_equal(scene.obs(), before)
    scene.state.fish[0][water] = 0.0  # empty water: the ripples go, and nothing else changes
    after = scene.obs()
    changed = np.flatnonzero(view_of(after) != view_of(before)) % len(VIEW_CHANNELS)
    assert changed.size > 0 and set(changed) == {VIEW_CHANNELS.index("ripples")}
    assert np.array_equal(after[LAYOUT["view"].stop:], before[LAYOUT["view"].stop:])


def test_hidden_weather_is_not_observed():
    world = tiny_world(overrides=CLEAR_THEN_STORM)
    sim = Simulation(world, 2, seeds=[5])
    for _ in range(3):
        sim.step(np.zeros((1, 2), np.int64))
    before = sim.observe()
    s = sim.state
    s.weather[0] = W.CLOUDY  # clear and cloudy under the same barometer and clouds look alike
    s.next_weather[0], s.change_at[0], s.cue_at[0] = W.RAIN, s.tick[0] + 1, s.tick[0]
    assert np.array_equal(sim.observe(), before)


def test_the_view_is_egocentric_with_north_up():
    scene = Scene(tiny_world())
    scene.place(0, *SHORE, facing="E")
    view = view_of(scene.obs())  # (VIEW, VIEW, channels), centre = the fisher
    ch = {name: i for i, name in enumerate(VIEW_CHANNELS)}
    k = VIEW_RADIUS
    assert view[k - 1, k, ch["shelter"]] == 1      # shelter one row north
    assert view[k, k + 1, ch["shallow"]] == 1      # water one column east
    assert view[k + 1, k - 2, ch["blocked"]] == 1  # rock at (2, 0): one south, two west
    assert view[k - 2, k, ch["blocked"]] == 1      # off the map, north
    assert view[k, k + 4 - 1, ch["deep"]] == 1     # (1, 5) deep water, three east
    assert view[k, k, ch["ground"]] == 1 and view[k, k, ch["fisher"]] == 0  # not "another fisher"


def test_the_fisher_senses_the_way_to_the_nearest_shelter():
    scene = Scene(tiny_world())
    scene.place(0, 2, 2, facing="W")  # two steps south of the shelter
    obs = scene.obs()
    assert [obs[LAYOUT[f"shelter_{d}"]] for d in ("north", "south", "east", "west")] == [1, 0, 0, 0]
    assert obs[LAYOUT["shelter_distance"]] == pytest.approx(2 / 20)
    assert obs[LAYOUT["facing_west"]] == 1 and obs[LAYOUT["facing_water"]] == 0
    scene.place(0, *SHELTER, facing="E")
    obs = scene.obs()
    assert obs[LAYOUT["in_shelter"]] == 1 and obs[LAYOUT["facing_water"]] == 1
    assert SCALARS[-1] == "hungry_enough"


def test_scenes_build_on_the_loader_and_the_core_conventions():
    """The tiny-world helper goes through the loader, and the scenes' compass matches the core's."""
    pier = TINY_DIR / "pier"
    data = tomllib.loads((pier / "world.toml").read_text())
    world = world_from_data(data, (pier / "map.txt").read_text(), "tests/inline")
    assert world.shape == (4, 7) and world.params == pier_file_world().params
    assert np.array_equal(tiny_world(PIER, calm=False).terrain, world.terrain)
    assert tiny_world().params.fishing.p_bite == 0.0 and lake_data()["name"] == "lake"
    assert [tuple(T.MOVES[FACING[d]]) for d in "NSEW"] == [(-1, 0), (1, 0), (0, 1), (0, -1)]


def test_a_current_carries_fish_downstream():
    """The river's rule: with a current east, fish pile up at the east end; without, they do not."""
    from sim.core import Simulation
    from worlds.loader import load_world, override_world

    river = load_world("river")
    still = override_world(river, {"fish.current_rate": 0.0})

    def east_share(world):
        sim = Simulation(world, 1, seeds=[0])
        for _ in range(200):
            sim.step(np.zeros((1, 1), dtype=np.int64))
        fish = sim.state.fish[0]
        return fish[:, fish.shape[1] // 2:].sum() / fish.sum()

    assert east_share(river) > east_share(still) + 0.05
