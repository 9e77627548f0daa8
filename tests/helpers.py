"""Shared test helpers: tiny hand-built worlds and set-up scenes with fishers placed by hand.

Tiny worlds start from the lake's own parameter file (parsed with tomllib, so the template
is always a valid, current world file), take a small map string and a calm baseline
(`CALM`, which pins every constant) that makes outcomes certain: cloudy forever, no
barometer noise, static fish, neutral bite factors, no bites and no storm losses unless
a test asks.
Each test then overrides the few constants its rule needs, by dotted key.

Tables keyed by weather state are written with all four states in canonical order
(`per_weather`), the way a careful world file would be.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import numpy as np

from sim.core import Simulation
from sim.events import decode
from sim.fishers import ACTION_NAMES
from sim.step import StepResult
from worlds.loader import WORLDS_DIR, World, load_world, world_from_data
from worlds.schema import WEATHER_STATES

TESTS_DIR = Path(__file__).resolve().parent
TINY_DIR = TESTS_DIR / "data" / "worlds_tiny"
LAKE_TOML = WORLDS_DIR / "lake" / "world.toml"

# facing codes (index into sim.terrain.MOVES) and action codes by name
FACING = {"N": 0, "S": 1, "E": 2, "W": 3}
ACTION = {name: i for i, name in enumerate(ACTION_NAMES)}
FOREVER = 10**6  # ticks: a weather spell that outlasts any test

# 4 rows x 7 columns. Shelter (0,2) faces water to the east; shore (1,2) faces 4 cells of
# water east; from (2,2) the water east is broken by rock at (2,4); rock at (2,0).
PIER = """
..H-===
..:--==
^.:-^-=
...:---
"""

_LAKE_DATA = tomllib.loads(LAKE_TOML.read_text())


def lake_data() -> dict:
    """A fresh deep copy of the lake's parsed world.toml."""
    return copy.deepcopy(_LAKE_DATA)


def per_weather(**values: float) -> dict[str, float]:
    """A full table over the four weather states, canonical order; unnamed states get 0."""
    return {s: float(values.get(s, 0.0)) for s in WEATHER_STATES}


def only_weather(state: str) -> dict[str, object]:
    """Overrides that start the world in `state` and keep it there for the whole test."""
    return {
        "weather.initial": per_weather(**{state: 1.0}),
        f"weather.dwell.{state}": [FOREVER, FOREVER],
    }


CALM: dict[str, object] = {
    # every constant a rule test can depend on is pinned here, so re-tuning the lake never
    # changes a scene; the lake file only supplies a valid template
    "time.day_length": 200, "time.night_fraction": 0.3, "time.horizon": 1000,
    "hunger.rate": 1 / 1024,  # exact in binary: hunger arithmetic in tests is exact
    "hunger.storm_multiplier": 2.0, "hunger.eat_threshold": 0.25, "hunger.meal": 0.5,
    "hunger.spawn": [0.5, 0.5],
    "fishing.settle": 3, "fishing.bite_window": 2, "fishing.p_bite": 0.0, "fishing.cast_reach": 2,
    "fishing.inventory_max": 3, "fishing.spawn_inventory": 0, "fishing.meal_reward": 1.0,
    "fishing.spook": 0.0, "fishing.wary_ticks": 0.0,
    "fish.capacity": {"shallow": 2.0, "deep": 4.0, "reeds": 8.0},
    "fish.regrowth": 0.0, "fish.immigration": 0.0, "fish.move_rate": 0.0,  # static fish
    "fish.density_ref": 4.0, "fish.preference_strength": 0.5,
    "fish.shallow_preference": per_weather(clear=-0.5, cloudy=0.2, rain=0.6, storm=-0.8),
    "fish.night_shallow_shift": 0.5,
    "weather.initial": per_weather(cloudy=1.0),
    "weather.next": {
        "clear": {"cloudy": 1.0, "rain": 0.0, "storm": 0.0},
        "cloudy": {"clear": 0.4, "rain": 0.4, "storm": 0.2},
        "rain": {"clear": 0.0, "cloudy": 0.6, "storm": 0.4},
        "storm": {"clear": 0.0, "cloudy": 0.5, "rain": 0.5},
    },
    "weather.dwell": {"clear": [50, 110], "cloudy": [FOREVER, FOREVER], "rain": [25, 55], "storm": [25, 55]},
    "weather.lead": [10, 20],
    "weather.barometer": per_weather(clear=1.0, cloudy=0.7, rain=0.4, storm=0.1),
    "weather.cloud": per_weather(clear=0.1, cloudy=0.5, rain=0.75, storm=0.95),
    "weather.barometer_rate": 0.15, "weather.barometer_noise": 0.0, "weather.cloud_rate": 0.2,
    "bites.weather": per_weather(clear=1.0, cloudy=1.0, rain=1.0, storm=1.0),
    "bites.front_boost": 1.0, "bites.midday": 1.0, "bites.night": 1.0,
    "storm.p_lose_line": 0.0, "storm.p_lose_fish": 0.0,
}


def set_path(data: dict, dotted: str, value: object) -> None:
    """data["a"]["b"]["c"] = value for dotted "a.b.c" (tables must exist)."""
    *parents, last = dotted.split(".")
    node = data
    for key in parents:
        node = node[key]
    node[last] = value


def tiny_world(map_text: str = PIER, overrides: dict[str, object] | None = None,
               name: str = "tiny", calm: bool = True) -> World:
    """A world from the lake's parameters, a small map string, CALM and `overrides`."""
    data = lake_data()
    data["name"] = name
    for key, value in {**(CALM if calm else {}), **(overrides or {})}.items():
        set_path(data, key, copy.deepcopy(value))
    return world_from_data(data, map_text.strip("\n") + "\n", f"tests/{name}")


def pier_file_world() -> World:
    """The tiny world stored as files under tests/data/worlds_tiny/pier."""
    return load_world(TINY_DIR / "pier")


def act(name_or_code: str | int) -> int:
    return ACTION[name_or_code] if isinstance(name_or_code, str) else int(name_or_code)


class Scene:
    """One world with fishers placed by hand: a set-up scene for one rule.

    Fishers spawn at random cells; `place` moves them where the test needs them.
    """

    def __init__(self, world: World, n_fishers: int = 1, respawn: bool = True, seed: int = 0):
        self.sim = Simulation(world, n_fishers, seeds=[seed], respawn=respawn)
        self.world = world

    @property
    def state(self):
        return self.sim.state

    def place(self, f: int, row: int, col: int, facing: str = "E", hunger: float | None = None,
              inventory: int | None = None) -> None:
        s = self.sim.state
        s.row[0, f], s.col[0, f], s.facing[0, f] = row, col, FACING[facing]
        s.line[0, f], s.bite[0, f], s.line_age[0, f] = False, 0, 0
        if hunger is not None:
            s.hunger[0, f] = hunger
        if inventory is not None:
            s.inventory[0, f] = inventory

    def step(self, *actions: str | int) -> StepResult:
        """One tick; one action per fisher (missing fishers wait)."""
        a = np.zeros((1, self.sim.n_fishers), dtype=np.int64)
        for f, name in enumerate(actions):
            a[0, f] = act(name)
        return self.sim.step(a)

    def run(self, actions: list[str | int]) -> list[StepResult]:
        """Several ticks of fisher 0 (others wait)."""
        return [self.step(a) for a in actions]

    def pos(self, f: int = 0) -> tuple[int, int]:
        return int(self.state.row[0, f]), int(self.state.col[0, f])

    def facing(self, f: int = 0) -> str:
        return "NSEW"[int(self.state.facing[0, f])]

    def line(self, f: int = 0) -> tuple[int, int] | None:
        s = self.state
        return (int(s.line_row[0, f]), int(s.line_col[0, f])) if s.line[0, f] else None

    def fish_at(self, row: int, col: int) -> float:
        return float(self.state.fish[0, row, col])

    def terrain_at(self, row: int, col: int) -> int:
        return int(self.sim.batch.terrain[0, row, col])

    def obs(self, f: int = 0) -> np.ndarray:
        return self.sim.observe()[0, f]


def events(result: StepResult, f: int = 0) -> list[str]:
    """The event names of fisher f in one step result (world 0)."""
    return decode(result.events[0, f])
