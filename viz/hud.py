"""What viz/ draws around the map: text, bars, the barometer sparkline, the timeline, the help box.

The map itself comes from `sim.render.draw_scene` (numpy); these helpers only add pygame
drawing over and beside it. Rendered text and the timeline are cached, because at 60
frames a second re-rendering every label would cost more than drawing the world.
"""

from __future__ import annotations

import numpy as np
import pygame

from viz.track import MARKS, Track

BG = (24, 26, 32)
PANEL = (34, 37, 46)
TEXT = (228, 230, 236)
DIM = (150, 156, 170)
ACCENT = (120, 200, 255)
HIDDEN = (236, 120, 236)  # what fishers cannot sense: the fish field and the hidden weather
HUNGER_OK = (90, 190, 110)
HUNGER_BAD = (230, 70, 60)
MARK_RGB = {"cast": (236, 236, 236), "bite": (255, 230, 40), "catch": (70, 220, 110),
            "missed": (255, 150, 40), "ate": (90, 220, 255), "starved": (255, 60, 60),
            "storm": (190, 110, 255)}
WEATHER_STRIP = np.array([(64, 84, 104), (78, 80, 88), (52, 70, 120), (60, 36, 92)], dtype=np.uint8)


class Text:
    """Rendered labels, cached by (text, size, colour): fonts are pygame's default, so no files."""

    def __init__(self) -> None:
        if not pygame.font.get_init():
            pygame.font.init()
        self._fonts: dict[int, pygame.font.Font] = {}
        self._cache: dict[tuple[str, int, tuple[int, int, int]], pygame.Surface] = {}

    def font(self, size: int) -> pygame.font.Font:
        if size not in self._fonts:
            self._fonts[size] = pygame.font.Font(None, size)
        return self._fonts[size]

    def render(self, text: str, size: int, colour: tuple[int, int, int] = TEXT) -> pygame.Surface:
        key = (text, size, colour)
        surf = self._cache.get(key)
        if surf is None:
            if len(self._cache) > 800:  # labels with changing numbers: keep the cache bounded
                self._cache.clear()
            surf = self._cache[key] = self.font(size).render(text, True, colour)
        return surf

    def draw(self, surface: pygame.Surface, text: str, pos: tuple[int, int], size: int,
             colour: tuple[int, int, int] = TEXT) -> int:
        """Blit a label with its top-left at pos; returns its width."""
        surf = self.render(text, size, colour)
        surface.blit(surf, pos)
        return surf.get_width()


def bar(surface: pygame.Surface, rect: pygame.Rect, value: float, colour: tuple[int, int, int],
        back: tuple[int, int, int] = (60, 64, 76)) -> None:
    """A horizontal bar filled to value in [0, 1]."""
    pygame.draw.rect(surface, back, rect)
    width = int(round(rect.width * float(np.clip(value, 0.0, 1.0))))
    if width > 0:
        pygame.draw.rect(surface, colour, (rect.x, rect.y, width, rect.height))


def hunger_colour(hunger: float) -> tuple[int, int, int]:
    t = float(np.clip(hunger, 0.0, 1.0))
    return tuple(int(a + (b - a) * t) for a, b in zip(HUNGER_OK, HUNGER_BAD, strict=True))  # type: ignore


def sparkline(surface: pygame.Surface, rect: pygame.Rect, values: np.ndarray,
              low: float = 0.0, high: float = 1.1, colour: tuple[int, int, int] = ACCENT) -> None:
    """The last values as a line scaled into rect (the barometer's recent course)."""
    pygame.draw.rect(surface, (44, 48, 60), rect)
    n = len(values)
    if n < 2:
        return
    xs = rect.x + np.arange(n) * (rect.width - 1) / (n - 1)
    t = (np.clip(values, low, high) - low) / (high - low)
    ys = rect.bottom - 1 - t * (rect.height - 1)
    pygame.draw.lines(surface, colour, False, np.stack([xs, ys], axis=1).tolist(), 1)


class Timeline:
    """The bottom strip: the weather as a band, one lane of marks per event kind, the playhead.

    Its picture is built with numpy (one column per pixel, marks OR-ed over the frames the
    column covers) and cached until the track grows, the size or the followed fisher changes.
    """

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._surf: pygame.Surface | None = None

    @staticmethod
    def frame_at(rect: pygame.Rect, n_frames: int, x: int) -> int:
        """The frame under pixel column x."""
        if n_frames <= 1:
            return 0
        t = (x - rect.x) / max(rect.width - 1, 1)
        return int(round(np.clip(t, 0.0, 1.0) * (n_frames - 1)))

    @staticmethod
    def x_of(rect: pygame.Rect, n_frames: int, frame: int) -> int:
        return rect.x + int(round(frame * (rect.width - 1) / max(n_frames - 1, 1)))

    def picture(self, track: Track, width: int, height: int, follow: int | None,
                band: bool = True) -> pygame.Surface:
        """The strip for `track` (marks of fisher `follow`, or all); `band`: the hidden weather band."""
        key = (track.n_frames, width, height, follow, band)
        if key == self._key and self._surf is not None:
            return self._surf
        n = max(track.n_frames, 1)
        marks = track["marks"]  # (n, F, lanes)
        lanes = marks[:, follow] if follow is not None else marks.any(axis=1)
        # frames covered by each pixel column: [starts[x], starts[x + 1])
        starts = np.minimum((np.arange(width) * n) // width, n - 1)
        per_col = np.logical_or.reduceat(lanes, starts, axis=0)
        img = np.zeros((height, width, 3), dtype=np.uint8)
        img[:] = PANEL
        band_h = max(3, height // 6)
        if band:
            img[:band_h] = WEATHER_STRIP[track["weather"][starts]][None]
        lane_h = max(1, (height - band_h - 2) // len(MARKS))
        for lane, name in enumerate(MARKS):
            y0 = band_h + 2 + lane * lane_h
            cols = per_col[:, lane].astype(bool)
            img[y0:y0 + max(1, lane_h - 1), cols] = MARK_RGB[name]
        self._surf = pygame.image.frombuffer(img.tobytes(), (width, height), "RGB")
        self._key = key
        return self._surf


HELP_LINES: tuple[tuple[str, str], ...] = (
    ("space", "pause / play"),
    ("left / right", "step one tick back / forward"),
    ("PgUp / PgDn", "100 ticks back / forward"),
    ("Home / End", "first / last tick"),
    ("up / down", "faster / slower"),
    ("mouse on timeline", "scrub (lanes: cast, bite, catch, missed, ate, starved, storm)"),
    ("1-9, 0", "follow fisher 1-9, follow none"),
    ("+ / - , wheel", "zoom in / out (around the followed fisher)"),
    ("F", "overlay: the true fish field (fishers cannot see it)"),
    ("W", "overlay: hidden weather state and the next front"),
    ("N / B", "next / previous episode of a run folder"),
    ("S or F12", "screenshot (PNG)"),
    ("H or ?", "these keys and the legend of the map's glyphs"),
    ("Q or Esc", "quit"),
)


def help_box(surface: pygame.Surface, text: Text, lines: tuple[tuple[str, str], ...], size: int,
             title: str = "Keys", glyphs: list[tuple[pygame.Surface, str]] | None = None) -> None:
    """A translucent box over the middle of the surface listing keys and what they do, and beside
    them the legend: every glyph of the map (pictures from sim.render) and what it means."""
    key_w = max(text.render(k, size, ACCENT).get_width() for k, _ in lines)
    what_w = max(text.render(w, size).get_width() for _, w in lines)
    line_h = int(size * 1.15)
    glyphs = glyphs or []
    pic_w = max((g.get_width() for g, _ in glyphs), default=0)
    heights = [max(line_h, g.get_height() + 2) for g, _ in glyphs]
    label_w = max((text.render(label, size).get_width() for _, label in glyphs), default=0)
    keys_w = key_w + what_w + 3 * size
    legend_w = pic_w + label_w + 2 * size if glyphs else 0
    w = min(surface.get_width() - 8, keys_w + legend_w)
    h = min(surface.get_height() - 8, max(len(lines) * line_h, sum(heights)) + 2 * line_h + size)
    box = pygame.Surface((w, h), pygame.SRCALPHA)
    box.fill((12, 14, 20, 232))
    x0, y0 = (surface.get_width() - w) // 2, (surface.get_height() - h) // 2
    surface.blit(box, (x0, y0))
    text.draw(surface, title, (x0 + size, y0 + size // 2), size + 4, ACCENT)
    if glyphs:
        text.draw(surface, "Legend", (x0 + keys_w, y0 + size // 2), size + 4, ACCENT)
    top = y0 + size // 2 + line_h + size // 3
    for i, (key, what) in enumerate(lines):
        y = top + i * line_h
        text.draw(surface, key, (x0 + size, y), size, ACCENT)
        text.draw(surface, what, (x0 + 2 * size + key_w, y), size)
    y = top
    for (pic, label), height in zip(glyphs, heights, strict=True):
        if y + height > y0 + h:
            break
        surface.blit(pic, (x0 + keys_w, y))
        text.draw(surface, label, (x0 + keys_w + pic_w + size // 2, y + (pic.get_height() - size) // 2), size)
        y += height
