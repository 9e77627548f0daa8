"""The live view (`--render`): a run shown as it goes, through the same drawing as playback."""

from __future__ import annotations

import os

import numpy as np
import pygame

from agents.rollout import run_policy
from agents.scripted import make_scripted
from sim.record import load_episode
from sim.render import draw_scene
from sim.scene import scene_of_episode
from viz.live import LiveView

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")


def test_the_live_view_shows_what_the_recording_holds(tmp_path, capsys, monkeypatch):
    """sim.run --render 0: the run folder is as without it, and the view's last frame draws
    exactly like the recorded episode's last frame (one drawing path)."""
    from app.run import main

    shown = []
    original = LiveView.__call__

    def spy(self, sim, actions, result):
        original(self, sim, actions, result)
        shown.append(self)

    out = tmp_path / "run"
    monkeypatch.setattr(LiveView, "__call__", spy)
    code = main(["--world", "lake", "--policy", "scripted:expert", "--ticks", "25", "--episodes", "2",
                 "--fishers", "2", "--render", "0", "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    live = shown[-1]
    assert live.closed and live.track.n_frames == 25  # ticks 1..25 (the view opens at the first step)
    ep = load_episode(out / "episodes" / "episode_000.npz")
    assert int(live.track["tick"][-1]) == int(ep.tick[-1]) == 25
    assert np.array_equal(draw_scene(live.track.scene(24), 10), draw_scene(scene_of_episode(ep, 25), 10))
    assert "live view closed" not in capsys.readouterr().err


def test_pausing_then_closing_the_view_lets_the_run_go_on(capsys):
    live = LiveView(speed=None)
    pygame.display.init()
    # queued before the run: the first frame shown is paused, then the window is closed
    live_events = [pygame.event.Event(pygame.KEYDOWN, key=pygame.K_SPACE, mod=0, unicode=" ", scancode=0),
                   pygame.event.Event(pygame.KEYDOWN, key=pygame.K_3, mod=0, unicode="3", scancode=0),
                   pygame.event.Event(pygame.QUIT)]
    calls = []

    def on_step(sim, actions, result):
        if not calls:
            pygame.display.init()
            for e in live_events:
                pygame.event.post(e)
        calls.append(int(sim.state.tick[0]))
        live(sim, actions, result)

    rollout = run_policy(make_scripted("expert"), "pond", n_worlds=1, n_fishers=3, ticks=15, on_step=on_step)
    assert len(calls) == 15 and rollout.ticks == 15
    st = live.viewer.state
    assert live.closed and st.paused and st.follow == 2 and st.quit and live.track.n_frames == 1
    assert "live view closed; the run goes on" in capsys.readouterr().err


def test_evaluate_takes_render(tmp_path, capsys):
    from app.evaluate import main

    code = main(["scripted:patient", "--world", "pond", "--ticks", "10", "--episodes", "1", "--fishers", "1",
                 "--render", "0", "--out", str(tmp_path / "ev"), "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert main(["scripted:patient", "--render", "-1"]) == 2
    assert "--render: expected ticks per second" in capsys.readouterr().err
