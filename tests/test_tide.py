"""Tides move the shore (DESIGN: coast, "tides change the shore"): sim.tide and its rules."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from helpers import CALM, Scene, events, lake_data, set_path

from sim import terrain as T
from sim.core import Simulation
from sim.record import EpisodeRecorder, load_episode
from sim.tide import low_tide, terrain_now
from worlds.loader import WorldFileError, load_world, world_from_data

# flats '~' between the shore and the water; the tide turns every 5 ticks
BAY = """
..H~-==
..:~-==
...~-==
"""


def bay(period: int = 10, flats: bool = True, **overrides: object):
    data = lake_data()
    data["name"] = "bay"
    for key, value in {**CALM, **overrides}.items():
        set_path(data, key, copy.deepcopy(value))
    data["legend"]["~"] = "flat" if flats else "shallow"
    if period is not None:
        data["tide"] = {"period": period}
    return world_from_data(data, BAY.strip("\n") + "\n", "tests/bay")


def run_to(scene: Scene, tick: int) -> list:
    return [scene.step("wait") for _ in range(tick - int(scene.state.tick[0]))]


def test_the_flats_are_water_at_high_tide_and_shore_at_low_tide():
    scene = Scene(bay())
    s, b = scene.sim.state, scene.sim.batch
    assert terrain_now(s, b, 0)[1, 3] == T.SHALLOW and not low_tide(s.tick, b)[0]
    run_to(scene, 5)
    assert terrain_now(s, b, 0)[1, 3] == T.SHORE and low_tide(s.tick, b)[0]
    run_to(scene, 10)
    assert terrain_now(s, b, 0)[1, 3] == T.SHALLOW


def test_fishers_walk_onto_the_flats_only_when_the_tide_is_out():
    scene = Scene(bay())
    scene.place(0, 1, 2, "E")
    scene.step("east")
    assert scene.pos() == (1, 2)  # water at high tide
    run_to(scene, 5)
    scene.place(0, 1, 2, "E")
    scene.step("east")
    assert scene.pos() == (1, 3)


def test_the_fisher_sees_the_tide():
    scene = Scene(bay())
    scene.place(0, 1, 2, "E")
    high = scene.obs().copy()
    run_to(scene, 5)
    scene.place(0, 1, 2, "E")
    assert not np.array_equal(high, scene.obs())


def test_the_ebb_strands_fish_and_takes_lines_lying_on_the_flats():
    scene = Scene(bay())
    run_to(scene, 4)
    s = scene.state
    assert s.fish[0, :3, 3].sum() > 0
    scene.place(0, 1, 2, "E")
    s.line[0, 0], s.line_row[0, 0], s.line_col[0, 0], s.bite[0, 0] = True, 1, 3, 2
    result = scene.step("wait")  # tick 5: the tide goes out
    assert s.fish[0, :3, 3].sum() == 0
    assert scene.line() is None and s.bite[0, 0] == 0
    assert "line_dropped" in events(result)


def test_the_flood_moves_a_fisher_off_the_flats_and_drops_its_line():
    scene = Scene(bay())
    run_to(scene, 6)
    scene.place(0, 1, 3, "E")
    s = scene.state
    s.line[0, 0], s.line_row[0, 0], s.line_col[0, 0] = True, 1, 4
    results = run_to(scene, 10)  # the tide comes in at tick 10
    assert scene.pos() == (1, 2) or scene.pos() in {(0, 2), (2, 2)}
    assert terrain_now(s, scene.sim.batch, 0)[scene.pos()] in T.WALKABLE
    assert scene.line() is None and "line_dropped" in events(results[-1])


def test_a_tidal_world_runs_the_same_alone_and_in_a_batch():
    ticks = 400
    alone = Simulation("coast", 3, seeds=[11])
    mixed = Simulation(["lake", "coast", "generated:3", "coast"], 3, seeds=[5, 11, 7, 12])
    rng = np.random.default_rng(0)
    for _ in range(ticks):
        a = rng.integers(0, 8, size=(4, 3))
        alone.step(a[1:2])
        mixed.step(a)
    h, w = alone.worlds[0].shape
    np.testing.assert_array_equal(alone.state.fish[0, :h, :w], mixed.state.fish[1, :h, :w])
    assert mixed.state.fish[1, h:].sum() == 0 and mixed.state.fish[1, :, w:].sum() == 0
    for name in ("row", "col", "hunger", "line", "alive", "meals"):
        np.testing.assert_array_equal(getattr(alone.state, name)[0], getattr(mixed.state, name)[1],
                                      err_msg=name)
    np.testing.assert_array_equal(alone.observe()[0], mixed.observe()[1])


def test_coast_has_tides_and_other_worlds_do_not():
    coast = load_world("coast")
    assert coast.params.tide.period > 0 and coast.flats is not None and coast.flats.any()
    assert load_world("lake").flats is None


@pytest.mark.parametrize(("period", "flats", "field", "expected"), [
    (0, True, "tide.period", "need a tide"),
    (None, True, "tide.period", "need a tide"),
    (10, False, "legend", "needs tidal flats"),
    (7, True, "tide.period", "even number"),
])
def test_tide_errors_name_the_field(period, flats, field, expected):
    with pytest.raises(WorldFileError, match=expected) as err:
        bay(period=period, flats=flats)
    assert err.value.field == field


def test_a_flat_out_of_reach_of_dry_land_is_an_error():
    data = lake_data()
    data["name"] = "wide"
    data["legend"]["~"] = "flat"
    data["tide"] = {"period": 10}
    wide = "..~~-=\n..~~-=\n"  # the second column of flats has no dry neighbour
    with pytest.raises(WorldFileError, match="beside dry land") as err:
        world_from_data(data, wide, "tests/wide")
    assert err.value.field == "map row 1 column 4"


def test_recordings_keep_the_tide(tmp_path):
    sim = Simulation("coast", 2, seeds=[3])
    rec = EpisodeRecorder(sim)
    rec.capture_initial()
    for _ in range(170):
        actions = np.zeros((1, 2), dtype=np.int64)
        rec.record(actions, sim.step(actions))
    ep = load_episode(rec.save(tmp_path / "coast.npz"))
    half = load_world("coast").params.tide.period // 2
    np.testing.assert_array_equal(ep.low_tide, (ep.tick // half) % 2 == 1)
    low = int(np.flatnonzero(ep.low_tide)[0])
    assert (ep.terrain_at(low)[ep.flats] == T.SHORE).all()
    assert (ep.terrain_at(0)[ep.flats] == T.SHALLOW).all()


def test_pictures_show_the_tide():
    from sim.render import render_ansi, render_rgb

    scene = Scene(bay())
    high_text, high_img = render_ansi(scene.sim), render_rgb(scene.sim, cell=4)
    run_to(scene, 5)
    low_text = render_ansi(scene.sim)
    assert [row[3] for row in high_text.splitlines()[:3]] == ["-"] * 3
    assert [row[3] for row in low_text.splitlines()[:3]] == [":"] * 3
    assert not np.array_equal(high_img[:, 12:16], render_rgb(scene.sim, cell=4)[:, 12:16])
