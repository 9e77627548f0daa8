"""The live view: a running simulation in a window, through the same Viewer as playback.

`LiveView` is an `on_step(sim, actions, result)` hook for `agents.rollout.run_policy`
(what `--render` on `python -m sim.run` and `python -m agents.evaluate` installs). It
records one world of the batch with an `EpisodeRecorder` as the run goes, and shows the
growing `Track` with playback's keys: the run waits while the view is paused, and the
timeline can be scrubbed back over what has happened so far; playing on catches up and
the simulation resumes. Closing the window (or Q) closes the view; the run goes on.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pygame

from sim.record import EpisodeRecorder
from viz.app import FPS, open_window
from viz.playback import Playback
from viz.track import Track


class _LivePlayback(Playback):
    """Playback over a growing track: reaching the last frame waits for the next, it does not pause."""

    help_lines = tuple((k, w) for k, w in Playback.help_lines if not k.startswith("N / B")) + (
        ("(live)", "the run waits while paused; closing the window lets it go on unseen"),)

    def update(self, dt: float) -> None:
        super(Playback, self).update(dt)  # Viewer.update: no pause at the end

    def status_line(self) -> str:
        return "live · " + super().status_line()


class LiveView:
    """Shows world `world` of the simulation that calls it, `speed` ticks a second (None: as fast
    as it runs, drawing at most FPS frames a second).

    Args:
        world: which world of the batch to show.
        size: the window's size in pixels.
        speed: ticks per second shown (None or 0: no limit).
        title: the window's title.
        policy: what acts, shown in the HUD (the recorder's policy name).
        max_ticks: close the view after this many ticks (tests; None: never).
    """

    def __init__(self, world: int = 0, size: tuple[int, int] = (1280, 720), speed: float | None = 8.0,
                 title: str = "hungry fisher: live", policy: str = "", max_ticks: int | None = None):
        self.world, self.size, self.title, self.policy = int(world), size, title, policy
        self.unthrottled = not speed
        self.speed = float(speed) if speed else 60.0
        self.max_ticks = max_ticks
        self.recorder: EpisodeRecorder | None = None
        self.track: Track | None = None
        self.viewer: _LivePlayback | None = None
        self.closed = False
        self._last = self._drawn = 0.0

    def __call__(self, sim, actions: np.ndarray, result) -> None:
        """The on_step hook: record the step just taken and show it."""
        if self.closed:
            return
        if self.recorder is None:  # the first step: tick 1 is the first frame the view holds
            self._open(sim)
        else:
            self.recorder.record(actions, result, sim=sim)
            self.track.refresh()
        self._show()
        if self.max_ticks is not None and self.track.n_frames >= self.max_ticks:
            self.close()

    def _open(self, sim) -> None:
        self.recorder = EpisodeRecorder(sim, world=self.world, policy=self.policy or "live")
        self.recorder.capture_initial()
        self.track = Track.following(self.recorder)
        self.screen = open_window(self.size, self.title)
        self.viewer = _LivePlayback(self.track)
        self.viewer.state.speed = self.speed
        self._last = self._drawn = time.perf_counter()

    def _show(self) -> None:
        """Draw and handle keys until the playhead reaches the newest frame (the run may go on)."""
        v = self.viewer
        while True:
            for event in pygame.event.get():
                if event.type == pygame.KEYDOWN and event.key in (pygame.K_UP, pygame.K_DOWN):
                    self.unthrottled = False
                v.handle_event(event)
            if v.state.quit:
                self.close(say=True)
                return
            now = time.perf_counter()
            v.update(now - self._last)
            self._last = now
            head = self.track.n_frames - 1
            if self.unthrottled and not v.state.paused and not v.state.scrubbing:
                v.seek(head)
            if v.state.frame >= head and not v.state.paused:
                v._acc = 0.0  # no burst of saved-up ticks after a slow step
                if now - self._drawn >= 1.0 / FPS:
                    self._draw(now)
                return
            self._draw(now)
            wait = 1.0 / FPS if v.state.paused else (1.0 - v._acc) / max(v.state.speed, 1e-6)
            time.sleep(min(max(wait, 0.0), 1.0 / FPS))

    def _draw(self, now: float) -> None:
        surface = pygame.display.get_surface() or self.screen
        self.viewer.draw(surface)
        pygame.display.flip()
        self._drawn = now

    def close(self, say: bool = False) -> None:
        """Close the window (the simulation goes on without it); `say`: tell the terminal so."""
        if self.closed:
            return
        self.closed = True
        if self.viewer is not None:
            pygame.display.quit()
            if say:
                print("live view closed; the run goes on", file=sys.stderr)

