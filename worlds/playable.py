"""Is a valid world worth playing? Checks that catch worlds where a skill can never pay.

`worlds.world` makes sure the core can run a world; these checks make sure a fisher can
live in it: every spawn cell has a walk to a shelter and to water it can fish, there is a
shelter, a bite can come, a front's warning fits inside the weather before it, and the
richest water can show a ripple (the only hint of fish). The loader applies them to every
world file and the generator to every world it makes; test scenes built with
`world_from_data` skip them on purpose (a scene without bites is how patience is probed).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from worlds.schema import RIPPLE_FIRST_DENSITY, WATER_KINDS, WEATHER_STATES
from worlds.terrain import FISHABLE_FROM, SHELTER, SPAWNABLE, WALKABLE, WATER, beside, reachable
from worlds.world import World, WorldFileError

FRONTS = ("rain", "storm")  # the states whose arrival the cues announce


def stranded_spawns(terrain: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(no shelter, no water): (H, W) bool masks of the spawn cells from which no walk reaches a
    shelter, and those from which no walk reaches a cell beside water that a fisher can fish from."""
    walk = np.isin(terrain, WALKABLE)
    spawn = np.isin(terrain, SPAWNABLE)
    to_shelter = reachable(terrain == SHELTER, walk)
    fishing = np.isin(terrain, FISHABLE_FROM) & beside(np.isin(terrain, WATER))
    to_water = reachable(fishing, walk)
    return spawn & ~to_shelter, spawn & ~to_water


def richest_water(terrain: np.ndarray, capacity: Mapping[str, float]) -> tuple[str, float]:
    """(kind, capacity) of the water kind on the map with the largest carrying capacity."""
    present = [(capacity[kind], kind) for kind, code in zip(WATER_KINDS, WATER, strict=True)
               if (terrain == code).any()]
    most, kind = max(present) if present else (0.0, "none")
    return kind, most


def ripple_capacity(density_ref: float) -> float:
    """Fish per cell at which a water cell shows its first ripple."""
    return density_ref * RIPPLE_FIRST_DENSITY


def check_playable(world: World, path: Path | str, map_path: Path | str | None = None) -> None:
    """Raise a WorldFileError (naming the file and the reason) for a world no fisher can play."""
    map_path = path if map_path is None else map_path
    p, terrain = world.params, world.terrain
    if not (terrain == SHELTER).any():
        raise WorldFileError(map_path, "map", "at least one shelter (a legend entry 'shelter' used on the "
                             "map): without one, no fisher can weather a storm")
    no_shelter, no_water = stranded_spawns(terrain)
    for mask, what in ((no_shelter, "a shelter"), (no_water, "a cell beside water to fish from")):
        if mask.any():
            r, c = (int(x) + 1 for x in np.argwhere(mask)[0])
            raise WorldFileError(map_path, f"map row {r} column {c}",
                                 f"a walkable path from this spawn cell to {what} (fishers spawn on every "
                                 f"land, shore and ice cell; wall it off with rock or join it up)")
    if p.fishing.p_bite <= 0:
        raise WorldFileError(path, "fishing.p_bite", "a bite probability > 0 in a world to play "
                             "(with 0, no bite ever comes)")
    if max(p.bites.weather.values()) <= 0:
        raise WorldFileError(path, "bites.weather", "a bite factor > 0 in at least one weather state "
                             "(with all 0, no bite ever comes)")
    kind, capacity = richest_water(terrain, p.fish.capacity)
    if capacity < ripple_capacity(p.fish.density_ref):
        raise WorldFileError(path, "fish.capacity", f"a capacity of at least density_ref x "
                             f"{RIPPLE_FIRST_DENSITY:.3g} = {ripple_capacity(p.fish.density_ref):g} fish for "
                             f"the richest water on the map ({kind}: {capacity:g}), else its cells never "
                             "show a ripple")
    before_front = [s for s in WEATHER_STATES if any(p.weather.next[s][f] > 0 for f in FRONTS if f != s)]
    if before_front:
        longest = max(p.weather.dwell[s][1] for s in before_front)
        if p.weather.lead[0] >= longest:
            raise WorldFileError(path, "weather.lead", f"a shortest warning below {longest:g} ticks, the "
                                 f"longest stay of a state before a front ({', '.join(before_front)}): got "
                                 f"{p.weather.lead[0]:g}, so the cues always show from the state's start")
    if p.storm.squall_ticks and p.storm.squall_ticks >= p.weather.lead[0]:
        raise WorldFileError(path, "storm.squall_ticks", f"fewer ticks than the shortest warning "
                             f"(weather.lead[0] = {p.weather.lead[0]:g}): got {p.storm.squall_ticks}, so a "
                             "squall could come before the cues announce its storm")
