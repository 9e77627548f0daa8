"""A window that shows RGB frames: what `render_mode="human"` opens for the PettingZoo and Gymnasium
envs (sim.env). It knows nothing of the project (numpy frames in, a pygame window out), so the env,
a floor below viz/, may import it when, and only when, "human" is asked for; pygame stays in viz/."""

from __future__ import annotations

import numpy as np
import pygame


class HumanWindow:
    """Shows (H, W, 3) uint8 frames at up to `fps` frames a second; closing it ends nothing but itself
    (the env keeps stepping, as Gymnasium's own human windows do)."""

    def __init__(self, title: str, fps: float):
        self.title, self.fps = title, fps
        self.screen: pygame.Surface | None = None
        self.clock: pygame.time.Clock | None = None
        self.frames = 0

    def show(self, frame: np.ndarray) -> None:
        frame = np.asarray(frame)
        if frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"frame: expected an (H, W, 3) RGB array, got shape {frame.shape}")
        height, width = frame.shape[:2]
        if self.screen is None or self.screen.get_size() != (width, height):
            pygame.display.init()
            pygame.display.set_caption(self.title)
            self.screen = pygame.display.set_mode((width, height))
            self.clock = pygame.time.Clock()
        pygame.surfarray.blit_array(self.screen, np.ascontiguousarray(frame.transpose(1, 0, 2)))
        pygame.event.pump()  # keeps the window responsive
        pygame.display.flip()
        self.frames += 1
        if self.clock is not None and self.fps > 0:
            self.clock.tick(self.fps)

    def close(self) -> None:
        if self.screen is not None:
            pygame.display.quit()
            self.screen = None
