"""render_mode="human": the window PettingZoo's and Gymnasium's users expect, headless here
(SDL_VIDEODRIVER=dummy); pygame is imported only when "human" is asked for."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gymnasium
import numpy as np
import pytest

import sim

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
ROOT = Path(__file__).resolve().parents[1]


def test_make_env_human_shows_every_reset_and_step():
    env = sim.make_env("lake", n_fishers=2, seed=0, render_mode="human")
    assert "human" in env.metadata["render_modes"]
    env.reset(seed=0)
    for _ in range(3):
        env.step({a: 0 for a in env.agents})
    window = env._window
    assert window is not None and window.frames == 4  # the reset and three steps
    assert env.render() is None and window.frames == 5
    import pygame

    shown = pygame.surfarray.array3d(pygame.display.get_surface()).transpose(1, 0, 2)
    expected = sim.make_env("lake", n_fishers=2, seed=0, render_mode="rgb_array")
    expected.reset(seed=0)
    for _ in range(3):
        expected.step({a: 0 for a in expected.agents})
    np.testing.assert_array_equal(shown, expected.render())  # the same drawing as rgb_array
    env.close()
    assert env._window is None


def test_gymnasium_make_human():
    env = gymnasium.make("HungryFisher-v0", render_mode="human", world="pond")
    env.reset(seed=1)
    env.step(0)
    assert env.render() is None
    env.close()


def test_pettingzoo_render_test_passes_with_human_first():
    from pettingzoo.test import render_test
    from pettingzoo.utils.conversions import parallel_to_aec

    render_test(lambda render_mode=None: parallel_to_aec(sim.make_env("lake", n_fishers=2, seed=0,
                                                                       render_mode=render_mode)))


@pytest.mark.parametrize("mode", ["rgb_array", "ansi", None])
def test_other_modes_never_import_pygame(mode):
    code = ("import sys, sim\n"
            f"env = sim.make_env('lake', render_mode={mode!r}); env.reset(seed=0); env.render()\n"
            "g = sim.make_gym_env('lake'); g.reset(seed=0)\n"
            "print('pygame' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "SDL_VIDEODRIVER": "dummy"})
    assert out.returncode == 0, out.stderr[-1500:]
    assert out.stdout.strip().splitlines()[-1] == "False"
