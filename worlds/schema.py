"""The parameters a world file may set, as frozen dataclasses.

A field with a default is optional in a world file; every other field is required.

The schema is the contract between world files and the simulation core: the loader
checks a file against these classes (unknown keys, missing fields, types, ranges and
probabilities) and the core reads nothing else. What fixes shapes (the action set,
the observation layout, the four weather states) is not here: a world cannot change it.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, dataclass, field
from typing import Any

# Fixed across all worlds: one observation and action space everywhere.
WEATHER_STATES: tuple[str, ...] = ("clear", "cloudy", "rain", "storm")
WATER_KINDS: tuple[str, ...] = ("shallow", "deep", "reeds")
TERRAIN_NAMES: tuple[str, ...] = (
    "void", "land", "shore", "shallow", "deep", "reeds", "rock", "shelter", "ice",
)


class PerWeather(dict):
    """Marker type: a table with exactly one number per weather state."""


class PerWater(dict):
    """Marker type: a table with exactly one number per kind of water."""


class Transitions(dict):
    """Marker type: for each weather state, the probabilities of the next state (sum 1)."""


class Distribution(dict):
    """Marker type: one probability per weather state, summing to 1."""


class Range(tuple):
    """Marker type: [low, high] with low <= high."""


class Direction(str):
    """Marker type: one of DIRECTIONS."""


DIRECTIONS: tuple[str, ...] = ("north", "south", "east", "west", "none")

# The largest map, in rows and in columns (the generator's largest size too): the core keeps
# per-cell arrays for every world of a batch, and a map is a file a person reads.
MAX_MAP_SIDE = 128
# The most bytes a world.toml or a map file may hold (a 128 x 128 map with comments is far less).
MAX_FILE_BYTES = 1 << 20
# Ripples: a water cell shows its first ripple level at this many fish per density_ref
# (sim.observe: RIPPLE_FULL / RIPPLE_LEVELS = 2 / 3; a test keeps the two equal).
RIPPLE_FIRST_DENSITY = 2.0 / 3.0
# A tick count no world needs more of: longer than any episode (weather spells, leads, horizons).
MAX_TICKS = 1_000_000


@dataclass(frozen=True)
class Bounds:
    """The finite range a number of the schema must lie in (each end closed unless marked open).

    Every field of every section carries one (`bounded`), so no field can be added without
    saying which values make sense; tables and ranges apply it to each of their numbers.
    """

    low: float
    high: float
    open_low: bool = False
    open_high: bool = False

    def contains(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        above = value > self.low if self.open_low else value >= self.low
        below = value < self.high if self.open_high else value <= self.high
        return above and below

    def describe(self, integer: bool = False) -> str:
        """'a number in [0, 1)', 'an integer in [1, 1000]'."""
        what = "an integer" if integer else "a finite number"
        return (f"{what} in {'(' if self.open_low else '['}{self.low:g}, "
                f"{self.high:g}{')' if self.open_high else ']'}")


def bounded(low: float, high: float, *, open_low: bool = False, open_high: bool = False,
            default: Any = MISSING) -> Any:
    """A dataclass field whose numbers (each one, for a table or a range) lie within the bounds."""
    bounds = Bounds(float(low), float(high), open_low, open_high)
    return field(default=default, metadata={"bounds": bounds})


def unbounded(default: Any = MISSING) -> Any:
    """A field that holds no number (a name from a fixed list): its check is its type's."""
    return field(default=default, metadata={"bounds": None})


UNIT = (0.0, 1.0)  # shares and probabilities


@dataclass(frozen=True)
class TimeParams:
    """Day and night, and the default episode length."""

    day_length: int = bounded(2, 100_000)          # ticks per day
    night_fraction: float = bounded(0, 1, open_high=True)  # share of the day that is night
    horizon: int = bounded(1, MAX_TICKS)           # default episode length (ticks) for the environments


@dataclass(frozen=True)
class HungerParams:
    """Hunger rises every tick; a full stomach refuses food; at 1 the fisher starves."""

    rate: float = bounded(0, 1, open_low=True, open_high=True)  # hunger added per tick
    storm_multiplier: float = bounded(1, 100)  # rate multiplier when exposed to a storm outside a shelter
    eat_threshold: float = bounded(0, 1, open_high=True)  # eating is possible only at hunger >= this
    meal: float = bounded(0, 1, open_low=True)   # hunger removed by one meal
    spawn: Range = bounded(0, 1, open_high=True)  # a new fisher's hunger is uniform in this range


@dataclass(frozen=True)
class FishingParams:
    """Casting, waiting and reeling in."""

    settle: int = bounded(0, 10_000)       # ticks a new line must be out before any bite can come
    bite_window: int = bounded(1, 10_000)  # ticks a bite shows (reeling in during them lands the fish)
    # bite probability per tick at reference density and weather factor 1
    p_bite: float = bounded(*UNIT)
    cast_reach: int = bounded(1, MAX_MAP_SIDE)  # the line lands up to this many cells out over water
    inventory_max: int = bounded(1, 1000)  # fish a fisher can carry (recordings hold it as int16)
    spawn_inventory: int = bounded(0, 1000)  # fish a new fisher carries (lets "eat" be discovered at once)
    meal_reward: float = bounded(0, 1000, open_low=True)  # the taste of fish: the only reward, paid per meal
    # per tick, the share of the fish under a settled line with no bite showing that swim off:
    # a spot goes quiet under a line that waits, so how long to stay has a right amount
    spook: float = bounded(0, 0.5, default=0.0)
    # fish grow wary of a still line: past settle, the bite chance falls by a factor e every
    # wary_ticks the line waits (a fresh cast is new again); 0 = never. Waiting has a cost,
    # and how long to wait before casting anew or moving on has a right amount
    wary_ticks: float = bounded(0, 10_000, default=20.0)


@dataclass(frozen=True)
class FishParams:
    """The fish population of each water cell."""

    # carrying capacity per kind of water (recordings store fish as float16: at most 65504)
    capacity: PerWater = bounded(0, 10_000)
    regrowth: float = bounded(*UNIT)       # logistic growth rate per tick
    # share of capacity that arrives per tick (recovery of emptied cells)
    immigration: float = bounded(*UNIT)
    move_rate: float = bounded(0, 0.5)     # share of a cell's fish that moves to neighbouring water per tick
    # fish per cell at which the bite rate is p_bite
    density_ref: float = bounded(0, 10_000, open_low=True)
    # how strongly fish follow their depth preference
    preference_strength: float = bounded(0, 1, open_high=True)
    shallow_preference: PerWeather = bounded(-1, 1)  # -1 = all to the deep, +1 = all to the shallows
    # added to the preference at night (the sum is clipped to [-1, 1])
    night_shallow_shift: float = bounded(-2, 2)
    current: Direction = unbounded(default="none")  # optional: a current carries fish this way (rivers)
    # optional: share of a cell's fish carried downstream per tick
    current_rate: float = bounded(0, 0.5, default=0.0)


@dataclass(frozen=True)
class WeatherParams:
    """Weather: a hidden Markov process whose fronts are announced by the barometer and clouds."""

    initial: Distribution = bounded(*UNIT)  # probability of each state at reset
    next: Transitions = bounded(*UNIT)      # probability of the next state when the current one ends
    dwell: dict = bounded(1, MAX_TICKS)     # per state, [min, max] ticks it lasts (uniform)
    lead: Range = bounded(0, MAX_TICKS)     # the cues switch to the next state this many ticks ahead
    barometer: PerWeather = bounded(*UNIT)  # barometer target per state
    cloud: PerWeather = bounded(*UNIT)      # cloud cover target per state
    barometer_rate: float = bounded(0, 1, open_low=True)  # how fast the barometer tracks its target per tick
    barometer_noise: float = bounded(*UNIT)  # std of the barometer's noise per tick
    cloud_rate: float = bounded(0, 1, open_low=True)  # how fast cloud cover tracks its target per tick


@dataclass(frozen=True)
class BiteParams:
    """How weather and time of day make fish feed."""

    weather: PerWeather = bounded(0, 100)  # bite factor per weather state
    front_boost: float = bounded(0, 100)   # factor while a change to rain or storm is announced
    midday: float = bounded(0, 100)        # factor at midday in clear weather (bright sun)
    night: float = bounded(0, 100)         # factor at night


@dataclass(frozen=True)
class StormParams:
    """What a storm does to a fisher outside a shelter: costs that come soon and are seen."""

    p_lose_line: float = bounded(*UNIT)    # per tick: the line is swept away
    p_lose_fish: float = bounded(*UNIT)    # per tick: one carried fish is swept away
    # a squall runs ahead of every storm: in the last squall_ticks ticks before it breaks, a
    # fisher outside a shelter loses its line and every fish it carries. Only the cues announce
    # it (the storm is not on yet), so a fisher that runs once the storm is on is always caught,
    # and one that reads the sky is not; 0 = no squall. Must be shorter than weather.lead
    squall_ticks: int = bounded(0, MAX_TICKS, default=0)
    # in the squall, an exposed fisher's hunger rises this many times faster (as in a storm with
    # hunger.storm_multiplier): being caught out is dangerous, not only costly
    squall_multiplier: float = bounded(1, 100, default=1.0)


@dataclass(frozen=True)
class TideParams:
    """Tides move the shore: the map's tidal flats (legend "flat") are shallow water at high
    tide and dry shore at low tide. Every episode starts at high tide; the tide turns every
    period / 2 ticks. 0 means no tide (then the map may have no flats)."""

    # ticks of one whole tide (high and low), even, or 0 for none
    period: int = bounded(0, MAX_TICKS, default=0)


@dataclass(frozen=True)
class WorldParams:
    """Every rule constant of one world."""

    time: TimeParams
    hunger: HungerParams
    fishing: FishingParams
    fish: FishParams
    weather: WeatherParams
    bites: BiteParams
    storm: StormParams
    tide: TideParams = field(default_factory=TideParams)  # optional section


SECTIONS: dict[str, type] = {
    "time": TimeParams,
    "hunger": HungerParams,
    "fishing": FishingParams,
    "fish": FishParams,
    "weather": WeatherParams,
    "bites": BiteParams,
    "storm": StormParams,
    "tide": TideParams,
}
OPTIONAL_SECTIONS: tuple[str, ...] = ("tide",)
# A legend entry that is not a terrain: a tidal flat (shallow at high tide, shore at low tide).
FLAT = "flat"
