"""The window and the loop around a Viewer: opening, pacing frames, handing over events."""

from __future__ import annotations

import os

import pygame

from viz.viewer import Viewer

FPS = 60


def open_window(size: tuple[int, int], title: str) -> pygame.Surface:
    """A resizable window (SDL's dummy driver under tests: SDL_VIDEODRIVER=dummy)."""
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")  # no sound is used; avoids ALSA noise
    pygame.display.init()
    pygame.font.init()
    pygame.display.set_caption(title)
    return pygame.display.set_mode(size, pygame.RESIZABLE)


def run_loop(viewer: Viewer, screen: pygame.Surface, max_frames: int | None = None, fps: int = FPS) -> int:
    """Events, update, draw, flip at up to `fps` until the viewer quits (or max_frames pass); frames drawn."""
    clock = pygame.time.Clock()
    frames = 0
    try:
        while not viewer.state.quit and (max_frames is None or frames < max_frames):
            for event in pygame.event.get():
                viewer.handle_event(event)
            viewer.update(clock.tick(fps) / 1000.0)
            screen = pygame.display.get_surface() or screen
            viewer.draw(screen)
            pygame.display.flip()
            frames += 1
    finally:
        pygame.display.quit()
    return frames


def flip() -> None:
    """Show what was drawn on the window (for loops outside `run_loop`, such as benchmarks)."""
    pygame.display.flip()


def close_window() -> None:
    pygame.display.quit()
