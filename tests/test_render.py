"""The numpy renderer: shapes, purity (same state, same picture), and that it shows what changed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim import terrain as T
from sim import weather as W
from sim.core import Simulation
from sim.fishers import CAST
from sim.render import draw_scene, render_ansi, render_rgb
from sim.scene import night_at, scene_of
from sim.tiles import TERRAIN_CHARS

CELL = 8


@pytest.fixture
def sim() -> Simulation:
    return Simulation("lake", n_fishers=3, seeds=[4], respawn=True)


def cell_of(img: np.ndarray, row: int, col: int, cell: int = CELL) -> np.ndarray:
    return img[row * cell:(row + 1) * cell, col * cell:(col + 1) * cell]


def changed_cells(a: np.ndarray, b: np.ndarray, cell: int = CELL) -> set[tuple[int, int]]:
    diff = (a != b).any(axis=2)
    rows, cols = np.nonzero(diff)
    return set(zip((rows // cell).tolist(), (cols // cell).tolist(), strict=True))


def place(sim: Simulation, fisher: int, row: int, col: int, facing: int) -> None:
    s = sim.state
    s.row[0, fisher], s.col[0, fisher], s.facing[0, fisher] = row, col, facing


def cast_line(sim: Simulation) -> tuple[int, int]:
    """Fisher 0 (on the shore at (3, 8), facing south) casts; the line lies 2 cells out, no bite."""
    s = sim.state
    s.weather[:] = W.CLEAR  # no storm may sweep the line during the cast's tick
    s.change_at[:] = s.tick + 100
    sim.step(np.array([[CAST, 0, 0]]))
    assert s.line[0, 0]
    lr, lc = int(s.line_row[0, 0]), int(s.line_col[0, 0])
    assert (lr, lc) == (5, 8)
    s.bite[0, 0] = 0
    return lr, lc


def test_rgb_shape_and_dtype(sim):
    h, w = sim.batch.worlds[0].shape
    for cell in (1, 3, CELL, 16):
        img = render_rgb(sim, 0, cell)
        assert img.shape == (h * cell, w * cell, 3) and img.dtype == np.uint8
    assert render_rgb(sim).shape == (h * 16, w * 16, 3)


def test_rgb_is_a_pure_function_of_state(sim):
    rng = np.random.default_rng(0)
    for _ in range(40):
        sim.step(rng.integers(0, 8, (1, 3)))
    before = sim.state.copy()
    a = render_rgb(sim, 0, CELL)
    b = render_rgb(sim, 0, CELL)
    assert np.array_equal(a, b)
    for f in dataclasses.fields(before):  # rendering changes no state
        assert np.array_equal(getattr(before, f.name), getattr(sim.state, f.name)), f.name
    # a copy of the state in another simulation gives the same picture
    other = Simulation("lake", n_fishers=3, seeds=[99], respawn=True)
    other.state = sim.state.copy()
    assert np.array_equal(render_rgb(other, 0, CELL), a)


def test_rgb_changes_only_where_a_fisher_moved(sim):
    s = sim.state
    s.line[:] = False
    place(sim, 0, 0, 1, 0)
    place(sim, 1, 14, 20, 0)
    place(sim, 2, 14, 18, 0)
    a = render_rgb(sim, 0, CELL)
    s.col[0, 0] = 2  # fisher 0 steps east onto land
    b = render_rgb(sim, 0, CELL)
    assert changed_cells(a, b) == {(0, 1), (0, 2)}
    # the fisher's square sits on the new cell; the old cell is bare terrain again
    s.alive[0, :] = False
    bare = render_rgb(sim, 0, CELL)
    assert np.array_equal(cell_of(b, 0, 1), cell_of(bare, 0, 1))
    assert not np.array_equal(cell_of(b, 0, 2), cell_of(bare, 0, 2))


def test_rgb_facing_mark_and_line(sim):
    s = sim.state
    place(sim, 0, 3, 8, 1)  # on the shore, facing south over the lake
    place(sim, 1, 14, 20, 0)
    place(sim, 2, 14, 18, 0)
    a = render_rgb(sim, 0, CELL)
    s.facing[0, 0] = 2
    assert changed_cells(a, render_rgb(sim, 0, CELL)) == {(3, 8)}
    s.facing[0, 0] = 1
    lr, lc = cast_line(sim)
    waiting = render_rgb(sim, 0, CELL)
    s.line[0, 0] = False
    no_line = render_rgb(sim, 0, CELL)
    assert {(r, 8) for r in range(3, lr + 1)} <= changed_cells(waiting, no_line)
    s.line[0, 0] = True
    s.bite[0, 0] = 2
    biting = render_rgb(sim, 0, CELL)
    assert changed_cells(waiting, biting) == {(lr, lc)}
    # brighter when a bite shows
    assert cell_of(biting, lr, lc).astype(int).sum() > cell_of(waiting, lr, lc).astype(int).sum()


def test_rgb_weather_and_night_tint(sim):
    s = sim.state
    s.alive[:] = False
    s.tick[:] = 10  # daylight
    s.cloud[:] = 0.1
    s.weather[:] = W.CLEAR
    clear = render_rgb(sim, 0, CELL).astype(float).mean()
    s.weather[:] = W.STORM
    storm = render_rgb(sim, 0, CELL).astype(float).mean()
    s.weather[:] = W.CLEAR
    s.tick[:] = int(sim.batch.p.time_day_length[0]) - 1  # the last tick of the day is night
    assert W.is_night(s, sim.batch)[0]
    night = render_rgb(sim, 0, CELL).astype(float).mean()
    assert storm < clear and night < clear


def test_rgb_picks_the_world_of_a_batch():
    sim = Simulation(["lake", "lake"], n_fishers=2, seeds=[1, 2])
    assert not np.array_equal(sim.state.row[0], sim.state.row[1]) or \
        not np.array_equal(sim.state.col[0], sim.state.col[1])
    assert not np.array_equal(render_rgb(sim, 0, CELL), render_rgb(sim, 1, CELL))
    alone = Simulation("lake", n_fishers=2, seeds=[2])
    assert np.array_equal(render_rgb(sim, 1, CELL), render_rgb(alone, 0, CELL))


def test_bad_arguments(sim):
    with pytest.raises(ValueError, match="world"):
        render_rgb(sim, 1)
    with pytest.raises(ValueError, match="cell"):
        render_rgb(sim, 0, 0)
    with pytest.raises(ValueError, match="world"):
        render_ansi(sim, -1)


def test_ansi_one_line_per_row(sim):
    text = render_ansi(sim)
    h, w = sim.batch.worlds[0].shape
    assert isinstance(text, str)
    lines = text.split("\n")
    assert len(lines) == h and all(len(line) == w for line in lines)
    s = sim.state
    for f in range(sim.n_fishers):
        if s.alive[0, f]:
            assert lines[s.row[0, f]][s.col[0, f]] == str(f)
    terrain = sim.batch.terrain[0]
    occupied = {(int(r), int(c)) for r, c in zip(s.row[0], s.col[0], strict=True)}
    for r in range(h):
        for c in range(w):
            if (r, c) not in occupied:
                assert lines[r][c] == TERRAIN_CHARS[terrain[r, c]]
    assert (terrain == T.SHELTER).sum() == text.count("H")


def test_ansi_shows_the_bobber_and_bite(sim):
    s = sim.state
    place(sim, 0, 3, 8, 1)
    place(sim, 1, 14, 20, 0)
    place(sim, 2, 14, 18, 0)
    lr, lc = cast_line(sim)
    assert render_ansi(sim).split("\n")[lr][lc] == "o"
    s.bite[0, 0] = 2
    assert render_ansi(sim).split("\n")[lr][lc] == "!"


# --- one drawing path: a Scene from a live simulation or from a recorded frame -------------------

def test_a_recorded_frame_draws_like_the_live_state(tmp_path):
    """Playback and export (a recorded frame) show exactly what the env's rgb_array showed.

    Two things the live state cannot show are left out of the comparison: the marks of past
    events (a state holds no events; see the next test), and ripples between fish snapshots
    (the file keeps the fish every `fish_every` ticks, so this recording keeps every tick's)."""
    from sim.record import EpisodeRecorder, load_episode
    from sim.scene import scene_of_episode

    sim = Simulation("lake", n_fishers=3, seeds=[7])
    rec = EpisodeRecorder(sim, fish_every=1)
    rec.capture_initial()
    live = [render_rgb(sim, 0, CELL)]
    rng = np.random.default_rng(1)
    for _ in range(120):  # long enough for clouds, rain and a night at the lake's day length
        actions = rng.integers(0, 8, (1, 3))
        rec.record(actions, sim.step(actions))
        live.append(render_rgb(sim, 0, CELL))
    ep = load_episode(rec.save(tmp_path / "ep.npz"))
    for i in range(0, ep.n_frames, 7):
        assert np.array_equal(draw_scene(scene_of_episode(ep, i, marks=False), CELL), live[i]), i


def test_night_at_follows_the_step_function(sim):
    p = sim.batch.p
    for tick in range(0, 400, 3):
        sim.state.tick[:] = tick
        assert night_at(tick, int(p.time_day_length[0]), float(p.time_night_fraction[0])) == \
            bool(W.is_night(sim.state, sim.batch)[0])


@pytest.mark.parametrize("weather", [W.CLEAR, W.RAIN, W.STORM])
def test_a_window_is_that_part_of_the_whole_picture(sim, weather):
    rng = np.random.default_rng(2)
    for _ in range(30):
        sim.step(rng.integers(0, 8, (1, 3)))
    sim.state.weather[:] = weather
    scene = scene_of(sim)
    whole = draw_scene(scene, CELL)
    for r0, c0, r1, c1 in [(0, 0, 16, 22), (2, 3, 9, 12), (5, 0, 16, 4), (0, 18, 3, 22)]:
        part = draw_scene(scene, CELL, window=(r0, c0, r1, c1))
        assert np.array_equal(part, whole[r0 * CELL:r1 * CELL, c0 * CELL:c1 * CELL])
    with pytest.raises(ValueError, match="window"):
        draw_scene(scene, CELL, window=(0, 0, 17, 22))


def test_the_rain_streaks_drift_and_repeat(sim):
    """Rain moves with the tick and its pattern repeats (what lets its masks be cached)."""
    s = sim.state
    s.alive[:] = False
    s.weather[:] = W.RAIN
    s.tick[:] = 10
    a = render_rgb(sim, 0, CELL)
    s.tick[:] = 11
    assert not np.array_equal(a, render_rgb(sim, 0, CELL))
    s.tick[:] = 10 + 36  # the rain pattern's period in ticks (4 x its streak spacing of 9), still day
    assert not W.is_night(s, sim.batch)[0]
    assert np.array_equal(a, render_rgb(sim, 0, CELL))


def test_an_overlay_washes_cells_under_the_fishers(sim):
    s = sim.state
    place(sim, 0, 3, 8, 1)
    scene = scene_of(sim)
    h, w = scene.terrain.shape
    plain = draw_scene(scene, CELL)
    wash = np.zeros((h, w, 4), np.uint8)
    assert np.array_equal(draw_scene(scene, CELL, overlay=wash), plain)  # transparent: no change
    wash[5, 8] = (255, 0, 0, 255)
    wash[3, 8] = (255, 0, 0, 255)  # under fisher 0
    washed = draw_scene(scene, CELL, overlay=wash)
    assert changed_cells(plain, washed) == {(5, 8), (3, 8)}
    assert (cell_of(washed, 5, 8)[1:-2, 1:-2] == (255, 0, 0)).all()
    # the fisher stays on top of the wash
    mid = CELL // 2
    assert np.array_equal(cell_of(washed, 3, 8)[mid, mid], cell_of(plain, 3, 8)[mid, mid])
    assert s.alive[0, 0]
    with pytest.raises(ValueError, match="overlay"):
        draw_scene(scene, CELL, overlay=wash[:-1])


# --- glyphs, ripples, event marks and the front ---------------------------------------------------

def test_rock_and_shelter_differ_in_shape_not_only_in_colour():
    """Told apart in grey too: the tiles' brightness patterns are far from each other and from land's."""
    from sim.tiles import tile_atlas as _atlas

    tiles = _atlas(16)[:, 0].mean(axis=-1)  # grey

    def corr(a: int, b: int) -> float:
        x, y = tiles[a].ravel(), tiles[b].ravel()
        return float(np.corrcoef(x - x.mean(), y - y.mean())[0, 1])

    assert corr(T.ROCK, T.SHELTER) < 0.5
    for kind in (T.ROCK, T.SHELTER, T.REEDS, T.DEEP):
        assert tiles[kind].std() > 8, kind  # a glyph, not a flat square
    assert abs(tiles[T.DEEP].mean() - tiles[T.SHALLOW].mean()) > 40  # depth reads as darker water


def test_ripples_show_only_where_a_fisher_sees(sim):
    s = sim.state
    s.line[:] = False
    s.weather[:] = W.CLEAR
    place(sim, 0, 3, 8, 1)  # sees rows 0-6, cols 5-11
    place(sim, 1, 14, 20, 0)
    place(sim, 2, 14, 18, 0)
    s.fish[0] = 0.0
    plain = render_rgb(sim, 0, CELL)
    ref = float(sim.batch.p.fish_density_ref[0])
    s.fish[0, 5, 8] = s.fish[0, 7, 12] = 3 * ref  # full ripples in view, and out of every view
    water = (T.SHALLOW, T.DEEP)
    assert sim.batch.terrain[0, 7, 12] in water and sim.batch.terrain[0, 5, 8] in water
    assert changed_cells(plain, render_rgb(sim, 0, CELL)) == {(5, 8)}
    place(sim, 1, 9, 14, 0)  # now a fisher sees (7, 12) too
    moved = render_rgb(sim, 0, CELL)
    s.fish[0, 7, 12] = 0.0
    assert (7, 12) in changed_cells(moved, render_rgb(sim, 0, CELL))


def test_event_marks_float_up_where_it_happened_and_fade():
    """A catch is marked at the fisher for its MARKS ticks, then gone; a starvation at the
    place the fisher died, even when its slot holds a newcomer elsewhere."""
    from sim.events import EVENTS
    from sim.record import load_episode
    from sim.scene import event_marks, scene_of_episode
    from sim.tiles import MARKS

    names = [name for name, _, _ in MARKS]
    ep = load_episode(_data_dir() / "pier_episode.npz")
    i, f = (int(v[0]) for v in np.nonzero(ep.event_mask("catch")))
    r, c = int(ep.row[i - 1, f]), int(ep.col[i - 1, f])
    ticks = MARKS[names.index("catch")][2]
    for k in range(ticks + 1):
        marks = scene_of_episode(ep, i + k).marks.tolist()
        assert ([names.index("catch"), r, c, k] in marks) == (k < ticks), k
    # drawn over the upper right of its cell, rising a little each tick
    cell = 16
    scene = dataclasses.replace(scene_of_episode(ep, i, marks=False), alive=np.zeros(3, bool))
    plain = draw_scene(scene, cell)
    tops = []
    for age in range(ticks):
        mark = np.array([[names.index("catch"), 2, 3, age]], np.int32)
        marked = draw_scene(dataclasses.replace(scene, marks=mark), cell)
        rows, cols = np.nonzero((marked != plain).any(axis=2))
        assert rows.size > 20 and 3 * cell <= cols.min() and cols.max() < 5 * cell
        assert cell <= rows.min() and rows.max() < 3 * cell
        tops.append(int(rows.min()))
    assert tops == sorted(tops, reverse=True) and tops[0] > tops[-1]
    # starvation: marked where the fisher was before the step it starved in
    events = np.zeros((2, 1), np.int64)
    events[1, 0] = 1 << EVENTS.index("starved")
    rows, cols = np.array([[9], [4]]), np.array([[9], [5]])
    assert event_marks(events, rows, cols, rows, cols, EVENTS).tolist() == [[names.index("starved"), 4, 5, 1]]


def _data_dir():
    from helpers import TINY_DIR

    return TINY_DIR.parent / "viz"


def test_the_front_sweeps_in_as_it_nears(sim):
    from sim.tiles import FRONT_SHOWN

    s = sim.state
    s.alive[:] = False
    s.weather[:] = W.CLOUDY
    base = dataclasses.replace(scene_of(sim), front_to=W.STORM)
    width = base.terrain.shape[1] * CELL
    plain = draw_scene(base, CELL)

    def washed_columns(front_in: int) -> int:
        img = draw_scene(dataclasses.replace(base, front_in=front_in), CELL, show_front=True)
        return int((img != plain).any(axis=(0, 2)).sum())

    assert washed_columns(-1) == 0 and washed_columns(FRONT_SHOWN + 1) == 0
    far, half, near = washed_columns(FRONT_SHOWN), washed_columns(FRONT_SHOWN // 2), washed_columns(2)
    assert far < 8 < half < near
    assert abs(half - width / 2) < 8 and near > 0.9 * width
    assert np.array_equal(draw_scene(dataclasses.replace(base, front_in=5), CELL), plain)  # only if asked


def test_a_window_holds_the_front_as_that_part_of_the_whole(sim):
    from sim.tiles import FRONT_SHOWN

    scene = dataclasses.replace(scene_of(sim), front_in=FRONT_SHOWN // 3, front_to=W.RAIN)
    whole = draw_scene(scene, CELL, show_front=True)
    for r0, c0, r1, c1 in [(0, 0, 16, 22), (2, 3, 9, 12), (5, 0, 16, 4), (0, 18, 3, 22)]:
        part = draw_scene(scene, CELL, window=(r0, c0, r1, c1), show_front=True)
        assert np.array_equal(part, whole[r0 * CELL:r1 * CELL, c0 * CELL:c1 * CELL])


def test_a_sheltered_fisher_is_drawn_under_the_roof(sim):
    """Sheltering shows: over a fisher inside a shelter the hut's roof is drawn again."""
    from sim.tiles import sprite_masks as _sprites

    s = sim.state
    s.line[:] = False
    rows, cols = np.nonzero(sim.batch.terrain[0] == T.SHELTER)
    r, c = int(rows[0]), int(cols[0])
    place(sim, 1, 14, 20, 0)
    place(sim, 2, 14, 18, 0)
    s.alive[0, 0] = False
    hut = cell_of(render_rgb(sim, 0, 16), r, c, 16)
    s.alive[0, 0] = True
    place(sim, 0, r, c, 1)
    inside = cell_of(render_rgb(sim, 0, 16), r, c, 16)
    roof = _sprites(16)["roof"]
    assert np.array_equal(inside[roof], hut[roof])  # the roof is whole
    assert not np.array_equal(inside, hut)  # and the fisher shows below it
