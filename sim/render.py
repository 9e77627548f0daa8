"""A world's state as a picture (numpy only): an RGB array for people, or text for terminals.

One drawing path: a live `Simulation` (`scene_of`) or a recorded episode frame
(`scene_of_episode`) becomes a `Scene`, and `draw_scene` draws it. The env's
``render_mode="rgb_array"`` (`render_rgb`), the pygame live view, playback, video export
(viz/) and the browser view (viz.web) all call `draw_scene`, so they show the same picture
of the same state; viz/ only adds the window, HUD and text around it.

`draw_scene` draws glyphs, not coloured squares, so that a newcomer reads the map at a
glance (as in Crafter's textures or NetHack's glyphs): every terrain is a small tile made in
code and cached per cell size: grass tufts on land, pebbles on the shore, wavelets on
shallow and double waves on deep water, stalks with cattails in the reeds, a boulder for
rock, a hut with a roof for a shelter, cracks in ice. Fishers are a body in their slot
colour with the head towards the side they face; a cast shows the rod, the line and a
red-and-white bobber, and a bite shows as the dip (the bobber under, a bright splash).
Ripples (the only hint of fish a fisher gets) are rings on the water cells that some
fisher sees (its 7x7 view). Short-lived marks float up from where a catch, a meal, a missed
bite or a starvation happened (`event_marks`, from the recorded events). The sky tints the
tiles (cloud, rain, storm, night) and rain streaks the map; `show_front` adds the hidden
front as a wash with an edge that sweeps in from the west as the front nears.

Everything comes from the Scene: the renderer draws no random numbers, so the same state
always gives the same picture (tiles, sprites and rain masks are cached per cell size). The
hidden weather state is shown (this is a view for people, not a sense of the fishers).
`render_ansi` gives one character per cell, fishers as digits.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from sim import terrain as T
from sim import weather as W
from sim.observe import VIEW_RADIUS
from sim.scene import Scene, scene_of, world_shape
from sim.tide import terrain_now
from sim.tiles import (
    BITE_RGB,
    BOBBER_LOW_RGB,
    BOBBER_RGB,
    FISHER_RGB,
    FRONT_EDGE_RGB,
    FRONT_RGB,
    FRONT_SHOWN,
    GLYPH_MIN_CELL,
    LINE_RGB,
    MARKS,
    NIGHT_RGB,
    OUTLINE_ON_DARK,
    OUTLINE_RGB,
    OVERCAST_RGB,
    RAIN_RGB,
    RIPPLE_RGB,
    ROD_RGB,
    SKIN_RGB,
    TERRAIN_CHARS,
    VARIANTS,
    sprite_masks,
    tile_atlas,
)


def _check(sim, world: int, cell: int | None = None) -> tuple[int, int]:
    _check_cell(cell)
    return world_shape(sim, world)


def _check_cell(cell: int | None) -> None:
    if cell is not None and (isinstance(cell, bool) or int(cell) != cell or cell < 1):
        raise ValueError(f"cell: expected an integer >= 1 (pixels per map cell), got {cell!r}")


def _sky(scene: Scene) -> tuple[float, np.ndarray]:
    """The sky's tint as an affine map of colours, (a, b): colour * a + b, b (3,) float32.
    Cloud greys the map, rain and storm darken it, night blues it; one map for every tile, so
    tinting costs a pass over the tiles, not over the picture."""
    cloud = float(np.clip(np.float32(scene.cloud), 0.0, 1.0))  # float32: a recorded frame tints alike
    k = 0.35 * cloud
    a, b = 1.0 - k, k * OVERCAST_RGB
    dim = {W.RAIN: 0.82, W.STORM: 0.6}.get(int(scene.weather), 1.0)
    a, b = a * dim, b * dim
    if scene.night:
        a, b = 0.45 * a, 0.45 * b + 0.25 * NIGHT_RGB
    return a, b.astype(np.float32)


def _tinted_atlas(scene: Scene, cell: int, front: np.ndarray | None) -> np.ndarray:
    """The tiles under this sky, uint8; with `front` (a colour), a second set washed with it
    (the cells the hidden front covers), stacked on a leading axis of 2."""
    # (numpy broadcasts a (3,) colour over a last axis of 3 slowly: the colour is tiled over a
    # whole tile's pixels instead, 10x faster)
    a, b = _sky(scene)
    flat = tile_atlas(cell).reshape(T.N_TERRAIN * VARIANTS, -1)
    atlas = flat * np.float32(a) + np.tile(b, cell * cell)  # never above 255: a + b / 255 <= 1
    if front is not None:
        atlas = np.stack([atlas, atlas * np.float32(0.62) + np.tile(front * np.float32(0.38), cell * cell)])
    shape = (T.N_TERRAIN, VARIANTS, cell, cell, 3)
    return atlas.astype(np.uint8).reshape(shape if front is None else (2, *shape))


@lru_cache(maxsize=96)
def _rain_pixels(h: int, w: int, y0: int, x0: int, period: int, shift: int) -> np.ndarray:
    """Flat offsets (of the red bytes) of the rain streak pixels of an (h, w) image whose top-left
    pixel is (y0, x0)
    of the whole map's picture. The pattern repeats every 12 * period of `shift`, so a handful
    of masks serve a whole episode (computing one over a large image costs tens of ms)."""
    yy = np.arange(y0, y0 + h, dtype=np.int64)[:, None]
    xx = np.arange(x0, x0 + w, dtype=np.int64)[None, :]
    v = xx + yy // 3 + shift
    lane = v // period  # slanted lanes, one streak of dashes each
    streak = (v % period == 0) & ((yy + 7 * lane + 2 * shift) % 12 < 5)
    out = 3 * np.flatnonzero(streak)  # offsets of the red channel in the flat RGB bytes
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
    keep = 141 if scene.weather == W.RAIN else 102  # of 256: the streak's strength 0.45 or 0.6
    flat = img.reshape(-1)  # a channel at a time, with scalars: 3 times faster than (n, 3) rows
    for ch in range(3):
        at = idx + ch
        streak = int(RAIN_RGB[ch] * (256 - keep))
        flat[at] = ((flat[at].astype(np.uint16) * keep + streak) >> 8).astype(np.uint8)


def _blend_cells(cells: np.ndarray, rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """(k, cell, cell, 3) uint8 cells washed with one colour each ((k, 3), alpha (k,) in 0..255)."""
    k = cells.shape[0]
    a = alpha.astype(np.uint16)[:, None]
    mixed = cells.reshape(k, -1).astype(np.uint16)
    mixed *= 255 - a
    add = rgb.astype(np.uint16) * a + 128
    by_channel = mixed.reshape(k, -1, 3)
    for ch in range(3):  # a column per channel (see _tinted_atlas on broadcasting over 3)
        by_channel[..., ch] += add[:, ch:ch + 1]
    mixed += mixed >> 8
    mixed >>= 8  # (x + 128) / 255 rounded, without a division
    return mixed.astype(np.uint8).reshape(cells.shape)


def _seen(scene: Scene, h: int, w: int) -> np.ndarray:
    """(H, W) bool: the cells inside some living fisher's view (where ripples can be seen)."""
    seen = np.zeros((h, w), dtype=bool)
    for f in np.flatnonzero(scene.alive):
        r, c = int(scene.row[f]), int(scene.col[f])
        seen[max(r - VIEW_RADIUS, 0):r + VIEW_RADIUS + 1, max(c - VIEW_RADIUS, 0):c + VIEW_RADIUS + 1] = True
    return seen


def draw_scene(scene: Scene, cell: int = 16, window: tuple[int, int, int, int] | None = None,
               overlay: np.ndarray | None = None, show_front: bool = False) -> np.ndarray:
    """A Scene as an RGB image (rows*cell, cols*cell, 3) uint8: a pure function of its arguments.

    `window` = (row0, col0, row1, col1) draws only those map cells (a viewer zoomed into a
    large world); the picture of a window is the same as that part of the whole map's.
    `overlay` (H, W, 4) uint8 is an RGBA wash per map cell (a viewer's heat map or mask),
    blended over the tiles and ripples, under the rain, lines, fishers and marks.
    `show_front`: the hidden front (a view for people: fishers only sense its cues).
    """
    _check_cell(cell)
    cell = int(cell)
    h, w = scene.terrain.shape
    r0, c0, r1, c1 = (0, 0, h, w) if window is None else (int(v) for v in window)
    if not (0 <= r0 < r1 <= h and 0 <= c0 < c1 <= w):
        raise ValueError(f"window: expected (row0, col0, row1, col1) inside the {h}x{w} map, got {window}")
    if overlay is not None and overlay.shape != (h, w, 4):
        raise ValueError(f"overlay: expected shape ({h}, {w}, 4) (RGBA per map cell), got {overlay.shape}")
    # tiles, tinted by the sky once per tile (not per pixel), then one per map cell: the cells
    # stay a (rows, cols, cell, cell, 3) array until per-cell washes are done
    edge = front_edge(scene, w) if show_front else None
    colour = FRONT_RGB.get(scene.front_to, FRONT_RGB[W.RAIN])
    atlas = _tinted_atlas(scene, cell, None if edge is None else colour)
    rr = np.arange(r0, r1)[:, None]
    cc = np.arange(c0, c1)[None, :]
    index = (scene.terrain[r0:r1, c0:c1], (rr * 7 + cc * 3 + (rr // 2) * (cc // 3)) % VARIANTS)
    if edge is not None:  # the cells west of the front's edge take the washed tiles
        index = (np.broadcast_to(cc < edge, index[0].shape).astype(np.intp), *index)
    cells = atlas[index]
    if scene.ripples is not None and cell >= GLYPH_MIN_CELL:
        _ripples(cells, scene, h, w, (r0, c0, r1, c1), cell)
    if overlay is not None:
        wash = overlay[r0:r1, c0:c1]
        hit = wash[..., 3] > 0
        if hit.any():
            cells[hit] = _blend_cells(cells[hit], wash[hit][:, :3], wash[hit][:, 3])
    rows, cols = cells.shape[:2]
    img = np.ascontiguousarray(cells.transpose(0, 2, 1, 3, 4)).reshape(rows * cell, cols * cell, 3)
    oy, ox = r0 * cell, c0 * cell
    if edge is not None:
        _front_line(img, edge * cell - ox, oy)
    _rain(img, scene, oy, ox)
    roof = atlas[(0,) * (atlas.ndim - 5) + (T.SHELTER, 0)]  # the sky-tinted shelter tile (unwashed)
    _fishers(img, scene, cell, oy, ox, roof)
    _marks(img, scene, cell, oy, ox)
    return img


def _ripples(cells: np.ndarray, scene: Scene, h: int, w: int, window: tuple[int, int, int, int],
             cell: int) -> None:
    """Rings on the water cells some fisher sees, one per ripple level (in place, cell layout)."""
    r0, c0, r1, c1 = window
    level = np.where(_seen(scene, h, w), scene.ripples, 0)[r0:r1, c0:c1]
    sprites = sprite_masks(cell)
    for lv in range(1, 4):
        hit = level == lv
        if not hit.any():
            continue
        sel = cells[hit]  # (k, cell, cell, 3)
        mask = sprites[f"ripples{lv}"]
        for ch in range(3):
            plane = sel[..., ch]
            ring = np.float32(RIPPLE_RGB[ch] * 0.55)
            plane[:, mask] = (plane[:, mask] * np.float32(0.45) + ring).astype(np.uint8)
        cells[hit] = sel


def front_edge(scene: Scene, cols: int) -> int | None:
    """The map column the hidden front has reached (its wash covers the columns west of it), or
    None when no front is within FRONT_SHOWN ticks: it sweeps in from the west as it nears and
    covers the map when it arrives. Whole cells, so the wash is a choice of tiles, not a blend."""
    if not 0 <= scene.front_in <= FRONT_SHOWN:
        return None
    return int(round(cols * (1.0 - scene.front_in / FRONT_SHOWN)))


def _front_line(img: np.ndarray, x: int, y0: int) -> None:
    """The front's edge at pixel column x: a band of bulges, 3-6 pixels wide, in the colour the
    HUD gives hidden things. (y0: the image's first row in the whole map's picture.)"""
    hgt, wid = img.shape[:2]
    yy = np.arange(hgt)
    bulge = (3 + 3 * np.abs(np.sin((yy + y0 + 0.5) * np.pi / 24))).astype(int)
    for k in range(int(bulge.max())):
        xs = x - 1 - k
        if 0 <= xs < wid:  # (a zoomed window may not hold the edge)
            img[yy[bulge > k], xs] = FRONT_EDGE_RGB


def _stamp(img: np.ndarray, y0: int, x0: int, mask: np.ndarray, colour) -> None:
    """Paint `mask`'s pixels (a (cell, cell) bool array placed at (y0, x0)) in one colour, or
    with a (cell, cell, 3) picture's own pixels, clipped to the image (a fisher half outside a
    zoomed window is half drawn)."""
    h, w = img.shape[:2]
    n, m = mask.shape
    ya, xa = max(y0, 0), max(x0, 0)
    yb, xb = min(y0 + n, h), min(x0 + m, w)
    if ya < yb and xa < xb:
        part = mask[ya - y0:yb - y0, xa - x0:xb - x0]
        if np.ndim(colour) == 3:  # a picture of the mask's size: its own pixels
            colour = colour[ya - y0:yb - y0, xa - x0:xb - x0][part]
        img[ya:yb, xa:xb][part] = colour


def _paint(img: np.ndarray, y0: int, y1: int, x0: int, x1: int, colour: np.ndarray) -> None:
    """Fill a rectangle, clipped to the image (negative starts would wrap in numpy slicing)."""
    h, w = img.shape[:2]
    y0, x0 = max(y0, 0), max(x0, 0)
    y1, x1 = min(y1, h), min(x1, w)
    if y0 < y1 and x0 < x1:
        img[y0:y1, x0:x1] = colour


def _fishers(img: np.ndarray, scene: Scene, cell: int, oy: int, ox: int, shelter: np.ndarray) -> None:
    """Lines and bobbers first (a fisher stands over its own line), then the fishers; a fisher in
    a shelter under its roof (`shelter`: the shelter's tile as drawn), so sheltering shows."""
    half = cell // 2
    thick = max(1, cell // 14)
    sp = sprite_masks(cell) if cell >= GLYPH_MIN_CELL else None
    for f in np.flatnonzero(scene.alive & scene.line):
        r, c = int(scene.row[f]), int(scene.col[f])
        lr, lc = int(scene.line_row[f]), int(scene.line_col[f])
        y0, y1 = sorted((r * cell + half - oy, lr * cell + half - oy))
        x0, x1 = sorted((c * cell + half - ox, lc * cell + half - ox))
        if r == lr or c == lc:  # casts are straight ahead, so the line is a row or a column
            _paint(img, y0, y1 + thick, x0, x1 + thick, LINE_RGB)
        biting = int(scene.bite[f]) > 0
        by, bx = lr * cell - oy, lc * cell - ox
        if sp is None:  # small cells: a square bobber, large and yellow during a bite
            size = max(2, cell // 2) if biting else max(1, cell // 4)
            off = (cell - size) // 2
            _paint(img, by + off, by + off + size, bx + off, bx + off + size,
                   BITE_RGB if biting else BOBBER_RGB)
        elif biting:  # the dip: the bobber pulled under, a splash around it
            _stamp(img, by, bx, sp["splash"], BITE_RGB)
            _stamp(img, by, bx, sp["dip"], BOBBER_RGB)
        else:
            _stamp(img, by, bx, sp["bobber_top"], BOBBER_RGB)
            _stamp(img, by, bx, sp["bobber_low"], BOBBER_LOW_RGB)
            _stamp(img, by, bx, sp["bobber_edge"], OUTLINE_RGB)
    margin = max(1, cell // 6) if cell >= 4 else 0
    mark = max(1, cell // 4)
    for f in np.flatnonzero(scene.alive):
        r, c = int(scene.row[f]), int(scene.col[f])
        colour = FISHER_RGB[f % len(FISHER_RGB)]
        dark = int(colour.astype(np.int32).sum()) < 200
        facing = int(scene.facing[f])
        y0, x0 = r * cell - oy, c * cell - ox
        if sp is not None:  # a body in the slot colour, the head towards the facing side
            edge = OUTLINE_ON_DARK if dark else OUTLINE_RGB
            if scene.line[f]:
                _stamp(img, y0, x0, sp[f"rod{facing}"], ROD_RGB)
            _stamp(img, y0, x0, sp["body"], colour)
            _stamp(img, y0, x0, sp["body_edge"], edge)
            _stamp(img, y0, x0, sp[f"head{facing}"], SKIN_RGB)
            _stamp(img, y0, x0, sp[f"head_edge{facing}"], edge)
            if scene.terrain[r, c] == T.SHELTER:
                _stamp(img, y0, x0, sp["roof"], shelter)
            continue
        # small cells: a square with a mark on the side it faces
        size = cell - 2 * margin
        _paint(img, y0 + margin, y0 + margin + size, x0 + margin, x0 + margin + size, colour)
        if size < 3:
            continue
        mid = (size - mark) // 2
        dy, dx = {0: (0, mid), 1: (size - mark, mid), 2: (mid, size - mark), 3: (mid, 0)}[facing]
        _paint(img, y0 + margin + dy, y0 + margin + dy + mark, x0 + margin + dx, x0 + margin + dx + mark,
               OUTLINE_ON_DARK if dark else OUTLINE_RGB)


def _marks(img: np.ndarray, scene: Scene, cell: int, oy: int, ox: int) -> None:
    """Each event mark, at 60% of a cell over the upper right of its cell, rising as it ages."""
    if not len(scene.marks) or cell < GLYPH_MIN_CELL:
        return
    size = max(GLYPH_MIN_CELL, int(cell * 0.6))
    sp = sprite_masks(size)
    for kind, r, c, age in scene.marks.tolist():
        name, colour, _ = MARKS[kind]
        y0 = r * cell - oy - size // 3 - age * max(1, cell // 8)
        x0 = c * cell - ox + cell - size + size // 4
        _stamp(img, y0, x0, sp[f"{name}_edge"], OUTLINE_RGB)
        _stamp(img, y0, x0, sp[name], colour)
        if name == "starved":
            _stamp(img, y0, x0, sp["starved"], (200, 200, 206))
            _stamp(img, y0, x0, sp["starved_cross"], colour)


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
