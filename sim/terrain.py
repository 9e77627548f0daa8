"""Terrain codes and the static fields derived from a map (numpy only).

The codes themselves live in `worlds.terrain` (with the world schema, below the core);
this module re-exports them beside the fields the core derives from a map.
"""

from __future__ import annotations

from collections import deque

import numpy as np

# the codes belong to the world schema, below the core (one source for the loader and the core)
from worlds.terrain import (  # noqa: F401  (re-exported: the core reads them as sim.terrain.X)
    DEEP,
    FISHABLE_FROM,
    ICE,
    LAND,
    N_TERRAIN,
    REEDS,
    ROCK,
    SHALLOW,
    SHELTER,
    SHORE,
    SPAWNABLE,
    VOID,
    WALKABLE,
    WATER,
)

# Moves: north, south, east, west as (row, col) steps; index = action - 1.
MOVES = np.array([[-1, 0], [1, 0], [0, 1], [0, -1]], dtype=np.int64)
NO_DIRECTION = 4  # for the shelter sense when standing in a shelter or none reachable


def water_mask(terrain: np.ndarray) -> np.ndarray:
    return np.isin(terrain, WATER)


def walk_mask(terrain: np.ndarray) -> np.ndarray:
    return np.isin(terrain, WALKABLE)


def shelter_field(terrain: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each cell: the first move toward the nearest shelter, and the walking distance.

    Breadth-first search from all shelters over walkable cells. Unreachable cells get
    NO_DIRECTION and distance -1. This is the fisher's sense of the nearest shelter.
    """
    h, w = terrain.shape
    walk = walk_mask(terrain)
    dist = np.full((h, w), -1, dtype=np.int32)
    first = np.full((h, w), NO_DIRECTION, dtype=np.int8)
    queue = deque()
    for r, c in zip(*np.nonzero(terrain == SHELTER), strict=True):
        dist[r, c] = 0
        queue.append((r, c))
    while queue:
        r, c = queue.popleft()
        for k, (dr, dc) in enumerate(MOVES):
            rr, cc = r + dr, c + dc
            if 0 <= rr < h and 0 <= cc < w and walk[rr, cc] and dist[rr, cc] < 0:
                dist[rr, cc] = dist[r, c] + 1
                # the neighbour reaches (r, c) by the opposite move of k
                first[rr, cc] = k ^ 1
                queue.append((rr, cc))
    return first, dist
