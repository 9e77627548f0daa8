"""A world's state as a picture (numpy only): an RGB array for people, or text for terminals.

`render_rgb` draws terrain from a colour lookup table scaled up with `np.repeat`, tints
it by cloud cover, rain, storm and night, streaks rain over it, and draws each fisher
(a coloured square with a dark mark on the side it faces) and its line (a bobber on the
cast target cell, large and bright yellow while a bite shows). Everything comes from the
state: the renderer draws no random numbers, so the same state always gives the same
picture. The hidden weather state is shown (this is a view for people, not a sense of
the fishers). `render_ansi` gives one character per cell, fishers as digits.
"""

from __future__ import annotations

import numpy as np

from sim import terrain as T
from sim import weather as W

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
    if cell is not None and (isinstance(cell, bool) or int(cell) != cell or cell < 1):
        raise ValueError(f"cell: expected an integer >= 1 (pixels per map cell), got {cell!r}")
    return sim.batch.worlds[int(world)].shape


def _tint(base: np.ndarray, sim, world: int) -> np.ndarray:
    """Sky over the map (float32 (H, W, 3)): cloud greys it, rain and storm darken, night blues."""
    s = sim.state
    weather = int(s.weather[world])
    cloud = float(np.clip(s.cloud[world], 0.0, 1.0))
    out = base + 0.35 * cloud * (OVERCAST_RGB - base)
    if weather == W.RAIN:
        out *= 0.82
    elif weather == W.STORM:
        out *= 0.6
    night = bool(W.is_night(s, sim.batch)[world])
    if night:
        out = 0.45 * out + 0.25 * NIGHT_RGB
    return out


def _rain(img: np.ndarray, sim, world: int) -> None:
    """Diagonal rain streaks that drift with the tick (deterministic), denser in a storm."""
    s = sim.state
    weather = int(s.weather[world])
    if weather < W.RAIN:
        return
    period = 9 if weather == W.RAIN else 5
    h, w = img.shape[:2]
    yy = np.arange(h)[:, None]
    xx = np.arange(w)[None, :]
    shift = int(s.tick[world]) * 3
    lane = (xx + yy // 3 + shift) // period  # slanted lanes, one streak of dashes each
    streak = ((xx + yy // 3 + shift) % period == 0) & ((yy + 7 * lane + 2 * shift) % 12 < 5)
    strength = 0.45 if weather == W.RAIN else 0.6
    img[streak] = (img[streak] * (1 - strength) + RAIN_RGB * strength).astype(np.uint8)


def render_rgb(sim, world: int = 0, cell: int = 16) -> np.ndarray:
    """One world of `sim` as an RGB image (H*cell, W*cell, 3) uint8, a pure function of its state."""
    h, w = _check(sim, world, cell)
    cell = int(cell)
    world = int(world)
    s = sim.state
    base = TERRAIN_RGB[sim.batch.terrain[world, :h, :w]]
    small = np.clip(_tint(base, sim, world), 0, 255).astype(np.uint8)
    img = np.repeat(np.repeat(small, cell, axis=0), cell, axis=1)
    if cell >= 6:
        img[cell - 1::cell] = (img[cell - 1::cell] * GRID_SHADE).astype(np.uint8)
        img[:, cell - 1::cell] = (img[:, cell - 1::cell] * GRID_SHADE).astype(np.uint8)
    _rain(img, sim, world)

    half = cell // 2
    thick = max(1, cell // 16)
    for f in np.flatnonzero(s.alive[world] & s.line[world]):
        r, c = int(s.row[world, f]), int(s.col[world, f])
        lr, lc = int(s.line_row[world, f]), int(s.line_col[world, f])
        y0, y1 = sorted((r * cell + half, lr * cell + half))
        x0, x1 = sorted((c * cell + half, lc * cell + half))
        if r == lr or c == lc:  # casts are straight ahead, so the line is a row or a column
            img[y0:y1 + thick, x0:x1 + thick] = LINE_RGB
        biting = int(s.bite[world, f]) > 0
        size = max(2, cell // 2) if biting else max(1, cell // 4)
        by, bx = lr * cell + (cell - size) // 2, lc * cell + (cell - size) // 2
        img[by:by + size, bx:bx + size] = BITE_RGB if biting else BOBBER_RGB

    margin = max(1, cell // 6) if cell >= 4 else 0
    mark = max(1, cell // 4)
    for f in np.flatnonzero(s.alive[world]):
        r, c = int(s.row[world, f]), int(s.col[world, f])
        colour = FISHER_RGB[f % len(FISHER_RGB)]
        y0, x0 = r * cell + margin, c * cell + margin
        size = cell - 2 * margin
        img[y0:y0 + size, x0:x0 + size] = colour
        if size < 3:
            continue
        facing = int(s.facing[world, f])
        mid = (size - mark) // 2
        dy, dx = {0: (0, mid), 1: (size - mark, mid), 2: (mid, size - mark), 3: (mid, 0)}[facing]
        dark = int(colour.astype(np.int32).sum()) < 200
        img[y0 + dy:y0 + dy + mark, x0 + dx:x0 + dx + mark] = FACING_MARK_ON_DARK if dark else FACING_MARK
    return img


def render_ansi(sim, world: int = 0) -> str:
    """One world as text: one line per map row, one character per cell.

    Terrain uses the lake legend (`.` land, `:` shore, `-` shallow, `=` deep, `%` reeds,
    `^` rock, `H` shelter, `#` ice, blank void); `o` is a bobber, `!` a bobber with a
    bite showing; living fishers are their slot number modulo 10.
    """
    h, w = _check(sim, world)
    world = int(world)
    s = sim.state
    grid = TERRAIN_CHARS[sim.batch.terrain[world, :h, :w]].astype("<U1")
    lines = s.line[world] & s.alive[world]
    grid[s.line_row[world, lines], s.line_col[world, lines]] = np.where(s.bite[world, lines] > 0, "!", "o")
    for f in np.flatnonzero(s.alive[world]):
        grid[s.row[world, f], s.col[world, f]] = str(f % 10)
    return "\n".join("".join(row) for row in grid)
