"""Procedural worlds: unlimited variants of the lake from a seed and a few parameters.

A generated world is built as data (a map text and a parameter table, starting from
the lake's file) and goes through the same validation and playability checks as a world
file, so it obeys every rule a shipped world does. The same (seed, size) always gives the
same world. Maps that would fail a playability check are mended without drawing anything
more (`_mend`), so the worlds of every other seed stay exactly what they were.
"""

from __future__ import annotations

import copy
import tomllib
from collections import deque

import numpy as np

from worlds.playable import check_playable, richest_water, ripple_capacity, stranded_spawns
from worlds.schema import MAX_MAP_SIDE, TERRAIN_NAMES, WATER_KINDS
from worlds.world import WORLDS_DIR, World, WorldFileError, parse_map, world_from_data

BASE = WORLDS_DIR / "lake" / "world.toml"
CHARS = {"land": ".", "shore": ":", "shallow": "-", "deep": "=", "reeds": "%", "rock": "^", "shelter": "H"}
MIN_SIZE, MAX_SIZE = 10, MAX_MAP_SIDE


def parse_generated_spec(text: str) -> dict:
    """"generated:SEED" or "generated:SEED:SIZE" (SIZE = N or HxW) -> generate_world kwargs."""
    parts = text.split(":")
    try:
        if parts[0] != "generated" or len(parts) not in (2, 3):
            raise ValueError
        out: dict = {"seed": int(parts[1])}
        if len(parts) == 3:
            h, _, w = parts[2].partition("x")
            out["size"] = (int(h), int(w or h))
    except ValueError:
        raise WorldFileError(text, "world", "'generated:SEED' or 'generated:SEED:SIZE' with integers, "
                             "SIZE as N or HxW") from None
    return out


def _blob_lakes(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Water mask made of a few random ellipses, kept away from the map edge."""
    water = np.zeros((h, w), dtype=bool)
    rows, cols = np.mgrid[0:h, 0:w]
    n_lakes = int(rng.integers(1, 4))
    for _ in range(n_lakes):
        ry = rng.uniform(2.0, max(2.5, h / (2.5 + n_lakes)))
        rx = rng.uniform(2.0, max(2.5, w / (2.5 + n_lakes)))
        cy, cx = rng.uniform(3 + ry * 0.6, h - 3 - ry * 0.6), rng.uniform(3 + rx * 0.6, w - 3 - rx * 0.6)
        water |= ((rows - cy) / ry) ** 2 + ((cols - cx) / rx) ** 2 <= 1.0
    water[:2, :] = water[-2:, :] = False
    water[:, :2] = water[:, -2:] = False
    return water


def _distance_to(mask: np.ndarray) -> np.ndarray:
    """Manhattan-step distance of every cell to the nearest True cell (BFS over flat lists)."""
    h, w = mask.shape
    far = 10**6
    dist = [0 if m else far for m in mask.ravel().tolist()]
    queue = deque(i for i, d in enumerate(dist) if d == 0)
    while queue:
        i = queue.popleft()
        c, step = i % w, dist[i] + 1
        for j in (i - w, i + w, i + 1 if c + 1 < w else -1, i - 1 if c > 0 else -1):
            if 0 <= j < h * w and dist[j] > step:
                dist[j] = step
                queue.append(j)
    return np.array(dist, dtype=np.int64).reshape(h, w)


def generate_map(rng: np.random.Generator, h: int, w: int) -> str:
    """A map text: lakes (deep inside a shallow rim), reeds, shore, rocks and shelters near the shore."""
    water = _blob_lakes(rng, h, w)
    grid = np.full((h, w), CHARS["land"], dtype="<U1")
    to_land = _distance_to(~water)
    grid[water] = CHARS["shallow"]
    grid[water & (to_land >= 3)] = CHARS["deep"]
    reeds = water & (to_land <= 2) & (rng.random((h, w)) < rng.uniform(0.05, 0.25))
    grid[reeds] = CHARS["reeds"]
    to_water = _distance_to(water)
    grid[~water & (to_water == 1)] = CHARS["shore"]
    land = ~water & (to_water >= 2)
    grid[land & (rng.random((h, w)) < 0.03)] = CHARS["rock"]
    candidates = np.argwhere((grid == CHARS["land"]) & (to_water >= 2) & (to_water <= 3))
    n_shelters = min(len(candidates), max(2, int(water.sum() // 25)))
    for r, c in candidates[rng.choice(len(candidates), size=n_shelters, replace=False)]:
        grid[r, c] = CHARS["shelter"]
    return "\n".join("".join(row) for row in grid) + "\n"


def _jitter_probs(rng: np.random.Generator, table: dict) -> dict:
    """Perturb a probability table (keeping its zeros) and renormalise to sum to 1."""
    keys = list(table)
    values = np.array([table[k] for k in keys], dtype=float) * rng.uniform(0.6, 1.4, len(keys))
    values /= values.sum()
    values[-1] = 1.0 - values[:-1].sum()  # exact sum for the loader's check
    return {k: float(v) for k, v in zip(keys, values, strict=True)}


def generate_params(rng: np.random.Generator, base: dict) -> dict:
    """A weather regime and fish around the lake's constants (scaled within factors of ~1.5)."""
    data = copy.deepcopy(base)
    data["fishing"]["p_bite"] = round(base["fishing"]["p_bite"] * rng.uniform(0.75, 1.35), 4)
    data["hunger"]["rate"] = round(base["hunger"]["rate"] * rng.uniform(0.8, 1.2), 5)
    capacity = base["fish"]["capacity"]
    data["fish"]["capacity"] = {k: round(v * rng.uniform(0.7, 1.4), 3) for k, v in capacity.items()}
    weather = data["weather"]
    weather["next"] = {state: _jitter_probs(rng, row) for state, row in base["weather"]["next"].items()}
    weather["dwell"] = {state: [max(5, int(lo * s)), max(6, int(hi * s))] for state, (lo, hi), s in
                        ((k, v, rng.uniform(0.6, 1.5)) for k, v in base["weather"]["dwell"].items())}
    if rng.random() < 0.2:  # a mirror regime: fish bite in sunshine and hide before rain
        data["bites"]["weather"] = {"clear": 1.5, "cloudy": 1.0, "rain": 0.5, "storm": 0.0}
        data["bites"]["front_boost"], data["bites"]["midday"] = 0.4, 1.3
    return data


def _mend(map_text: str, data: dict, spec: str) -> str:
    """The map unchanged if it is playable; otherwise mended without any random draw: spawn cells
    with no walk to a shelter or to fishable water (an island, a pocket behind rocks) become rock,
    and when the richest water could never show a ripple, the first of its cells becomes the
    kind of water with the largest capacity."""
    legend = {char: TERRAIN_NAMES.index(name) for name, char in CHARS.items()}
    terrain = parse_map(map_text, legend, spec)
    grid = np.array([list(row) for row in map_text.splitlines()], dtype="<U1")
    no_shelter, no_water = stranded_spawns(terrain)
    grid[no_shelter | no_water] = CHARS["rock"]
    capacity = data["fish"]["capacity"]
    if richest_water(terrain, capacity)[1] < ripple_capacity(data["fish"]["density_ref"]):
        best = max(WATER_KINDS, key=lambda k: capacity[k])
        water = np.isin(grid, [CHARS[k] for k in WATER_KINDS])
        if water.any():
            r, c = np.argwhere(water)[0]
            grid[r, c] = CHARS[best]
    return "\n".join("".join(row) for row in grid) + "\n"


def generate_world(seed: int, size: tuple[int, int] | int = (16, 22)) -> World:
    """A procedural world from a seed; validated exactly like a world file."""
    h, w = (size, size) if isinstance(size, int) else size
    spec = f"generated:{seed}:{h}x{w}"
    if not (MIN_SIZE <= h <= MAX_SIZE and MIN_SIZE <= w <= MAX_SIZE):
        raise WorldFileError(spec, "size", f"rows and columns in [{MIN_SIZE}, {MAX_SIZE}]")
    base = tomllib.loads(BASE.read_text())
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), h, w]))
    for _attempt in range(20):  # a map with no reachable water is redrawn
        data = generate_params(rng, base)
        data.update(name=f"generated-{seed}-{h}x{w}",
                    description=f"Procedural world (seed {seed}, {h}x{w}) around the lake's rules.")
        data["legend"] = {char: name for name, char in CHARS.items()}
        try:
            world = world_from_data(data, _mend(generate_map(rng, h, w), data, spec), spec)
            check_playable(world, spec)
            return world
        except WorldFileError as err:
            if not err.field.startswith("map"):
                raise
    raise WorldFileError(spec, "map", "a playable generated map: reachable water and shelters "
                         "(20 attempts failed)")
