"""The parameters a world file may set, as frozen dataclasses.

A field with a default is optional in a world file; every other field is required.

The schema is the contract between world files and the simulation core: the loader
checks a file against these classes (unknown keys, missing fields, types, ranges and
probabilities) and the core reads nothing else. What fixes shapes (the action set,
the observation layout, the four weather states) is not here: a world cannot change it.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class TimeParams:
    """Day and night, and the default episode length."""

    day_length: int          # ticks per day
    night_fraction: float    # share of the day that is night
    horizon: int             # default episode length (ticks) for the environments


@dataclass(frozen=True)
class HungerParams:
    """Hunger rises every tick; a full stomach refuses food; at 1 the fisher starves."""

    rate: float              # hunger added per tick
    storm_multiplier: float  # rate multiplier when exposed to a storm outside a shelter
    eat_threshold: float     # eating is possible only at hunger >= this
    meal: float              # hunger removed by one meal
    spawn: Range             # a new fisher's hunger is uniform in this range


@dataclass(frozen=True)
class FishingParams:
    """Casting, waiting and reeling in."""

    settle: int              # ticks a new line must be out before any bite can come
    bite_window: int         # ticks a bite shows (reeling in during them lands the fish)
    p_bite: float            # bite probability per tick at reference density and weather factor 1
    cast_reach: int          # the line lands up to this many cells out over water
    inventory_max: int       # fish a fisher can carry
    spawn_inventory: int     # fish a new fisher carries (lets "eat" be discovered at once)
    meal_reward: float       # the taste of fish: the only reward, paid per meal


@dataclass(frozen=True)
class FishParams:
    """The fish population of each water cell."""

    capacity: PerWater       # carrying capacity per kind of water
    regrowth: float          # logistic growth rate per tick
    immigration: float       # share of capacity that arrives per tick (recovery of emptied cells)
    move_rate: float         # share of a cell's fish that moves to neighbouring water per tick
    density_ref: float       # fish per cell at which the bite rate is p_bite
    preference_strength: float  # how strongly fish follow their depth preference (0..1)
    shallow_preference: PerWeather  # -1 = all to the deep, +1 = all to the shallows
    night_shallow_shift: float      # added to the preference at night
    current: Direction = "none"     # optional: a current carries fish this way (rivers)
    current_rate: float = 0.0       # optional: share of a cell's fish carried downstream per tick


@dataclass(frozen=True)
class WeatherParams:
    """Weather: a hidden Markov process whose fronts are announced by the barometer and clouds."""

    initial: Distribution    # probability of each state at reset
    next: Transitions        # probability of the next state when the current one ends
    dwell: dict              # per state, [min, max] ticks it lasts (uniform)
    lead: Range              # the cues switch to the next state this many ticks ahead
    barometer: PerWeather    # barometer target per state, in [0, 1]
    cloud: PerWeather        # cloud cover target per state, in [0, 1]
    barometer_rate: float    # how fast the barometer tracks its target per tick
    barometer_noise: float   # std of the barometer's noise per tick
    cloud_rate: float        # how fast cloud cover tracks its target per tick


@dataclass(frozen=True)
class BiteParams:
    """How weather and time of day make fish feed."""

    weather: PerWeather      # bite factor per weather state
    front_boost: float       # factor while a change to rain or storm is announced
    midday: float            # factor at midday in clear weather (bright sun)
    night: float             # factor at night


@dataclass(frozen=True)
class StormParams:
    """What a storm does to a fisher outside a shelter: costs that come soon and are seen."""

    p_lose_line: float       # per tick: the line is swept away
    p_lose_fish: float       # per tick: one carried fish is swept away


@dataclass(frozen=True)
class TideParams:
    """Tides move the shore: the map's tidal flats (legend "flat") are shallow water at high
    tide and dry shore at low tide. Every episode starts at high tide; the tide turns every
    period / 2 ticks. 0 means no tide (then the map may have no flats)."""

    period: int = 0          # ticks of one whole tide (high and low), even, or 0 for none


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
    tide: TideParams = TideParams()  # optional section


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
