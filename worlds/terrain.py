"""Terrain codes: what each map cell is, as the world schema names it (the floor under the core).

Codes index `worlds.schema.TERRAIN_NAMES`. VOID pads maps of different sizes inside one
batch and is never walkable nor water. The loader checks maps with these sets and the core
(`sim.terrain`) imports them from here, so both always agree.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from worlds.schema import TERRAIN_NAMES

VOID, LAND, SHORE, SHALLOW, DEEP, REEDS, ROCK, SHELTER, ICE = (TERRAIN_NAMES.index(name) for name in (
    "void", "land", "shore", "shallow", "deep", "reeds", "rock", "shelter", "ice"))
N_TERRAIN = len(TERRAIN_NAMES)

WALKABLE = (LAND, SHORE, SHELTER, ICE)
WATER = (SHALLOW, DEEP, REEDS)
SPAWNABLE = (LAND, SHORE, ICE)
FISHABLE_FROM = (LAND, SHORE, ICE)  # no casting from inside a shelter


def reachable(start: np.ndarray, through: np.ndarray) -> np.ndarray:
    """(H, W) bool: the cells of `through` that a walk of 4-neighbour steps inside `through`
    reaches from a `start` cell (start cells themselves included), by one breadth-first search."""
    seen = start & through
    queue = deque(zip(*np.nonzero(seen), strict=True))
    h, w = through.shape
    while queue:
        r, c = queue.popleft()
        for rr, cc in ((r - 1, c), (r + 1, c), (r, c + 1), (r, c - 1)):
            if 0 <= rr < h and 0 <= cc < w and through[rr, cc] and not seen[rr, cc]:
                seen[rr, cc] = True
                queue.append((rr, cc))
    return seen


def beside(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool: cells with a 4-neighbour in `mask`."""
    padded = np.pad(mask, 1)
    return padded[:-2, 1:-1] | padded[2:, 1:-1] | padded[1:-1, :-2] | padded[1:-1, 2:]
