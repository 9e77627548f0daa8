"""Terrain codes: what each map cell is, as the world schema names it (the floor under the core).

Codes index `worlds.schema.TERRAIN_NAMES`. VOID pads maps of different sizes inside one
batch and is never walkable nor water. The loader checks maps with these sets and the core
(`sim.terrain`) imports them from here, so both always agree.
"""

from __future__ import annotations

import numpy as np

from worlds.schema import TERRAIN_NAMES

VOID, LAND, SHORE, SHALLOW, DEEP, REEDS, ROCK, SHELTER, ICE = (TERRAIN_NAMES.index(name) for name in (
    "void", "land", "shore", "shallow", "deep", "reeds", "rock", "shelter", "ice"))
N_TERRAIN = len(TERRAIN_NAMES)

WALKABLE = (LAND, SHORE, SHELTER, ICE)
WATER = (SHALLOW, DEEP, REEDS)
SPAWNABLE = (LAND, SHORE, ICE)
FISHABLE_FROM = (LAND, SHORE, ICE)  # no casting from inside a shelter


def components(mask: np.ndarray) -> np.ndarray:
    """(H, W) int64: a label per 4-connected region of `mask` (-1 outside it).

    Runs of cells along each row are the nodes; runs that touch across rows are joined by a
    union-find over the distinct touching pairs, so the work grows with the map's cells (numpy)
    and its runs (Python), not with the length of its paths: a 128 x 128 map takes milliseconds.
    """
    h, w = mask.shape
    starts = mask & ~np.pad(mask, ((0, 0), (1, 0)))[:, :w]
    run = np.where(mask, np.cumsum(starts.ravel()).reshape(h, w) - 1, -1)
    touch = mask[:-1] & mask[1:]
    n = int(starts.sum())
    pairs = np.unique(run[:-1][touch] * n + run[1:][touch])  # one int per touching pair of runs
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for pair in pairs.tolist():
        ra, rb = root(pair // n), root(pair % n)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([root(i) for i in range(len(parent))], dtype=np.int64)
    return np.where(mask, roots[np.maximum(run, 0)], -1)


def reachable(start: np.ndarray, through: np.ndarray) -> np.ndarray:
    """(H, W) bool: the cells of `through` that a walk of 4-neighbour steps inside `through`
    reaches from a `start` cell (start cells themselves included)."""
    labels = components(through)
    return through & np.isin(labels, labels[start & through])


def beside(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool: cells with a 4-neighbour in `mask`."""
    padded = np.pad(mask, 1)
    return padded[:-2, 1:-1] | padded[2:, 1:-1] | padded[1:-1, :-2] | padded[1:-1, 2:]
