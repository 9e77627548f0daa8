"""Landscapes for the generator: one map maker per archetype, and the shelters (numpy only).

Each maker draws a map of map characters (`CHARS`) from a random stream: water, its depth
and reeds, shore, rock, ice and tidal flats. `place_shelters` then puts shelters a few steps
from the fishing spots, never on them nor (where the land allows) beside them, so a storm is
worth seeing coming, and at least one near the richest water. Rivers and coasts are drawn in
one orientation (flowing east, the sea to the east) and turned, so the current and the sea can
face any way.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from worlds.terrain import components

CHARS = {"land": ".", "shore": ":", "shallow": "-", "deep": "=", "reeds": "%", "rock": "^",
         "shelter": "H", "ice": "*", "flat": "~"}
WATER_CHARS = ("-", "=", "%", "~")  # flats are water at high tide, when the map is checked
WALK_CHARS = (".", ":", "*")         # where fishers spawn and walk (shelters aside)
FAR = 1 << 30
# How shelters lie: (fewest, most) walking steps from the nearest fishing spot, and the fewest rows or
# columns between two shelters. No spot is beside a shelter (save in a patch of land too narrow for
# one further in), so a storm on is a storm felt.
LAYOUTS: dict[str, tuple[int, int, int]] = {"ring": (2, 3, 5), "many": (2, 2, 4), "few": (2, 4, 10),
                                            "far": (3, 5, 7)}
MIN_ISLAND = 6  # a walkable patch smaller than this (cells) becomes rock: no room for a shelter


def beside(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool: cells with a 4-neighbour in `mask` (`worlds.terrain.beside` without its padding
    copy: the generator calls it thousands of times a world)."""
    out = np.zeros_like(mask)
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    return out


def steps(start: np.ndarray, through: np.ndarray) -> np.ndarray:
    """(H, W) int64: 4-neighbour steps from the nearest `start` cell, walking inside `through`
    (FAR where no walk reaches). Whole-array dilations: as many as the longest walk."""
    dist = np.where(start, 0, FAR)
    seen, frontier, d = start.copy(), start.copy(), 0
    while frontier.any():
        d += 1
        frontier = beside(frontier) & through & ~seen
        dist[frontier] = d
        seen |= frontier
    return dist


def _ellipse(h: int, w: int, cy: float, cx: float, ry: float, rx: float) -> np.ndarray:
    rows, cols = np.ogrid[0:h, 0:w]
    return ((rows - cy) / ry) ** 2 + ((cols - cx) / rx) ** 2 <= 1.0


def _blobs(rng: np.random.Generator, h: int, w: int, n: int, radius: tuple[float, float],
           margin: int) -> np.ndarray:
    """The union of n random ellipses with radii in `radius`, centres `margin` cells inside the map."""
    mask = np.zeros((h, w), dtype=bool)
    for _ in range(n):
        ry, rx = rng.uniform(*radius, size=2)
        ry, rx = min(ry, max(1.0, h / 2 - margin)), min(rx, max(1.0, w / 2 - margin))
        cy = rng.uniform(margin + ry * 0.6, max(margin + ry * 0.6 + 1e-9, h - 1 - margin - ry * 0.6))
        cx = rng.uniform(margin + rx * 0.6, max(margin + rx * 0.6 + 1e-9, w - 1 - margin - rx * 0.6))
        mask |= _ellipse(h, w, cy, cx, ry, rx)
    return mask


def _paint(rng: np.random.Generator, water: np.ndarray, deep_from: int, reeds: float,
           shore: bool = True) -> np.ndarray:
    """A grid: water shallow at its rim and deep `deep_from` steps in, reeds along the rim, shore
    beside it, land elsewhere and a few rocks away from the water. A line lands at most
    fishing.cast_reach (2 in every shipped world) cells out: deep water 3 steps in is out of
    reach from the shore, so every water but the marsh's is deep from its second step, as the
    lake's is."""
    grid = np.full(water.shape, ".", dtype="<U1")
    to_land = steps(~water, np.ones_like(water))
    grid[water] = "-"
    grid[water & (to_land >= deep_from)] = "="
    grid[water & (to_land <= 2) & (rng.random(water.shape) < reeds)] = "%"
    near = beside(water)
    if shore:
        grid[~water & near] = ":"
    grid[~water & ~near & ~beside(near) & (rng.random(water.shape) < 0.03)] = "^"
    return grid


def lake(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, dict]:
    """One to three elliptic lakes, deep inside a shallow rim, reeds along it."""
    n = int(rng.integers(1, 4))
    water = _blobs(rng, h, w, n, (2.0, max(2.5, min(h, w) / (2.2 + n))), margin=3)
    water[:2], water[-2:], water[:, :2], water[:, -2:] = False, False, False, False
    return _paint(rng, water, 2, rng.uniform(0.05, 0.25)), {}


def _apart(rng: np.random.Generator, h: int, w: int, n: int, radius: tuple[float, float], margin: int,
           gap: int) -> np.ndarray:
    """Up to n random ellipses (`_blobs`), each at least `gap` cells of land from the others (a draw
    that would come closer is not dug; 10n draws at most, the largest radius shrinking to the
    smallest over them, so a crowded map still finds room for small ones)."""
    water = np.zeros((h, w), dtype=bool)
    tries = 10 * n
    for attempt in range(tries):
        low, high = radius
        blob = _blobs(rng, h, w, 1, (low, high - (high - low) * attempt / tries), margin)
        near = blob
        for _ in range(gap):
            near = near | beside(near)
        if not (near & water).any():
            water |= blob
            n -= 1
        if n == 0:
            break
    return water


def pond(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, dict]:
    """Several small ponds apart from each other, a deep hole in the bigger ones, that a few
    fishers empty fast."""
    n = int(np.clip(round(h * w / 55 * rng.uniform(0.6, 1.2)), 2, 40))
    return _paint(rng, _apart(rng, h, w, n, (1.0, 2.2), 2, 2), 2, rng.uniform(0.1, 0.3)), {}


def _turn(make: Callable[[int, int], tuple[np.ndarray, dict]], rng: np.random.Generator, h: int, w: int,
          facing: tuple[str, str, str, str]) -> tuple[np.ndarray, str]:
    """Draw a map made facing east and turn it to one of four ways: (east, west, south, north)."""
    way = int(rng.integers(4))
    grid, _ = make(w, h) if way >= 2 else make(h, w)
    if way == 1:
        grid = grid[:, ::-1]
    elif way >= 2:
        grid = grid.T[::-1] if way == 3 else grid.T
    return np.ascontiguousarray(grid), facing[way]


def river(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, dict]:
    """A winding river across the map with fords; the current carries the fish downstream."""
    def east(hh: int, ww: int) -> tuple[np.ndarray, dict]:
        half = rng.uniform(1.5, 2.8)
        x = np.arange(ww)
        centre = hh * rng.uniform(0.38, 0.62) + rng.uniform(0, 0.15 * hh) * np.sin(
            2 * np.pi * x / (ww * rng.uniform(0.6, 1.5)) + rng.uniform(0, 2 * np.pi))
        centre = np.clip(centre, half + 2, hh - 3 - half)
        water = np.abs(np.arange(hh)[:, None] - centre[None, :]) <= half
        for col in rng.choice(np.arange(2, max(3, ww - 2)), size=int(rng.integers(0, 3)), replace=False):
            water[:, col] = False  # a ford: dry land across
        return _paint(rng, water, 2, rng.uniform(0.05, 0.2)), {}
    grid, current = _turn(east, rng, h, w, ("east", "west", "south", "north"))
    return grid, {"current": current}


def coast(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, dict]:
    """A sea along one side behind a ragged line of tidal flats (shallow at high tide, dry at low)."""
    def east(hh: int, ww: int) -> tuple[np.ndarray, dict]:
        edge = np.empty(hh, dtype=np.int64)  # the flat's column on each row: a walk of +-1 steps
        edge[0] = round(ww * rng.uniform(0.5, 0.7))
        for r in range(1, hh):
            edge[r] = np.clip(edge[r - 1] + rng.choice((-1, 0, 0, 1)), 3, ww - 3)
        cols = np.arange(ww)[None, :]
        flats, sea = cols == edge[:, None], cols > edge[:, None]
        grid = _paint(rng, sea | flats, 2, 0.0)
        grid[sea & beside(flats) & (rng.random(sea.shape) < rng.uniform(0.1, 0.3))] = "%"
        grid[flats] = "~"
        return grid, {}
    grid, _ = _turn(east, rng, h, w, ("east", "west", "south", "north"))
    return grid, {}


def islands(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, dict]:
    """Two to four islands (fewer on small maps) in a sea that reaches every edge, one per stretch
    of the map's long side: each island a world of its own, with its own shelter."""
    long_side, short_side = max(h, w), min(h, w)
    n = int(rng.integers(2, max(3, min(5, long_side // 9 + 1))))
    stretch = (long_side - 2) / n
    land = np.zeros((h, w), dtype=bool)
    for i in range(n):
        along = rng.uniform(2.2, max(2.3, stretch / 2 - 0.3))
        across = rng.uniform(2.5, max(2.6, short_side / 2 - 2))
        centre_along = 1 + stretch * (i + 0.5)
        centre_across = rng.uniform(2 + across * 0.7, max(2 + across * 0.7, short_side - 3 - across * 0.7))
        if h >= w:
            land |= _ellipse(h, w, centre_along, centre_across, along, across)
        else:
            land |= _ellipse(h, w, centre_across, centre_along, across, along)
    land[:2], land[-2:], land[:, :2], land[:, -2:] = False, False, False, False
    return _paint(rng, ~land, 2, rng.uniform(0.05, 0.25)), {}


def fjord(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, dict]:
    """A long, narrow, deep inlet from one edge along the map's long side, cliffs on its flanks and
    reeds at its head."""
    def east(hh: int, ww: int) -> tuple[np.ndarray, dict]:
        length = max(4, round(ww * rng.uniform(0.65, 0.9)))
        half = rng.uniform(1.0, 1.6)  # 2 to 4 cells wide, each column overlapping the next
        x = np.arange(ww)
        centre = np.clip(hh / 2 - 0.5 + rng.uniform(0, 0.1 * hh) * np.sin(
            2 * np.pi * x / ww * rng.uniform(0.5, 1.5) + rng.uniform(0, 2 * np.pi)), half + 2, hh - 3 - half)
        water = (np.abs(np.arange(hh)[:, None] - centre[None, :]) <= half) & (x[None, :] < length)
        grid = _paint(rng, water, 1, 0.0)  # a fjord is deep wall to wall
        head = water & (x[None, :] >= length - 2)
        grid[head] = np.where(rng.random(head.sum()) < 0.5, "%", "-")
        cliff = (grid == ".") & beside(grid == ":") & (rng.random(water.shape) < 0.35)
        grid[cliff] = "^"
        return grid, {}
    if h > w:  # along the long side: drawn lying down, stood up, its mouth at the top or bottom
        grid = east(w, h)[0].T
        return np.ascontiguousarray(grid[::-1] if rng.random() < 0.5 else grid), {}
    grid = east(h, w)[0]
    return np.ascontiguousarray(grid[:, ::-1] if rng.random() < 0.5 else grid), {}


def marsh(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, dict]:
    """Many small shallow pools, a step of land between them, no deep water; most thick with
    reeds, some open (each pool its own share of reeds), so which pool to fish still matters."""
    n = int(np.clip(round(h * w / 14 * rng.uniform(0.7, 1.3)), 3, 400))
    water = _apart(rng, h, w, n, (0.6, 1.8), 1, 1)
    water[0], water[-1], water[:, 0], water[:, -1] = False, False, False, False
    grid = _paint(rng, water, FAR, 0.0)
    labels = components(water)
    pools = np.unique(labels[water])
    share = dict(zip(pools.tolist(), rng.choice((0.0, 0.5, 0.9, 1.0), size=len(pools)).tolist(), strict=True))
    thick = np.vectorize(share.get, otypes=[float])(np.where(water, labels, pools[0] if len(pools) else 0))
    grid[water & (rng.random(water.shape) < thick)] = "%"
    return grid, {}


def ice(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, dict]:
    """A frozen lake that fishers walk on, fished through holes in the ice."""
    frozen = _blobs(rng, h, w, int(rng.integers(1, 3)), (min(h, w) / 3, max(h, w) / 2), margin=2)
    frozen[0], frozen[-1], frozen[:, 0], frozen[:, -1] = False, False, False, False
    grid = np.full((h, w), ".", dtype="<U1")
    grid[frozen] = "*"
    to_edge = steps(~frozen, np.ones_like(frozen))
    spacing = int(rng.integers(4, 7))  # holes 4-6 cells apart (the ice world's are 4 or more)
    holes = np.zeros_like(frozen)
    for cell in rng.permutation(np.flatnonzero(frozen & (to_edge >= 2))):
        r, c = divmod(int(cell), w)
        if not holes[max(0, r - spacing + 1):r + spacing, max(0, c - spacing + 1):c + spacing].any():
            holes[r, c] = True
    grid[holes] = np.where(to_edge[holes] >= 3, "=", "-")
    grid[holes & (rng.random((h, w)) < 0.3)] = "%"
    grid[(grid == ".") & ~beside(frozen) & (rng.random((h, w)) < 0.03)] = "^"
    return grid, {}


MAKERS: dict[str, Callable[[np.random.Generator, int, int], tuple[np.ndarray, dict]]] = {
    "lake": lake, "pond": pond, "river": river, "coast": coast, "islands": islands, "fjord": fjord,
    "marsh": marsh, "ice": ice}
ARCHETYPES: tuple[str, ...] = tuple(MAKERS)


def rich_reach(spots: np.ndarray, rich: np.ndarray, reach: int) -> np.ndarray:
    """The fishing spots whose line can land on `rich` water: within `reach` steps of it (or, where
    none is, the spots nearest to it)."""
    if not rich.any() or not spots.any():
        return np.zeros_like(spots)
    to_rich = steps(rich, np.ones_like(rich))
    return spots & (to_rich <= max(reach, int(to_rich[spots].min())))


def place_shelters(rng: np.random.Generator, grid: np.ndarray, layout: str, rich: tuple[str, ...],
                   reach: int = 2, near_rich: int = 5) -> None:
    """Put shelters on `grid` (in place): per the layout, a few steps from the fishing spots and
    apart from each other; then one in every walkable patch that has none (patches too small for
    one become rock) and, if none is within `near_rich` steps of a spot whose line (`reach`) lands
    on the `rich` water, one as near to it as a shelter may be (2 steps from any spot)."""
    low, high, apart = LAYOUTS[layout]
    water = np.isin(grid, WATER_CHARS)
    walk = np.isin(grid, WALK_CHARS)
    spots = walk & beside(water)
    to_spot = steps(spots, walk)
    labels = components(walk)
    sizes = np.bincount(labels[walk], minlength=1)
    small = walk & (sizes[np.maximum(labels, 0)] < MIN_ISLAND)
    grid[small] = "^"
    walk &= ~small
    free = walk & ~spots
    chosen = np.zeros_like(walk)
    for cell in rng.permutation(np.flatnonzero(free & (to_spot >= low) & (to_spot <= high))):
        r, c = divmod(int(cell), grid.shape[1])
        if not (chosen[max(0, r - apart + 1):r + apart, max(0, c - apart + 1):c + apart]).any():
            chosen[r, c] = True
    for label in np.unique(labels[walk & spots]):
        patch = labels == label
        if not (chosen & patch).any():  # nearest to `low` steps from a spot, in the patch
            score = np.where(patch & free, np.abs(to_spot - low), FAR)
            score = score if score.min() < FAR else np.where(patch & walk, 0, FAR)
            chosen.flat[int(np.argmin(score))] = True
    rich_spots = rich_reach(spots, np.isin(grid, rich), reach)
    if rich_spots.any() and steps(chosen, walk)[rich_spots].min() > near_rich:
        score = np.where(free & (to_spot >= 2), steps(rich_spots, walk), FAR)
        if score.min() < FAR:
            chosen.flat[int(np.argmin(score))] = True
    grid[chosen] = "H"
