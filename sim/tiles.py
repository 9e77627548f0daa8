"""What the map is drawn with (numpy only): the palette, and the tiles and sprites made in code and
cached per cell size (sim.render draws a Scene with them). Every terrain has a few tile variants,
picked by a cell's position, so the map does not look stamped; nothing here draws random numbers."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from sim import terrain as T
from sim import weather as W

# Terrain colours, indexed by terrain code (sim.terrain): the tiles' ground, and the whole
# cell when a cell is too small for a glyph.
TERRAIN_RGB = np.zeros((T.N_TERRAIN, 3), dtype=np.float32)
TERRAIN_RGB[T.VOID] = (18, 18, 22)
TERRAIN_RGB[T.LAND] = (118, 168, 78)
TERRAIN_RGB[T.SHORE] = (214, 196, 138)
TERRAIN_RGB[T.SHALLOW] = (96, 172, 222)
TERRAIN_RGB[T.DEEP] = (28, 78, 168)
TERRAIN_RGB[T.REEDS] = (70, 142, 132)
TERRAIN_RGB[T.ROCK] = (112, 150, 76)
TERRAIN_RGB[T.SHELTER] = (118, 168, 78)
TERRAIN_RGB[T.ICE] = (216, 234, 244)

# Terrain characters for text output (the lake's legend; ice '#', void blank).
TERRAIN_CHARS = np.array([" ", ".", ":", "-", "=", "%", "^", "H", "#"])
assert len(TERRAIN_CHARS) == T.N_TERRAIN

# Fisher colours by slot (cycled): chosen to stand out from every terrain colour.
FISHER_RGB = np.array([
    (232, 52, 44), (250, 150, 24), (214, 60, 214), (248, 232, 40), (250, 250, 250),
    (150, 40, 40), (255, 120, 170), (120, 40, 200), (40, 40, 40), (0, 230, 200),
], dtype=np.uint8)
OUTLINE_RGB = np.array((20, 20, 24), dtype=np.uint8)
OUTLINE_ON_DARK = np.array((240, 240, 240), dtype=np.uint8)
SKIN_RGB = np.array((244, 206, 166), dtype=np.uint8)
ROD_RGB = np.array((112, 70, 34), dtype=np.uint8)
LINE_RGB = np.array((236, 236, 236), dtype=np.uint8)
BOBBER_RGB = np.array((210, 30, 30), dtype=np.uint8)
BOBBER_LOW_RGB = np.array((250, 250, 250), dtype=np.uint8)
BITE_RGB = np.array((255, 255, 160), dtype=np.uint8)
RIPPLE_RGB = np.array((236, 246, 255), dtype=np.float32)

# Marks for events, drawn where they happened for a few ticks: (name, colour, ticks shown).
MARKS: tuple[tuple[str, tuple[int, int, int], int], ...] = (
    ("catch", (70, 220, 110), 4),
    ("ate", (90, 220, 255), 4),
    ("missed", (255, 150, 40), 3),
    ("starved", (255, 60, 60), 8),
)
MARK_TICKS = max(ticks for _, _, ticks in MARKS)  # how many frames back `event_marks` looks
NO_MARKS = np.zeros((0, 4), dtype=np.int32)

OVERCAST_RGB = np.array((150, 150, 160), dtype=np.float32)
NIGHT_RGB = np.array((16, 24, 70), dtype=np.float32)
RAIN_RGB = np.array((176, 196, 228), dtype=np.float32)
FRONT_RGB = {W.RAIN: np.array((70, 96, 170), dtype=np.float32),
             W.STORM: np.array((96, 40, 140), dtype=np.float32)}
FRONT_EDGE_RGB = np.array((236, 120, 236), dtype=np.uint8)  # the HUD's colour for hidden things
FRONT_SHOWN = 60  # ticks: a front further away than this is not on the map yet
GRID_SHADE = 0.86  # brightness of the last pixel row/column of each cell (cell >= 6)
GLYPH_MIN_CELL = 8  # smaller cells are plain colours (a 128x128 world seen whole)
VARIANTS = 4  # tiles per terrain, picked by the cell's position, so the map does not look stamped


# --- tiles and sprites (made in code, cached per cell size) --------------------------------------

def _unit(cell: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres of a cell in unit coordinates: (y, x), each (cell, cell) in [0, 1)."""
    c = (np.arange(cell, dtype=np.float32) + 0.5) / cell
    return np.meshgrid(c, c, indexing="ij")


def _segment(y, x, y0, x0, y1, x1, width):
    """Pixels within `width` of the segment (y0, x0)-(y1, x1) (unit coordinates)."""
    dy, dx = y1 - y0, x1 - x0
    t = np.clip(((y - y0) * dy + (x - x0) * dx) / max(dy * dy + dx * dx, 1e-9), 0.0, 1.0)
    return np.hypot(y - (y0 + t * dy), x - (x0 + t * dx)) <= width


def _roof(y, x):
    """The shelter's roof (drawn again over a fisher inside, who is then seen in the doorway)."""
    return (y > 0.1) & (y < 0.52) & (np.abs(x - 0.5) < (y - 0.1) * 1.05)


def _disc(y, x, cy, cx, r, ry=None):
    return ((y - cy) / (ry or r)) ** 2 + ((x - cx) / r) ** 2 <= 1.0


# where the small things of a tile go, per variant (unit coordinates, hand-placed)
_SPOTS = ((0.25, 0.3), (0.7, 0.68), (0.35, 0.78), (0.72, 0.22))


def _tile(kind: int, variant: int, cell: int) -> np.ndarray:
    """One terrain tile (cell, cell, 3) float32: its ground colour and its glyph."""
    img = np.empty((cell, cell, 3), np.float32)
    img[:] = TERRAIN_RGB[kind]
    if cell < GLYPH_MIN_CELL:
        return img
    y, x = _unit(cell)
    w = max(0.045, 1.0 / cell)
    sy, sx = _SPOTS[variant]
    if kind == T.LAND:  # two grass tufts
        for cy, cx in ((sy, sx), _SPOTS[(variant + 2) % 4]):
            tuft = _segment(y, x, cy, cx - 0.07, cy - 0.12, cx - 0.1, w) | \
                _segment(y, x, cy, cx, cy - 0.14, cx + 0.01, w) | \
                _segment(y, x, cy, cx + 0.07, cy - 0.12, cx + 0.11, w)
            img[tuft] = (84, 134, 56)
    elif kind == T.SHORE:  # pebbles
        for k, (cy, cx) in enumerate(_SPOTS):
            if k != variant:
                img[_disc(y, x, cy, cx, 0.06, 0.045)] = (176, 160, 116) if k % 2 else (236, 224, 184)
    elif kind in (T.SHALLOW, T.DEEP):  # wavelets; deep water has two rows of them, darker
        rows = (0.38, 0.74) if kind == T.DEEP else (0.3 + 0.4 * (variant % 2),)
        colour = (64, 112, 196) if kind == T.DEEP else (156, 208, 240)
        for k, cy in enumerate(rows):
            phase = 0.25 * ((variant + k) % 4)
            crest = np.abs(y - cy - 0.06 * np.sin(2 * np.pi * (1.6 * x + phase))) <= w * 0.9
            img[crest & (x > 0.12) & (x < 0.88)] = colour
    elif kind == T.REEDS:  # stalks with cattails
        for k, cx in enumerate((0.22, 0.44, 0.64, 0.82)):
            top = 0.3 + 0.1 * ((k + variant) % 3)
            img[_segment(y, x, 0.92, cx - 0.03, top, cx, w)] = (34, 96, 44)
            img[_disc(y, x, top, cx, 0.05, 0.1)] = (120, 78, 40)
    elif kind == T.ROCK:  # a boulder: shadow, body, highlight, outline
        body = _disc(y, x, 0.56, 0.5, 0.4, 0.33)
        img[_disc(y, x, 0.62, 0.54, 0.42, 0.33) & ~body] = (70, 100, 52)  # its shadow on the grass
        img[body] = (150, 148, 142)
        img[body & (x + y > 1.18)] = (112, 110, 106)
        img[_disc(y, x, 0.45, 0.38, 0.12, 0.08)] = (196, 194, 188)
        img[body & ~_disc(y, x, 0.56, 0.5, 0.4 - w * 1.3, 0.33 - w * 1.3)] = (62, 60, 58)
    elif kind == T.SHELTER:  # a hut: walls, a door and a roof
        walls = (x > 0.2) & (x < 0.8) & (y > 0.46) & (y < 0.9)
        img[walls] = (196, 140, 80)
        img[walls & ~((x > 0.2 + w) & (x < 0.8 - w) & (y < 0.9 - w))] = (70, 40, 20)
        img[(x > 0.42) & (x < 0.58) & (y > 0.62) & (y < 0.9)] = (70, 40, 20)
        roof = _roof(y, x)
        img[roof] = (176, 44, 36)
        img[roof & (np.abs(x - 0.5) > (y - 0.1) * 1.05 - w * 1.6)] = (90, 20, 16)
    elif kind == T.ICE:  # cracks
        img[_segment(y, x, 0.2 + 0.1 * variant, 0.15, 0.5, 0.55, w * 0.8)
            | _segment(y, x, 0.5, 0.55, 0.8, 0.5 + 0.08 * variant, w * 0.8)] = (170, 198, 222)
    if cell >= 6:  # the grid: the last pixel row and column of each cell are darker
        img[-1] *= GRID_SHADE
        img[:-1, -1] *= GRID_SHADE
    return img


@lru_cache(maxsize=16)
def tile_atlas(cell: int) -> np.ndarray:
    """Every tile: (N_TERRAIN, VARIANTS, cell, cell, 3) float32, read-only."""
    out = np.stack([np.stack([_tile(k, v, cell) for v in range(VARIANTS)]) for k in range(T.N_TERRAIN)])
    out.flags.writeable = False
    return out


@lru_cache(maxsize=16)
def sprite_masks(cell: int) -> dict[str, np.ndarray]:
    """Boolean (cell, cell) masks of the fisher, bobber, ripple and mark glyphs, read-only."""
    y, x = _unit(cell)
    w = max(0.05, 1.0 / cell)
    out: dict[str, np.ndarray] = {}
    body = _disc(y, x, 0.5, 0.5, 0.34)
    out["body"] = body
    out["roof"] = _roof(y, x)
    out["body_edge"] = body & ~_disc(y, x, 0.5, 0.5, 0.34 - w * 1.2)
    for facing, (dy, dx) in enumerate(T.MOVES):
        cy, cx = 0.5 + 0.2 * dy, 0.5 + 0.2 * dx
        head = _disc(y, x, cy, cx, 0.17)
        out[f"head{facing}"] = head
        out[f"head_edge{facing}"] = head & ~_disc(y, x, cy, cx, 0.17 - w)
        out[f"rod{facing}"] = _segment(y, x, cy, cx, 0.5 + 0.5 * dy, 0.5 + 0.5 * dx, w * 0.7)
    bob = _disc(y, x, 0.5, 0.5, 0.17)
    out["bobber_edge"] = bob & ~_disc(y, x, 0.5, 0.5, 0.17 - w)
    out["bobber_top"] = bob & (y < 0.5)
    out["bobber_low"] = bob & (y >= 0.5)
    r = np.hypot(y - 0.5, x - 0.5)
    out["dip"] = _disc(y, x, 0.56, 0.5, 0.09)  # the bobber pulled under: only its tip shows
    out["splash"] = (np.abs(r - 0.26) <= w * 1.1) | (np.abs(r - 0.42) <= w)
    for level in range(1, 4):  # ripples: one ring per level, broken like wind on water
        rings = np.zeros_like(body)
        for k in range(level):
            rings |= np.abs(r - (0.14 + 0.12 * k)) <= w * 0.6
        out[f"ripples{level}"] = rings & ((np.arctan2(y - 0.5, x - 0.5) * 3 / np.pi) % 2 < 1.4)
    # marks (drawn in the upper right of the cell, floating up as they age)
    fish = _disc(y, x, 0.5, 0.44, 0.3, 0.15) | (np.abs(y - 0.5) < (x - 0.7) * 0.9) & (x < 0.92)
    out["catch"] = fish & ~_disc(y, x, 0.46, 0.26, 0.04)  # an eye
    heart = _disc(y, x, 0.38, 0.36, 0.16) | _disc(y, x, 0.38, 0.64, 0.16) | \
        ((y >= 0.38) & (np.abs(x - 0.5) < (0.86 - y) * 0.95))
    out["ate"] = heart
    out["missed"] = _segment(y, x, 0.22, 0.22, 0.78, 0.78, w * 1.6) | \
        _segment(y, x, 0.22, 0.78, 0.78, 0.22, w * 1.6)
    stone = ((x > 0.24) & (x < 0.76) & (y > 0.4) & (y < 0.92)) | _disc(y, x, 0.4, 0.5, 0.26)
    out["starved"] = stone
    out["starved_cross"] = stone & (_segment(y, x, 0.3, 0.5, 0.74, 0.5, w) |
                                    _segment(y, x, 0.46, 0.36, 0.46, 0.64, w))
    for name in ("catch", "ate", "missed", "starved"):
        # the mark's outline: the ring of pixels just outside it (dark, so it reads on any tile)
        pad = np.pad(out[name], 1)
        near = pad[:-2, 1:-1] | pad[2:, 1:-1] | pad[1:-1, :-2] | pad[1:-1, 2:]
        out[f"{name}_edge"] = near & ~out[name]
    for mask in out.values():
        mask.flags.writeable = False
    return out
