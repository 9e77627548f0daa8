"""A world's state as a picture (numpy only): an RGB array for people, or text for terminals.

One drawing path: a live `Simulation` (`scene_of`) or a recorded episode frame
(`scene_of_episode`) becomes a `Scene`, and `draw_scene` draws it. The env's
``render_mode="rgb_array"`` (`render_rgb`), the pygame live view, playback and video export
(viz/) all call `draw_scene`, so they show the same picture of the same state; viz/ only
adds the window, HUD, overlays and text around it.

`draw_scene` draws terrain from a colour lookup table scaled up with `np.repeat`, tints
it by cloud cover, rain, storm and night, streaks rain over it, and draws each fisher
(a coloured square with a dark mark on the side it faces) and its line (a bobber on the
cast target cell, large and bright yellow while a bite shows). Everything comes from the
state: the renderer draws no random numbers, so the same state always gives the same
picture (the rain streak masks are cached, they depend only on the tick's phase and the
image size). The hidden weather state is shown (this is a view for people, not a sense of
the fishers). `render_ansi` gives one character per cell, fishers as digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from sim import terrain as T
from sim import weather as W
from sim.tide import terrain_now

# Terrain colours, indexed by terrain code (sim.terrain).
TERRAIN_RGB = np.zeros((T.N_TERRAIN, 3), dtype=np.float32)
TERRAIN_RGB[T.VOID] = (18, 18, 22)
TERRAIN_RGB[T.LAND] = (118, 168, 78)
TERRAIN_RGB[T.SHORE] = (214, 196, 138)
TERRAIN_RGB[T.SHALLOW] = (96, 172, 222)
TERRAIN_RGB[T.DEEP] = (28, 78, 168)
TERRAIN_RGB[T.REEDS] = (62, 132, 104)
TERRAIN_RGB[T.ROCK] = (122, 118, 114)
TERRAIN_RGB[T.SHELTER] = (146, 88, 48)
TERRAIN_RGB[T.ICE] = (216, 234, 244)

# Terrain characters for text output (the lake's legend; ice '#', void blank).
TERRAIN_CHARS = np.array([" ", ".", ":", "-", "=", "%", "^", "H", "#"])
assert len(TERRAIN_CHARS) == T.N_TERRAIN

# Fisher colours by slot (cycled): chosen to stand out from every terrain colour.
FISHER_RGB = np.array([
    (232, 52, 44), (250, 150, 24), (214, 60, 214), (248, 232, 40), (250, 250, 250),
    (150, 40, 40), (255, 120, 170), (120, 40, 200), (40, 40, 40), (0, 230, 200),
], dtype=np.uint8)
FACING_MARK = np.array((16, 16, 16), dtype=np.uint8)
FACING_MARK_ON_DARK = np.array((240, 240, 240), dtype=np.uint8)
LINE_RGB = np.array((236, 236, 236), dtype=np.uint8)
BOBBER_RGB = np.array((210, 30, 30), dtype=np.uint8)
BITE_RGB = np.array((255, 255, 40), dtype=np.uint8)

OVERCAST_RGB = np.array((150, 150, 160), dtype=np.float32)
NIGHT_RGB = np.array((16, 24, 70), dtype=np.float32)
RAIN_RGB = np.array((176, 196, 228), dtype=np.float32)
GRID_SHADE = 0.86  # brightness of the last pixel row/column of each cell (cell >= 6)


def _check(sim, world: int, cell: int | None = None) -> tuple[int, int]:
    if not 0 <= int(world) < sim.n_worlds:
        raise ValueError(f"world: expected an index in [0, {sim.n_worlds}), got {world}")
    _check_cell(cell)
    return sim.batch.worlds[int(world)].shape


def _check_cell(cell: int | None) -> None:
    if cell is not None and (isinstance(cell, bool) or int(cell) != cell or cell < 1):
        raise ValueError(f"cell: expected an integer >= 1 (pixels per map cell), got {cell!r}")


@dataclass(frozen=True)
class Scene:
    """Everything a picture of one world at one moment depends on (one world, F fisher slots).

    A live `Simulation` (`scene_of`) and a recorded episode frame (`scene_of_episode`) both
    become a Scene, so the env's rgb_array, the live view, playback and export draw through
    the one function `draw_scene`.
    """

    terrain: np.ndarray   # (H, W) terrain codes (the world's own map, no batch padding)
    tick: int
    weather: int          # hidden weather state (sim.weather CLEAR..STORM)
    cloud: float          # cloud cover in [0, 1]
    night: bool
    row: np.ndarray       # (F,) fisher cell
    col: np.ndarray
    facing: np.ndarray    # (F,) 0 north, 1 south, 2 east, 3 west
    alive: np.ndarray     # (F,) bool
    line: np.ndarray      # (F,) bool: a line is out
    line_row: np.ndarray  # (F,) where it lies
    line_col: np.ndarray
    bite: np.ndarray      # (F,) ticks left of a showing bite


def scene_of(sim, world: int = 0) -> Scene:
    """The Scene of one world of a live `Simulation` (copies, so later steps do not change it)."""
    h, w = _check(sim, world)
    world = int(world)
    s = sim.state
    return Scene(
        terrain=np.asarray(terrain_now(s, sim.batch, world)[:h, :w]).copy(), tick=int(s.tick[world]),
        weather=int(s.weather[world]), cloud=float(s.cloud[world]),
        night=bool(W.is_night(s, sim.batch)[world]),
        **{k: getattr(s, k)[world].copy() for k in _FISHER_FIELDS},
    )


def night_at(tick: int, day_length: int, night_fraction: float) -> bool:
    """Night by the step function's rule: the day's last `night_fraction` (sim.kernels._world_senses)."""
    day = (int(tick) % float(day_length)) / float(day_length)
    return bool(day >= 1.0 - float(night_fraction))


def scene_of_episode(episode, frame: int) -> Scene:
    """The Scene of frame `frame` of a recorded episode (`sim.record.Episode` or anything with its
    arrays and meta["params"]["time"])."""
    n = int(episode.tick.shape[0])
    if not -n <= int(frame) < n:
        raise IndexError(f"frame: expected an index in [0, {n}), got {frame}")
    i = int(frame)
    tick = int(episode.tick[i])
    time = episode.meta["params"]["time"]
    return Scene(
        terrain=episode.terrain_at(i) if hasattr(episode, "terrain_at") else episode.terrain, tick=tick,
        weather=int(episode.weather[i]),
        cloud=float(episode.cloud[i]), night=night_at(tick, time["day_length"], time["night_fraction"]),
        **{k: getattr(episode, k)[i] for k in _FISHER_FIELDS},
    )


_FISHER_FIELDS = ("row", "col", "facing", "alive", "line", "line_row", "line_col", "bite")


def _tint(base: np.ndarray, scene: Scene) -> np.ndarray:
    """Sky over the map (float32 (H, W, 3)): cloud greys it, rain and storm darken, night blues."""
    cloud = float(np.clip(np.float32(scene.cloud), 0.0, 1.0))  # float32: a recorded frame tints alike
    out = base + 0.35 * cloud * (OVERCAST_RGB - base)
    if scene.weather == W.RAIN:
        out *= 0.82
    elif scene.weather == W.STORM:
        out *= 0.6
    if scene.night:
        out = 0.45 * out + 0.25 * NIGHT_RGB
    return out


@lru_cache(maxsize=96)
def _rain_pixels(h: int, w: int, y0: int, x0: int, period: int, shift: int) -> np.ndarray:
    """Flat indices of the rain streak pixels of an (h, w) image whose top-left pixel is (y0, x0)
    of the whole map's picture. The pattern repeats every 12 * period of `shift`, so a handful
    of masks serve a whole episode (computing one over a large image costs tens of ms)."""
    yy = np.arange(y0, y0 + h, dtype=np.int64)[:, None]
    xx = np.arange(x0, x0 + w, dtype=np.int64)[None, :]
    v = xx + yy // 3 + shift
    lane = v // period  # slanted lanes, one streak of dashes each
    streak = (v % period == 0) & ((yy + 7 * lane + 2 * shift) % 12 < 5)
    out = np.flatnonzero(streak)
    out.flags.writeable = False
    return out


def _rain(img: np.ndarray, scene: Scene, y0: int = 0, x0: int = 0) -> None:
    """Diagonal rain streaks that drift with the tick (deterministic), denser in a storm."""
    if scene.weather < W.RAIN:
        return
    period = 9 if scene.weather == W.RAIN else 5
    h, w = img.shape[:2]
    shift = (int(scene.tick) * 3) % (12 * period)
    idx = _rain_pixels(h, w, y0, x0, period, shift)
    strength = 0.45 if scene.weather == W.RAIN else 0.6
    flat = img.reshape(-1, 3)
    flat[idx] = (flat[idx] * (1 - strength) + RAIN_RGB * strength).astype(np.uint8)


def draw_scene(scene: Scene, cell: int = 16, window: tuple[int, int, int, int] | None = None,
               overlay: np.ndarray | None = None) -> np.ndarray:
    """A Scene as an RGB image (rows*cell, cols*cell, 3) uint8: a pure function of its arguments.

    `window` = (row0, col0, row1, col1) draws only those map cells (a viewer zoomed into a
    large world); the picture of a window is the same as that part of the whole map's.
    `overlay` (H, W, 4) uint8 is an RGBA wash per map cell (a viewer's heat map or mask),
    blended over the sky-tinted terrain under the rain, lines and fishers: blending one
    colour per cell costs nothing next to blending every pixel.
    """
    _check_cell(cell)
    cell = int(cell)
    h, w = scene.terrain.shape
    r0, c0, r1, c1 = (0, 0, h, w) if window is None else (int(v) for v in window)
    if not (0 <= r0 < r1 <= h and 0 <= c0 < c1 <= w):
        raise ValueError(f"window: expected (row0, col0, row1, col1) inside the {h}x{w} map, got {window}")
    base = TERRAIN_RGB[scene.terrain[r0:r1, c0:c1]]
    small = np.clip(_tint(base, scene), 0, 255)
    if overlay is not None:
        if overlay.shape != (h, w, 4):
            raise ValueError(f"overlay: expected shape ({h}, {w}, 4) (RGBA per map cell), "
                             f"got {overlay.shape}")
        wash = overlay[r0:r1, c0:c1].astype(np.float32)
        alpha = wash[..., 3:] / 255.0
        small = small * (1.0 - alpha) + wash[..., :3] * alpha
    small = small.astype(np.uint8)
    rows, cols = small.shape[:2]
    # widen each map row once, then copy it down the cell's pixel rows: the same picture as
    # np.repeat on both axes, about 15x faster at 40 pixels a cell
    img = np.empty((rows, cell, cols * cell, 3), dtype=np.uint8)
    img[:] = np.repeat(small, cell, axis=1)[:, None]
    img = img.reshape(rows * cell, cols * cell, 3)
    if cell >= 6:
        img[cell - 1::cell] = (img[cell - 1::cell] * GRID_SHADE).astype(np.uint8)
        img[:, cell - 1::cell] = (img[:, cell - 1::cell] * GRID_SHADE).astype(np.uint8)
    _rain(img, scene, r0 * cell, c0 * cell)

    # fishers and lines in window pixel coordinates; slices clip what lies outside
    oy, ox = r0 * cell, c0 * cell
    half = cell // 2
    thick = max(1, cell // 16)
    for f in np.flatnonzero(scene.alive & scene.line):
        r, c = int(scene.row[f]), int(scene.col[f])
        lr, lc = int(scene.line_row[f]), int(scene.line_col[f])
        y0, y1 = sorted((r * cell + half - oy, lr * cell + half - oy))
        x0, x1 = sorted((c * cell + half - ox, lc * cell + half - ox))
        if r == lr or c == lc:  # casts are straight ahead, so the line is a row or a column
            _paint(img, y0, y1 + thick, x0, x1 + thick, LINE_RGB)
        biting = int(scene.bite[f]) > 0
        size = max(2, cell // 2) if biting else max(1, cell // 4)
        by, bx = lr * cell + (cell - size) // 2 - oy, lc * cell + (cell - size) // 2 - ox
        _paint(img, by, by + size, bx, bx + size, BITE_RGB if biting else BOBBER_RGB)

    margin = max(1, cell // 6) if cell >= 4 else 0
    mark = max(1, cell // 4)
    for f in np.flatnonzero(scene.alive):
        r, c = int(scene.row[f]), int(scene.col[f])
        colour = FISHER_RGB[f % len(FISHER_RGB)]
        y0, x0 = r * cell + margin - oy, c * cell + margin - ox
        size = cell - 2 * margin
        _paint(img, y0, y0 + size, x0, x0 + size, colour)
        if size < 3:
            continue
        facing = int(scene.facing[f])
        mid = (size - mark) // 2
        dy, dx = {0: (0, mid), 1: (size - mark, mid), 2: (mid, size - mark), 3: (mid, 0)}[facing]
        dark = int(colour.astype(np.int32).sum()) < 200
        _paint(img, y0 + dy, y0 + dy + mark, x0 + dx, x0 + dx + mark,
               FACING_MARK_ON_DARK if dark else FACING_MARK)
    return img


def _paint(img: np.ndarray, y0: int, y1: int, x0: int, x1: int, colour: np.ndarray) -> None:
    """Fill a rectangle, clipped to the image (negative starts would wrap in numpy slicing)."""
    h, w = img.shape[:2]
    y0, x0 = max(y0, 0), max(x0, 0)
    y1, x1 = min(y1, h), min(x1, w)
    if y0 < y1 and x0 < x1:
        img[y0:y1, x0:x1] = colour


def render_rgb(sim, world: int = 0, cell: int = 16) -> np.ndarray:
    """One world of `sim` as an RGB image (H*cell, W*cell, 3) uint8, a pure function of its state."""
    _check(sim, world, cell)
    return draw_scene(scene_of(sim, world), cell)


def render_ansi(sim, world: int = 0) -> str:
    """One world as text: one line per map row, one character per cell.

    Terrain uses the lake legend (`.` land, `:` shore, `-` shallow, `=` deep, `%` reeds,
    `^` rock, `H` shelter, `#` ice, blank void); `o` is a bobber, `!` a bobber with a
    bite showing; living fishers are their slot number modulo 10.
    """
    h, w = _check(sim, world)
    world = int(world)
    s = sim.state
    grid = TERRAIN_CHARS[terrain_now(sim.state, sim.batch, world)[:h, :w]].astype("<U1")
    lines = s.line[world] & s.alive[world]
    grid[s.line_row[world, lines], s.line_col[world, lines]] = np.where(s.bite[world, lines] > 0, "!", "o")
    for f in np.flatnonzero(s.alive[world]):
        grid[s.row[world, f], s.col[world, f]] = str(f % 10)
    return "\n".join("".join(row) for row in grid)
