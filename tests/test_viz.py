"""Playback and export, headless (SDL's dummy driver): scripted keys and mouse, determinism,
a golden image, export frame counts and sizes, and clear errors for bad episode files.

The episode under test is stored (tests/data/viz/pier_episode.npz: the tiny `pier` world,
3 expert fishers, 60 ticks) so that the golden images do not move when the simulation's
rules do. To rebuild it and the golden images after a deliberate change of the drawing:
``VIZ_REGEN_GOLDEN=1 SDL_VIDEODRIVER=dummy python -m pytest tests/test_viz.py -p no:xdist`` (delete
the episode file first to record it anew).
"""

from __future__ import annotations

import os

import numpy as np
import pygame
import pytest
from helpers import TINY_DIR

from sim.record import EpisodeRecorder, load_episode
from sim.render import draw_scene
from sim.scene import scene_of_episode
from viz.hud import Timeline
from viz.playback import Playback, load_track, main
from viz.track import Track
from viz.viewer import Viewer, ViewState

# SDL reads these when a display opens, not at import: headless whatever the caller set up
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

DATA = TINY_DIR.parent / "viz"
EPISODE = DATA / "pier_episode.npz"
GOLDEN_MAP = DATA / "pier_map_frame30.png"
GOLDEN_VIEW = DATA / "pier_view_frame30.png"
REGEN = os.environ.get("VIZ_REGEN_GOLDEN") == "1"
SIZE = (480, 270)


def make_episode(path) -> None:
    """The stored test episode: pier, 3 expert fishers, 60 ticks."""
    from agents.scripted import make_scripted
    from sim.core import Simulation

    sim = Simulation(str(TINY_DIR / "pier"), n_fishers=3, seeds=[5])
    policy = make_scripted("expert", seed=5)
    rec = EpisodeRecorder(sim, policy="scripted:expert", fish_every=2)
    rec.capture_initial()
    for _ in range(60):
        actions = policy.act(sim.observe().reshape(-1, sim.observe().shape[-1])).reshape(1, 3)
        rec.record(actions, sim.step(actions))
    rec.save(path)


@pytest.fixture(scope="module")
def track() -> Track:
    if REGEN and not EPISODE.exists():  # delete it to record it anew
        make_episode(EPISODE)
    return load_track(EPISODE)


@pytest.fixture
def screen():
    pygame.display.init()
    pygame.font.init()
    surface = pygame.display.set_mode((640, 360), pygame.RESIZABLE)
    yield surface
    pygame.display.quit()


def key(k: int, unicode: str = "") -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYDOWN, key=k, mod=0, unicode=unicode, scancode=0)


def drive(viewer: Viewer, screen: pygame.Surface, script: dict[int, list[pygame.event.Event]],
          n_frames: int, dt: float = 1 / 60) -> None:
    """Run the event loop for n_frames with a fixed clock, posting each frame's scripted events
    through SDL's queue (as a person's keys and mouse would arrive)."""
    for frame in range(n_frames):
        for event in script.get(frame, []):
            pygame.event.post(event)
        for event in pygame.event.get():
            viewer.handle_event(event)
        viewer.update(dt)
        viewer.draw(pygame.display.get_surface() or screen)
        pygame.display.flip()


def surface_array(surface: pygame.Surface) -> np.ndarray:
    return np.transpose(pygame.surfarray.array3d(surface), (1, 0, 2)).copy()


def test_the_stored_episode_reads(track):
    ep = load_episode(EPISODE)
    assert track.n_frames == ep.n_frames == 61 and track.n_fishers == 3
    assert track["ate_total"][-1].sum() == ep.event_mask("ate").sum()


def test_playback_follows_a_scripted_session(track, screen, tmp_path):
    pb = Playback(track, shot_dir=tmp_path)
    drive(pb, screen, {}, 1)  # a first frame lays the window out (the timeline's place)
    tl = pb.layout.timeline
    at = lambda frame: (Timeline.x_of(tl, track.n_frames, frame), tl.centery)  # noqa: E731
    script = {
        0: [key(pygame.K_2), key(pygame.K_f), key(pygame.K_w)],
        60: [key(pygame.K_SPACE)],                       # 60 frames at 8 ticks/s: tick 8, then pause
        61: [key(pygame.K_RIGHT)] * 3 + [key(pygame.K_LEFT)],
        70: [pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=at(40))],
        71: [pygame.event.Event(pygame.MOUSEMOTION, pos=at(30), rel=(0, 0), buttons=(1, 0, 0))],
        72: [pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=at(30))],
        73: [key(pygame.K_UP), key(pygame.K_UP), key(pygame.K_h), key(pygame.K_EQUALS), key(pygame.K_s)],
        74: [pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=1, flipped=False, precise_x=0.0, precise_y=1.0),
             pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=-1, flipped=False, precise_x=0.0, precise_y=-1.0)],
    }
    drive(pb, screen, script, 90)
    st = pb.state
    assert st.paused and st.frame == 30 and int(track["tick"][st.frame]) == 30
    assert st.follow == 1 and st.fish_overlay and st.weather_overlay and st.help
    assert st.speed == 30 and st.zoom == 2  # 8 -> 15 -> 30 ticks/s and not st.quit
    assert len(st.screenshots) == 1 and os.path.getsize(st.screenshots[0]) > 0
    # playing on runs to the end and stops there; Home goes back; 0 follows no one; Q quits
    drive(pb, screen, {0: [key(pygame.K_SPACE)], 200: [key(pygame.K_HOME), key(pygame.K_0)]}, 201)
    assert pb.state.frame == 0 and pb.state.follow is None
    drive(pb, screen, {0: [key(pygame.K_END)], 1: [key(pygame.K_q)]}, 2)
    assert pb.state.frame == track.n_frames - 1 and pb.state.quit


def test_the_window_resizes_and_a_big_world_zooms_on_the_followed_fisher(screen, tmp_path):
    from sim.core import Simulation

    sim = Simulation("generated:3:128", n_fishers=2, seeds=[1])
    rec = EpisodeRecorder(sim)
    rec.capture_initial()
    for _ in range(3):
        actions = np.zeros((1, 2), int)
        rec.record(actions, sim.step(actions))
    track = Track.from_episode(load_episode(rec.save(tmp_path / "big.npz")))
    pb = Playback(track)
    drive(pb, screen, {0: [key(pygame.K_1), key(pygame.K_EQUALS), key(pygame.K_EQUALS)]}, 2)
    r0, c0, r1, c1 = pb.layout.window
    assert (r1 - r0, c1 - c0) == (43, 43)  # zoom x3 of 128 cells
    assert r0 <= track["row"][0, 0] < r1 and c0 <= track["col"][0, 0] < c1
    screen = pygame.display.set_mode((900, 500), pygame.RESIZABLE)
    drive(pb, screen, {}, 1)
    assert pb.layout.side.right == 900 and pb.layout.map_rect.bottom <= 500


def test_drawing_is_deterministic(track):
    pygame.font.init()
    a, b = pygame.Surface(SIZE), pygame.Surface(SIZE)
    state = dict(frame=30, paused=True, follow=0, fish_overlay=True, weather_overlay=True)
    Viewer(track, ViewState(**state)).draw(a)
    viewer = Viewer(track, ViewState(**state))
    viewer.draw(b)
    assert np.array_equal(surface_array(a), surface_array(b))
    viewer.state.frame = 31
    viewer.draw(b)
    assert not np.array_equal(surface_array(a), surface_array(b))
    viewer.state.frame = 30
    viewer.draw(b)
    assert np.array_equal(surface_array(a), surface_array(b))


def test_golden_images(track):
    """The map (numpy, exact) and the whole view with HUD and overlays (fonts: a tolerance)."""
    import imageio.v3 as iio

    pygame.font.init()
    map_img = draw_scene(scene_of_episode(load_episode(EPISODE), 30), 12)
    surface = pygame.Surface(SIZE)
    Viewer(track, ViewState(frame=30, follow=0, fish_overlay=True, weather_overlay=True)).draw(surface)
    view = surface_array(surface)
    if REGEN:
        iio.imwrite(GOLDEN_MAP, map_img)
        iio.imwrite(GOLDEN_VIEW, view)
    assert np.array_equal(map_img, iio.imread(GOLDEN_MAP))
    golden = iio.imread(GOLDEN_VIEW)
    assert view.shape == golden.shape
    diff = np.abs(view.astype(int) - golden.astype(int)).max(axis=2)
    assert diff.mean() < 2.0 and (diff > 48).mean() < 0.01, (diff.mean(), (diff > 48).mean())


def test_export_gif_frame_count_and_size(track, tmp_path):
    import imageio.v3 as iio

    out = tmp_path / "clip.gif"
    assert main([str(EPISODE), "--export", str(out), "--start", "10", "--end", "40", "--every", "2",
                 "--size", "320x180", "--fish"]) == 0
    frames = iio.imread(out, index=None)
    assert frames.shape == (16, 180, 320, 3)  # ticks 10, 12, ..., 40


def test_export_mp4_frame_count_and_size(track, tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    import imageio.v2 as iio2

    out = tmp_path / "clip.mp4"
    assert main([str(EPISODE), "--export", str(out), "--end", "19", "--size", "320x180", "--fps", "5"]) == 0
    reader = iio2.get_reader(out)
    try:
        assert reader.count_frames() == 20 and reader.get_meta_data()["size"] == (320, 180)
    finally:
        reader.close()


def test_export_errors_are_clear(tmp_path, monkeypatch, capsys):
    import sys

    assert main([str(EPISODE), "--export", str(tmp_path / "x.avi")]) == 2
    assert "x.avi: expected a .gif or .mp4" in capsys.readouterr().err
    assert main([str(EPISODE), "--export", str(tmp_path / "x.gif"), "--start", "500"]) == 2
    assert "no frames between tick 500" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # as if the extra were not installed
    assert main([str(EPISODE), "--export", str(tmp_path / "x.mp4")]) == 2
    err = capsys.readouterr().err
    assert "imageio-ffmpeg" in err and "hungry-fisher[video]" in err and not (tmp_path / "x.mp4").exists()


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty folder", "missing"])
def test_a_bad_episode_file_is_named(tmp_path, capsys, damage):
    path = tmp_path / "ep.npz"
    if damage == "truncated":
        data = EPISODE.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not an episode at all")
    elif damage == "empty folder":
        path = tmp_path / "run"
        path.mkdir()
    assert main([str(path), "--frames", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(path) in err and err.count("\n") == 1
    expected = {"truncated": "truncated or corrupt", "garbage": "not an episode file",
                "empty folder": "no episodes", "missing": "no such file"}[damage]
    assert expected in err


def test_a_run_folder_opens_its_first_episode_and_n_switches(tmp_path, screen):
    episodes = tmp_path / "run" / "episodes"
    episodes.mkdir(parents=True)
    for name in ("episode_000.npz", "episode_001.npz"):
        (episodes / name).write_bytes(EPISODE.read_bytes())
    assert main([str(tmp_path / "run"), "--frames", "3", "--follow", "2", "--start", "5"]) == 0
    from viz.playback import episode_files

    files = episode_files(tmp_path / "run")
    pb = Playback(load_track(files[0]), files=files)
    pygame.display.set_mode((640, 360))
    drive(pb, screen, {0: [key(pygame.K_n)]}, 1)
    assert pb.index == 1 and "episode 2/2" in pb.state.message


def test_the_tide_shows_in_playback_as_in_the_live_render(tmp_path):
    """The coast's flats dry at low tide: a recorded frame draws as the live state did (one path)."""
    from sim.core import Simulation
    from sim.render import render_rgb

    sim = Simulation("coast", n_fishers=2, seeds=[3])
    rec = EpisodeRecorder(sim)
    rec.capture_initial()
    live = {}
    for _ in range(100):  # low tide from tick 80 (half of the coast's period of 160)
        actions = np.zeros((1, 2), int)
        rec.record(actions, sim.step(actions))
        if int(sim.state.tick[0]) in (40, 95):
            live[int(sim.state.tick[0])] = render_rgb(sim, 0, 6)
    track = Track.from_episode(load_episode(rec.save(tmp_path / "coast.npz")))
    assert not track["low_tide"][40] and track["low_tide"][95]
    assert not np.array_equal(track.terrain_at(40), track.terrain_at(95))
    for tick, picture in live.items():
        assert np.array_equal(draw_scene(track.scene(tick), 6), picture), tick


def test_the_legend_names_every_glyph():
    """Key H: every terrain, the fisher, line, bite, ripples, every event mark and the front,
    each a picture from sim.render that differs from every other."""
    from sim import terrain as T
    from sim.tiles import MARKS
    from viz.legend import glyphs

    entries = glyphs(16)
    labels = " | ".join(label for _, label in entries)
    names = ["land", "shore", "shallow", "deep", "reeds", "rock", "shelter", "ice", "fisher", "line", "bite",
             "ripples", "front", "catch", "meal", "missed", "starved"]
    assert all(name in labels for name in names), labels
    assert len(entries) == (T.N_TERRAIN - 1) + 4 + len(MARKS) + 1  # all but void; fisher, line, bite, ripples
    pictures = [pic.tobytes() for pic, _ in entries]
    assert len(set(pictures)) == len(pictures)


@pytest.mark.parametrize("size", [(640, 360), (1280, 720)])
def test_text_is_never_smaller_than_a_gif_can_show(track, size):
    """At 640x360 (the smallest GIF the docs make) no label is under 13 px; text grows with the size."""
    pygame.font.init()
    viewer = Viewer(track, ViewState(frame=30, follow=0, fish_overlay=True, weather_overlay=True, help=True))
    sizes = []
    render = viewer.text.render

    def spy(text, size_px, colour=(0, 0, 0)):
        sizes.append(size_px)
        return render(text, size_px, colour)

    viewer.text.render = spy
    viewer.draw(pygame.Surface(size))
    assert min(sizes) >= 13
    if size[1] >= 720:
        assert viewer.layout.font >= 20 and min(sizes) >= 17
