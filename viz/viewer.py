"""`Viewer`: one world's frames drawn with a HUD, overlays and a timeline; the core of every view.

Playback (`viz.playback`), the live view (`viz.live`), human play (`viz.play`) and export
(`viz.export`) are a Viewer over a `Track`. The loop is split so that tests drive it
without a window and without real time:

    viewer.handle_event(event)   # keys and mouse change `viewer.state`
    viewer.update(dt)            # time passes: the playhead advances when playing
    viewer.draw(surface)         # the frame, HUD, overlays on any pygame Surface

The map is `sim.render.draw_scene` of the frame (the same numpy drawing as the env's
rgb_array); the Viewer adds the fishers' numbers, the followed fisher's ring, the fish
heat map, the HUD and the timeline with pygame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pygame

from sim.render import draw_scene, front_edge
from sim.scene import Scene
from sim.terrain import WATER
from sim.tiles import FISHER_RGB, FRONT_SHOWN
from viz import hud, legend
from viz.hud import ACCENT, BG, DIM, HIDDEN, PANEL, TEXT, Text, Timeline
from viz.track import MARKS, Track

SPEEDS = (0.5, 1, 2, 4, 8, 15, 30, 60, 120, 240, 480)  # ticks per second
ZOOMS = (1, 2, 3, 4, 6, 8, 12, 16)
SPARK_FRAMES = 80  # the barometer sparkline shows this many frames back


@dataclass
class ViewState:
    """Everything the keys and the mouse change; tests assert on it."""

    frame: int = 0
    paused: bool = False
    speed: float = 8.0           # ticks per second while playing
    follow: int | None = None    # fisher slot followed (key 1 is slot 0)
    fish_overlay: bool = False
    weather_overlay: bool = False
    help: bool = False
    zoom: int = 1                # 1: the whole map fits
    quit: bool = False
    scrubbing: bool = False
    message: str = ""            # a short note in the status line (a screenshot's path)
    screenshots: list[str] = field(default_factory=list)


@dataclass
class Layout:
    """Where things go on a surface of a given size."""

    map_rect: pygame.Rect   # the map image
    side: pygame.Rect       # the HUD panel
    timeline: pygame.Rect
    cell: int
    window: tuple[int, int, int, int]  # map cells drawn: (row0, col0, row1, col1)
    font: int


class Viewer:
    """A Track on screen. Subclasses add their own keys (playback, play) before the shared ones."""

    help_lines = hud.HELP_LINES
    scrub = True  # the timeline can be dragged
    weather_band = True  # the timeline's band shows the hidden weather state

    def __init__(self, track: Track, state: ViewState | None = None, shot_dir: str | Path = "."):
        self.track = track
        self.state = state or ViewState()
        self.shot_dir = Path(shot_dir)
        self.text = Text()
        self.timeline = Timeline()
        self.layout: Layout | None = None
        self._acc = 0.0

    # --- events --------------------------------------------------------------------------------

    def handle_event(self, event: pygame.event.Event) -> None:
        """The keys and mouse every view shares; subclasses handle theirs first."""
        st = self.state
        if event.type == pygame.QUIT:
            st.quit = True
        elif event.type == pygame.KEYDOWN:
            self._key(event)
        elif event.type == pygame.MOUSEBUTTONDOWN and self.layout is not None:
            # (the wheel also sends buttons 4 and 5 in pygame 2: MOUSEWHEEL alone zooms)
            if event.button == 1 and self.scrub and self.layout.timeline.collidepoint(event.pos):
                st.scrubbing = True
                self.seek(Timeline.frame_at(self.layout.timeline, self.track.n_frames, event.pos[0]))
        elif event.type == pygame.MOUSEBUTTONUP and event.button == 1:
            st.scrubbing = False
        elif event.type == pygame.MOUSEMOTION and st.scrubbing and self.layout is not None:
            self.seek(Timeline.frame_at(self.layout.timeline, self.track.n_frames, event.pos[0]))
        elif event.type == pygame.MOUSEWHEEL and self.layout is not None:
            self.zoom(1 if event.y > 0 else -1)

    def _key(self, event: pygame.event.Event) -> None:
        st = self.state
        key = event.key
        char = getattr(event, "unicode", "") or ""
        if key in (pygame.K_q, pygame.K_ESCAPE):
            if st.help and key == pygame.K_ESCAPE:
                st.help = False
            else:
                st.quit = True
        elif pygame.K_1 <= key <= pygame.K_9 or pygame.K_KP1 <= key <= pygame.K_KP9:
            slot = key - (pygame.K_1 if key <= pygame.K_9 else pygame.K_KP1)
            if slot < self.track.n_fishers:
                st.follow = None if st.follow == slot else slot
        elif key in (pygame.K_0, pygame.K_KP0):
            st.follow = None
        elif key == pygame.K_f:
            st.fish_overlay = not st.fish_overlay
        elif key == pygame.K_w:
            st.weather_overlay = not st.weather_overlay
        elif key == pygame.K_h or char == "?":
            st.help = not st.help
        elif key in (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS):
            self.zoom(1)
        elif key in (pygame.K_MINUS, pygame.K_KP_MINUS):
            self.zoom(-1)
        elif key in (pygame.K_s, pygame.K_F12):
            surface = pygame.display.get_surface() if pygame.display.get_init() else None
            if surface is not None:
                self.screenshot(surface)

    def seek(self, frame: int) -> None:
        self.state.frame = self.track.clamp(frame)
        self._acc = 0.0

    def zoom(self, steps: int) -> None:
        i = ZOOMS.index(self.state.zoom) if self.state.zoom in ZOOMS else 0
        self.state.zoom = ZOOMS[int(np.clip(i + steps, 0, len(ZOOMS) - 1))]

    def screenshot(self, surface: pygame.Surface, path: str | Path | None = None) -> Path:
        """Save what is on `surface` as a PNG (by default in shot_dir, named after world and tick)."""
        if path is None:
            tick = int(self.track["tick"][self.track.clamp(self.state.frame)])
            base = self.shot_dir / f"{_slug(self.track.world)}-tick{tick:05d}"
            path, n = base.with_suffix(".png"), 1
            while path.exists():
                n += 1
                path = base.with_name(f"{base.name}-{n}.png")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.draw(surface)
        pygame.image.save(surface, str(path))
        self.state.screenshots.append(str(path))
        self.state.message = f"saved {path}"
        return path

    # --- time ----------------------------------------------------------------------------------

    def update(self, dt: float) -> None:
        """dt seconds pass: while playing, the playhead moves speed ticks per second; at the end it stops."""
        st = self.state
        if st.paused or st.scrubbing:
            return
        self._acc += dt * st.speed
        steps = int(self._acc)
        if steps:
            self._acc -= steps
            st.frame = self.track.clamp(st.frame + steps)

    # --- drawing -------------------------------------------------------------------------------

    def compute_layout(self, size: tuple[int, int]) -> Layout:
        w, h = size
        # text and panel grow with the window or video (13 px text is the smallest that reads in
        # a 640x360 GIF; 21 px at 1280x720)
        font = int(np.clip(round(h / 34), 13, 26))
        side_w = int(np.clip(w * 0.3, 180, 420))
        tl_h = int(np.clip(h * 0.1, 32, 90))
        area = pygame.Rect(0, 0, max(w - side_w, 16), max(h - tl_h, 16))
        rows, cols = self.track.terrain.shape
        z = self.state.zoom
        vr, vc = min(rows, math.ceil(rows / z)), min(cols, math.ceil(cols / z))
        cell = max(1, min((area.width - 8) // vc, (area.height - 8) // vr))
        # the window of cells: around the followed fisher when zoomed, else the map's middle
        if vr < rows or vc < cols:
            cr, cc = rows / 2, cols / 2
            if self.state.follow is not None:
                i = self.track.clamp(self.state.frame)
                cr = float(self.track["row"][i, self.state.follow]) + 0.5
                cc = float(self.track["col"][i, self.state.follow]) + 0.5
            r0 = int(np.clip(round(cr - vr / 2), 0, rows - vr))
            c0 = int(np.clip(round(cc - vc / 2), 0, cols - vc))
        else:
            r0 = c0 = 0
        window = (r0, c0, r0 + vr, c0 + vc)
        mw, mh = vc * cell, vr * cell
        map_rect = pygame.Rect(area.x + (area.width - mw) // 2, area.y + (area.height - mh) // 2, mw, mh)
        side = pygame.Rect(area.right, 0, w - area.right, h)
        timeline = pygame.Rect(8, area.bottom + 4, max(area.width - 16, 8), max(tl_h - 10, 8))
        return Layout(map_rect, side, timeline, cell, window, font)

    def draw(self, surface: pygame.Surface) -> None:
        """The current frame with everything around it, onto `surface` (any size)."""
        lay = self.layout = self.compute_layout(surface.get_size())
        surface.fill(BG)
        i = self.track.clamp(self.state.frame)
        scene = self.scene(i)
        front = self.state.weather_overlay and self.weather_band
        img = draw_scene(scene, lay.cell, lay.window, overlay=self.map_overlay(i), show_front=front)
        surface.blit(pygame.image.frombuffer(img.tobytes(), (img.shape[1], img.shape[0]), "RGB"),
                     lay.map_rect.topleft)
        self.draw_map_extras(surface, lay, i)
        self.draw_fisher_labels(surface, lay, scene)
        if front:
            self.draw_front_label(surface, lay, scene)
        self.draw_side(surface, lay, i)
        self.draw_timeline(surface, lay, i)
        if self.state.help:
            # the legend's cell: as large as the text, smaller if its 17 rows (marks 1.5 cells
            # high) would not fit the window's height
            room = surface.get_height() - 8 - 3 * int(lay.font * 1.15) - 34
            cell = int(np.clip(min(lay.font * 1.3, room / 19), 10, 40))
            glyphs = [(pygame.image.frombuffer(g.tobytes(), (g.shape[1], g.shape[0]), "RGB"), label)
                      for g, label in legend.glyphs(cell)]
            hud.help_box(surface, self.text, self.help_lines, lay.font, glyphs=glyphs)

    def scene(self, i: int) -> Scene:
        """What the map shows of frame i (human play hides fishers its fisher cannot see)."""
        return self.track.scene(i)

    def draw_front_label(self, surface: pygame.Surface, lay: Layout, scene: Scene) -> None:
        """What the sweeping edge on the map is: "storm in 23 ticks", beside the edge, at the top."""
        if not 0 <= scene.front_in <= FRONT_SHOWN:
            return
        names = self.track.meta["weather_states"]
        what = names[scene.front_to] if scene.front_to >= 0 else "front"
        edge = lay.map_rect.x + (front_edge(scene, scene.terrain.shape[1]) - lay.window[1]) * lay.cell
        label = self.text.render(f"{what} in {scene.front_in} ticks", lay.font, hud.HIDDEN)
        x = int(np.clip(edge + 6, lay.map_rect.x + 2, lay.map_rect.right - label.get_width() - 2))
        box = pygame.Rect(x - 3, lay.map_rect.y + 3, label.get_width() + 6, label.get_height() + 2)
        pygame.draw.rect(surface, (20, 16, 28), box)
        surface.blit(label, (x, lay.map_rect.y + 4))

    def draw_map_extras(self, surface: pygame.Surface, lay: Layout, i: int) -> None:
        """A hook for subclasses (human play masks what the fisher cannot see)."""

    def _cell_rect(self, lay: Layout, row: int, col: int) -> pygame.Rect | None:
        r0, c0, r1, c1 = lay.window
        if not (r0 <= row < r1 and c0 <= col < c1):
            return None
        return pygame.Rect(lay.map_rect.x + (col - c0) * lay.cell, lay.map_rect.y + (row - r0) * lay.cell,
                           lay.cell, lay.cell)

    def map_overlay(self, i: int) -> np.ndarray | None:
        """The RGBA wash per map cell that draw_scene blends under the fishers: the fish heat map."""
        if not self.state.fish_overlay:
            return None
        return self.fish_heat(self.track.fish_at(i))

    def fish_heat(self, fish: np.ndarray) -> np.ndarray:
        """The true fish field (hidden from the fishers) as (H, W, 4) RGBA over the water:
        pale yellow with few fish to opaque red with many (the scale is the track's fish_norm)."""
        t = np.clip(fish / max(self.track.fish_norm, 1e-6), 0.0, 1.0)
        rgba = np.zeros((*fish.shape, 4), dtype=np.uint8)
        rgba[..., 0] = 255
        rgba[..., 1] = (235 * (1.0 - t) ** 1.5).astype(np.uint8)
        rgba[..., 2] = (120 * (1.0 - t) ** 2).astype(np.uint8)
        water = np.isin(self.track.terrain_at(self.state.frame), WATER)  # the tide moves the shore
        rgba[..., 3] = np.where(water, 25 + 165 * t ** 1.5, 0).astype(np.uint8)
        return rgba

    def draw_fisher_labels(self, surface: pygame.Surface, lay: Layout, scene: Scene) -> None:
        """Slot numbers beside fishers (keys 1-9 follow them) and a ring round the followed one."""
        alive, rows, cols = scene.alive, scene.row, scene.col
        size = int(np.clip(lay.cell * 0.6, 10, lay.font))
        for f in np.flatnonzero(alive):
            rect = self._cell_rect(lay, int(rows[f]), int(cols[f]))
            if rect is None:
                continue
            if f == self.state.follow:
                pad = max(2, lay.cell // 5)
                ring = rect.inflate(2 * pad, 2 * pad)
                pygame.draw.rect(surface, (255, 255, 255), ring, max(1, lay.cell // 12))
            if lay.cell >= 12 or f == self.state.follow:
                label = self.text.render(str(f + 1), size, (255, 255, 255))
                surface.blit(label, (rect.right - label.get_width() // 2, rect.y - label.get_height() // 2))

    def side_sections(self, i: int) -> list[tuple[str, list[tuple[str, tuple[int, int, int]]]]]:
        """(title, [(line, colour)]) blocks of the HUD panel under the fishers; subclasses add theirs."""
        out = []
        if self.state.weather_overlay:
            out.append(("hidden weather", self._hidden_weather(i)))
        if self.state.fish_overlay:
            fish = self.track.fish_at(i)
            out.append(("true fish field", [(f"{float(fish.sum()):.0f} fish in the water", HIDDEN),
                                            ("heat map: more red, more fish", DIM)]))
        return out

    def _hidden_weather(self, i: int) -> list[tuple[str, tuple[int, int, int]]]:
        front = int(self.track["front_in"][i])
        lines = [(f"state: {self.track.weather_name(i)}", HIDDEN)]
        if front >= 0:
            n = self.track.n_frames
            upcoming = self.track["weather"][i:min(n, i + front + 2)]
            names = self.track.meta["weather_states"]
            to = names[int(upcoming[-1])] if front < len(upcoming) - 1 else "rain or storm"
            lines.append((f"next front: {to} in {front} ticks", HIDDEN))
        else:
            lines.append(("no front coming", HIDDEN))
        return lines

    def status_line(self) -> str:
        st = self.state
        speed = f"{st.speed:g} ticks/s"
        parts = ["paused" if st.paused else f"playing {speed}"]
        if st.paused:
            parts.append(speed)
        if st.follow is not None:
            parts.append(f"following {st.follow + 1}")
        if st.zoom > 1:
            parts.append(f"zoom x{st.zoom}")
        return " · ".join(parts)

    def draw_side(self, surface: pygame.Surface, lay: Layout, i: int) -> None:
        """The HUD panel: world, tick and time, the sky's cues, each fisher, hidden state, keys."""
        tr, side, fs = self.track, lay.side, lay.font
        pygame.draw.rect(surface, PANEL, side)
        x, y = side.x + fs // 2, fs // 2
        width = side.width - fs
        line = int(fs * 1.2)
        self.text.draw(surface, f"{tr.world} · {tr.policy}"[:48], (x, y), fs + 2, ACCENT)
        y += line + 4
        day, clock, night = tr.clock(i)
        tick = int(tr["tick"][i])
        self.text.draw(surface, f"tick {tick}  ({i + 1}/{tr.n_frames})", (x, y), fs)
        y += line
        self.text.draw(surface, f"day {day}  {clock}{'  night' if night else ''}", (x, y), fs)
        y += line
        self.text.draw(surface, self.status_line(), (x, y), _small(fs), DIM)
        y += line + 4
        baro = tr["barometer"]
        lo = max(0, i - SPARK_FRAMES + 1)
        trend = float(baro[i] - baro[max(0, i - 8)])
        arrow = "falling" if trend < -0.02 else ("rising" if trend > 0.02 else "steady")
        self.text.draw(surface, f"barometer {float(baro[i]):.2f} {arrow}", (x, y), fs)
        y += line
        hud.sparkline(surface, pygame.Rect(x, y, width, fs * 2), baro[lo:i + 1])
        y += fs * 2 + 4
        cloud = float(tr["cloud"][i])
        sky = {2: "rain", 3: "storm"}.get(int(tr["weather"][i]), "dry")
        self.text.draw(surface, f"cloud {cloud:.0%}  sky: {sky}", (x, y), fs)
        y += line + 4
        y = self.draw_fishers(surface, x, y, width, fs, i, side.bottom - 3 * line)
        for title, lines in self.side_sections(i):
            if y + line * (len(lines) + 1) > side.bottom - line:
                break
            y += 4
            hidden = "hidden" in title or "true" in title
            self.text.draw(surface, title, (x, y), fs, HIDDEN if hidden else ACCENT)
            y += line
            for text, colour in lines:
                self.text.draw(surface, text[:60], (x + fs // 2, y), _small(fs), colour)
                y += line
        self.draw_legend(surface, x, side.bottom - 2 * line - 2, width, _small(fs))
        foot = self.state.message or "H: keys and legend"
        self.text.draw(surface, foot[-60:], (x, side.bottom - line), _small(fs), DIM)

    def draw_legend(self, surface: pygame.Surface, x: int, y: int, width: int, size: int) -> None:
        """The timeline's lanes, top to bottom, in their colours (the band above them is the weather)."""
        label = "timeline:"
        x += self.text.draw(surface, label, (x, y), size, DIM) + size // 2
        for name in MARKS:
            w = self.text.render(name, size, hud.MARK_RGB[name]).get_width()
            if x + w > surface.get_width():
                break
            x += self.text.draw(surface, name, (x, y), size, hud.MARK_RGB[name]) + size // 2

    def draw_fishers(self, surface: pygame.Surface, x: int, y: int, width: int, fs: int, i: int,
                     bottom: int) -> int:
        """One row per fisher slot: swatch and number, hunger bar, fish carried, meals, catches."""
        tr = self.track
        hunger, alive, inv = tr["hunger"][i], tr["alive"][i], tr["inventory"][i]
        line, bite = tr["line"][i], tr["bite"][i]
        meals, catches = tr["ate_total"][i], tr["catch_total"][i]
        small = _small(fs)
        row_h = fs + small + 6
        for shown, f in enumerate(range(tr.n_fishers)):
            if y + row_h > bottom:
                self.text.draw(surface, f"+{tr.n_fishers - shown} more", (x, y), small, DIM)
                return y + int(fs * 1.2)
            colour = tuple(int(c) for c in FISHER_RGB[f % len(FISHER_RGB)])
            if f == self.state.follow:
                pygame.draw.rect(surface, (70, 76, 96), (x - 4, y - 2, width + 8, row_h - 2))
            pygame.draw.rect(surface, colour, (x, y + 2, fs - 4, fs - 4))
            label = f"{f + 1}"
            self.text.draw(surface, label, (x + fs, y), fs)
            bx = x + 2 * fs
            if alive[f]:
                hud.bar(surface, pygame.Rect(bx, y + 3, width - 2 * fs, fs - 6), float(hunger[f]),
                        hud.hunger_colour(float(hunger[f])))
                state = "bite!" if bite[f] > 0 else ("line out" if line[f] else "")
                info = f"fish {int(inv[f])}  meals {int(meals[f])}  caught {int(catches[f])}"
                self.text.draw(surface, info, (bx, y + fs), small, TEXT)
                if state:  # on the hunger bar's right end
                    label = self.text.render(state, small, (255, 230, 40) if bite[f] else TEXT)
                    surface.blit(label, (x + width - label.get_width(), y + fs))
            else:
                self.text.draw(surface, f"starved (meals {int(meals[f])})", (bx, y), small, hud.HUNGER_BAD)
            y += row_h
        return y

    def draw_timeline(self, surface: pygame.Surface, lay: Layout, i: int) -> None:
        rect = lay.timeline
        pic = self.timeline.picture(self.track, rect.width, rect.height, self.state.follow, self.weather_band)
        surface.blit(pic, rect.topleft)
        n = self.track.n_frames
        if self.state.weather_overlay:  # where the next front arrives
            front = int(self.track["front_in"][i])
            if front >= 0 and i + front < n:
                fx = Timeline.x_of(rect, n, i + front)
                pygame.draw.line(surface, HIDDEN, (fx, rect.y), (fx, rect.bottom), 2)
        px = Timeline.x_of(rect, n, i)
        pygame.draw.line(surface, (255, 255, 255), (px, rect.y - 3), (px, rect.bottom + 2), 2)


def _small(fs: int) -> int:
    """The size of secondary text: smaller than the main text, never below what a GIF can show."""
    return max(13, fs - 3)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in text).strip("-") or "world"
