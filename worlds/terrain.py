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
    reaches from a `start` cell (start cells themselves included), by one breadth-first search
    over flat Python lists (numpy element access would cost ten times more per cell)."""
    h, w = through.shape
    open_ = through.ravel().tolist()
    seen = (start & through).ravel().tolist()
    queue = deque(i for i, s in enumerate(seen) if s)
    while queue:
        i = queue.popleft()
        c = i % w
        for j in (i - w, i + w, i + 1 if c + 1 < w else -1, i - 1 if c > 0 else -1):
            if 0 <= j < h * w and open_[j] and not seen[j]:
                seen[j] = True
                queue.append(j)
    return np.array(seen, dtype=bool).reshape(h, w)


def beside(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool: cells with a 4-neighbour in `mask`."""
    padded = np.pad(mask, 1)
    return padded[:-2, 1:-1] | padded[2:, 1:-1] | padded[1:-1, :-2] | padded[1:-1, 2:]
