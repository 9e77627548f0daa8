"""Human play: scripted keys play a fisher, the tick rate and pause work, the fisher's-view mode
hides what fishers cannot sense, and the episode is recorded in the agents' format."""

from __future__ import annotations

import os

import numpy as np
import pygame
import pytest

from agents.scripted import make_scripted
from sim.core import Simulation
from sim.events import has
from sim.fishers import ACTION_NAMES
from sim.record import load_episode
from viz.play import MASK_ALPHA, HumanPlay, main

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")


def key(k: int, unicode: str = "") -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYDOWN, key=k, mod=0, unicode=unicode, scancode=0)


@pytest.fixture
def screen():
    pygame.display.init()
    pygame.font.init()
    yield pygame.display.set_mode((640, 360))
    pygame.display.quit()


def drive(game, screen, script, n_frames, dt=1 / 64):  # 1/64 s: exact in binary
    for frame in range(n_frames):
        for event in script.get(frame, []):
            pygame.event.post(event)
        for event in pygame.event.get():
            game.handle_event(event)
        game.update(dt)
        game.draw(screen)
        pygame.display.flip()


def test_a_scripted_player_fishes_and_the_episode_is_an_agents_episode(screen, tmp_path):
    """On the lake's shore facing the water: cast, wait for a bite, reel in; paused, one tick per key."""
    sim = Simulation("lake", n_fishers=2, seeds=[4])
    s = sim.state
    s.row[0, 0], s.col[0, 0], s.facing[0, 0] = 3, 8, 1  # on the shore, facing south over the lake
    game = HumanPlay(sim, others=make_scripted("expert", seed=1), rate=4.0, ticks=300)
    assert game.state.paused and game.state.follow == 0
    drive(game, screen, {0: [key(pygame.K_c)]}, 1)  # paused: a key plays one tick
    assert int(s.tick[0]) == 1 and game.track["actions"][1, 0] == ACTION_NAMES.index("cast")
    assert s.line[0, 0]
    waited = 0
    while not s.bite[0, 0] and waited < 200:  # wait (.) until the bobber dips
        drive(game, screen, {0: [key(pygame.K_PERIOD)]}, 1)
        waited += 1
    assert s.bite[0, 0], "no bite in 200 ticks"
    drive(game, screen, {0: [key(pygame.K_r)]}, 1)
    assert has(game.track["events"][-1, 0], "catch")
    # playing: 4 ticks a second -> 4 ticks in 64 frames of 1/64 s; ] speeds up to 8
    tick = int(s.tick[0])
    drive(game, screen, {0: [key(pygame.K_p)]}, 64)
    assert not game.state.paused and int(s.tick[0]) == tick + 4
    drive(game, screen, {0: [key(pygame.K_RIGHTBRACKET)], 1: [key(pygame.K_v), key(pygame.K_f)]}, 64)
    assert game.state.speed == 8 and int(s.tick[0]) == tick + 12 and game.observed
    assert game.map_overlay(game.state.frame)[..., 3].max() == MASK_ALPHA  # dark beyond the fisher's view
    drive(game, screen, {0: [key(pygame.K_p), key(pygame.K_q)]}, 1)
    assert game.state.paused and game.state.quit
    ep = load_episode(game.save(tmp_path / "human.npz"))
    assert ep.meta["policy"] == "human" and ep.n_ticks == int(s.tick[0]) and ep.n_fishers == 2
    assert ep.event_mask("catch")[:, 0].sum() >= 1


def test_the_fishers_view_hides_the_fish_and_the_hidden_weather(screen):
    sim = Simulation("pond", n_fishers=1, seeds=[2])
    game = HumanPlay(sim, observed=True)
    game.state.fish_overlay = game.state.weather_overlay = True
    game.draw(screen)
    titles = [t for t, _ in game.side_sections(0)]
    assert "hidden weather" not in titles and "true fish field" not in titles
    assert "what fisher 1 senses" in titles
    mask = game.map_overlay(0)
    r, c = int(sim.state.row[0, 0]), int(sim.state.col[0, 0])
    assert mask[r, c, 3] < MASK_ALPHA and (mask[..., 3] == MASK_ALPHA).sum() >= mask[..., 3].size - 49
    # fishers beyond the view are not drawn; the timeline hides the hidden weather band
    assert not game.weather_band and game.scene(0).alive[0]
    game.handle_event(key(pygame.K_v))
    titles = [t for t, _ in game.side_sections(0)]
    assert "hidden weather" in titles and "true fish field" in titles


def test_the_episode_ends_at_its_length(screen):
    game = HumanPlay(Simulation("pond", n_fishers=1, seeds=[0]), ticks=5)
    drive(game, screen, {0: [key(pygame.K_p)]}, 200)
    assert game.done and game.state.paused and game.recorder.n_ticks == 5
    assert "episode is over" in game.state.message


def test_the_command_line_records_an_episode(tmp_path, capsys):
    out = tmp_path / "me.npz"
    assert main(["--world", "pond", "--seed", "3", "--fishers", "2", "--out", str(out), "--frames", "5"]) == 0
    ep = load_episode(out)
    assert ep.meta["policy"] == "human" and ep.n_fishers == 2 and ep.meta["seed"] == 3
    assert f"python -m viz.playback {out}" in capsys.readouterr().out
    assert main(["--world", "nowhere"]) == 2
    assert "--world" in capsys.readouterr().err
    assert np.all(ep.actions[1:, 0] >= 0)


def test_the_fishers_view_does_not_draw_fishers_it_cannot_see(screen):
    sim = Simulation("lake", n_fishers=2, seeds=[1])
    s = sim.state
    s.row[0], s.col[0] = (3, 1), (2, 2)   # neighbours
    game = HumanPlay(sim, observed=True)
    assert game.scene(0).alive.tolist() == [True, True]
    s.row[0, 1], s.col[0, 1] = 14, 20     # far away: invisible to fisher 1
    game.step()
    assert game.scene(game.state.frame).alive.tolist() == [True, False]
    game.handle_event(key(pygame.K_v))
    assert game.scene(game.state.frame).alive.tolist() == [True, True]
