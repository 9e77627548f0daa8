"""Load and validate world files: a TOML parameter file plus a text map.

Every problem is a `WorldFileError` that names the file, the field and what was
expected, so a broken world never half-loads. Adding a world adds files, not code.
"""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from worlds.schema import (
    DIRECTIONS,
    FLAT,
    OPTIONAL_SECTIONS,
    SECTIONS,
    TERRAIN_NAMES,
    WATER_KINDS,
    WEATHER_STATES,
    Direction,
    Distribution,
    PerWater,
    PerWeather,
    Range,
    Transitions,
    WorldParams,
)

WORLDS_DIR = Path(__file__).resolve().parent
TOP_KEYS = {"name", "description", "map", "legend", *SECTIONS}
PROB_TOL = 1e-6
FLAT_CODE = -1  # a tidal flat while parsing the map (stored as shallow, the high tide)


class WorldFileError(ValueError):
    """A world file is malformed: names the file, the field and what was expected."""

    def __init__(self, path: Path | str, field_name: str, expected: str):
        self.path, self.field, self.expected = str(path), field_name, expected
        super().__init__(f"{path}: field '{field_name}': expected {expected}")


@dataclass(frozen=True, eq=False)
class World:
    """One world: its map (terrain codes, rows x cols) and its rule constants."""

    name: str
    description: str
    terrain: np.ndarray  # (H, W) int8, codes index TERRAIN_NAMES; read-only
    params: WorldParams
    source: str = ""     # where it came from: a file path or a generator spec
    fingerprint: dict = field(default_factory=dict)
    # (H, W) bool, read-only: the tidal flats (terrain holds them at high tide); None: no tide
    flats: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.terrain.shape  # type: ignore[return-value]


def list_worlds() -> list[str]:
    """Names of the shipped worlds (each a folder under worlds/ with a world.toml)."""
    return sorted(p.parent.name for p in WORLDS_DIR.glob("*/world.toml"))


def load_world(name_or_path: str | Path) -> World:
    """Load a shipped world by name, a world folder, or a world.toml path; or generate one.

    "generated:SEED" (optionally "generated:SEED:SIZE") makes a procedural world.
    """
    text = str(name_or_path)
    if text.startswith("generated"):
        from worlds.generator import generate_world, parse_generated_spec

        return generate_world(**parse_generated_spec(text))
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = WORLDS_DIR / text
        if not path.exists():
            raise WorldFileError(
                text, "world", f"a shipped world ({', '.join(list_worlds())}), a world folder, "
                "a world.toml path or 'generated:SEED'")
    if path.is_dir():
        path = path / "world.toml"
    if not path.is_file():
        raise WorldFileError(path, "world", "an existing world.toml file")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise WorldFileError(path, "(syntax)", f"valid TOML ({err})") from None
    map_field = data.get("map")
    if not isinstance(map_field, str):
        raise WorldFileError(path, "map", "the name of a map text file beside world.toml")
    map_path = path.parent / map_field
    if not map_path.is_file():
        raise WorldFileError(path, "map", f"an existing map file (no file {map_path})")
    return world_from_data(data, map_path.read_text(), path)


def world_from_data(data: dict, map_text: str, path: Path | str) -> World:
    """Validate parsed TOML data and a map text into a World."""
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise WorldFileError(path, sorted(unknown)[0], f"one of {sorted(TOP_KEYS)}")
    for key in ("name", "legend", *(s for s in SECTIONS if s not in OPTIONAL_SECTIONS)):
        if key not in data:
            raise WorldFileError(path, key, "this field (missing)")
    if not isinstance(data["name"], str):
        raise WorldFileError(path, "name", "a string")
    legend = _check_legend(data["legend"], path)
    terrain = parse_map(map_text, legend, path)
    sections = {name: _build(cls, data[name], name, path) for name, cls in SECTIONS.items() if name in data}
    params = WorldParams(**sections)
    _check_semantics(params, path)
    flats = terrain == FLAT_CODE
    terrain[flats] = TERRAIN_NAMES.index("shallow")  # the map at high tide
    _check_tide(params, flats, terrain, path)
    _check_reachable_water(terrain, path)
    terrain.setflags(write=False)
    if flats.any():
        flats.setflags(write=False)
    return World(name=data["name"], description=str(data.get("description", "")), terrain=terrain,
                 params=params, source=str(path), flats=flats if flats.any() else None)


def _check_tide(params: WorldParams, flats: np.ndarray, terrain: np.ndarray, path: Path | str) -> None:
    """Flats and a tide go together; flats must touch dry land so a fisher can leave them."""
    period = params.tide.period
    if flats.any() and period == 0:
        raise WorldFileError(path, "tide.period", f"an even number of ticks >= 2: the legend has "
                             f"'{FLAT}' cells, which need a tide")
    if period and not flats.any():
        raise WorldFileError(path, "legend", f"a '{FLAT}' entry used on the map: tide.period is set, "
                             "so the map needs tidal flats")
    if period < 0 or period % 2 or period == 1:
        raise WorldFileError(path, "tide.period", f"0 or an even number of ticks >= 2 (got {period})")
    if flats.any():  # the flood moves a fisher off a flat onto a dry neighbour: there must be one
        from sim.terrain import WALKABLE

        dry = np.isin(terrain, WALKABLE) & ~flats
        padded = np.pad(dry, 1)
        h, w = flats.shape
        beside = padded[:-2, 1:-1] | padded[2:, 1:-1] | padded[1:-1, :-2] | padded[1:-1, 2:]
        stranded = flats & ~beside[:h, :w]
        if stranded.any():
            r, c = (int(x) + 1 for x in np.argwhere(stranded)[0])
            raise WorldFileError(path, f"map row {r} column {c}", "a tidal flat beside dry land (land, "
                                 "shore, shelter or ice that is no flat), where the flood can put a fisher")


def _check_legend(legend: object, path: Path | str) -> dict[str, int]:
    if not isinstance(legend, dict):
        raise WorldFileError(path, "legend", "a table of map character = terrain name")
    out = {}
    for char, name in legend.items():
        if len(char) != 1:
            raise WorldFileError(path, f"legend.{char}", "a single map character as the key")
        if name == FLAT:
            out[char] = FLAT_CODE
            continue
        if name not in TERRAIN_NAMES[1:]:
            raise WorldFileError(path, f"legend.{char}",
                                 f"a terrain name in {list(TERRAIN_NAMES[1:])} or '{FLAT}' (a tidal flat)")
        out[char] = TERRAIN_NAMES.index(name)
    return out


def parse_map(text: str, legend: dict[str, int], path: Path | str) -> np.ndarray:
    """Turn map text (one row per line, one character per cell) into terrain codes."""
    rows = [line.rstrip("\n") for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not rows:
        raise WorldFileError(path, "map", "at least one row of map characters")
    width = len(rows[0])
    terrain = np.zeros((len(rows), width), dtype=np.int8)
    for r, line in enumerate(rows):
        if len(line) != width:
            raise WorldFileError(path, f"map row {r + 1}", f"{width} characters like the first row")
        for c, char in enumerate(line):
            if char not in legend:
                raise WorldFileError(path, f"map row {r + 1} column {c + 1}",
                                     f"a character with a legend entry (got {char!r})")
            terrain[r, c] = legend[char]
    return terrain


def _build(cls: type, data: object, where: str, path: Path | str):
    """Build a frozen dataclass from a TOML table, checking keys and types."""
    if not isinstance(data, dict):
        raise WorldFileError(path, where, "a table")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = set(data) - set(names)
    if unknown:
        raise WorldFileError(path, f"{where}.{sorted(unknown)[0]}", f"one of {names} (unknown key)")
    values = {}
    optional = {f.name for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}
    for name in names:
        if name not in data:
            if name in optional:
                continue
            raise WorldFileError(path, f"{where}.{name}", "this field (missing)")
        values[name] = _convert(hints[name], data[name], f"{where}.{name}", path)
    return cls(**values)


def _number(value: object, where: str, path: Path | str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WorldFileError(path, where, f"a number (got {value!r})")
    return float(value)


def _table(value: object, keys: tuple[str, ...], where: str, path: Path | str) -> dict:
    if not isinstance(value, dict) or set(value) != set(keys):
        got = sorted(value) if isinstance(value, dict) else repr(value)
        raise WorldFileError(path, where, f"a table with exactly the keys {list(keys)} (got {got})")
    return value


def _probabilities(value: object, where: str, path: Path | str, exclude: str | None = None) -> dict:
    keys = tuple(s for s in WEATHER_STATES if s != exclude)
    if isinstance(value, dict):
        missing = {k: 0.0 for k in keys if k not in value}
        value = {**missing, **value}
    table = _table(value, keys, where, path)
    probs = {k: _number(table[k], f"{where}.{k}", path) for k in keys}  # in WEATHER_STATES order
    if any(p < 0 for p in probs.values()) or abs(sum(probs.values()) - 1.0) > PROB_TOL:
        total = sum(probs.values())
        raise WorldFileError(path, where, f"non-negative probabilities that sum to 1 (sum {total:g})")
    return probs


def _range(value: object, where: str, path: Path | str) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise WorldFileError(path, where, f"[low, high] (got {value!r})")
    low, high = (_number(v, where, path) for v in value)
    if low > high:
        raise WorldFileError(path, where, f"low <= high (got [{low:g}, {high:g}])")
    return (low, high)


def _convert(kind: object, value: object, where: str, path: Path | str):
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise WorldFileError(path, where, f"an integer (got {value!r})")
        return value
    if kind is float:
        return _number(value, where, path)
    if kind is Direction:
        if value not in DIRECTIONS:
            raise WorldFileError(path, where, f"one of {list(DIRECTIONS)} (got {value!r})")
        return value
    if kind is Range:
        return _range(value, where, path)
    if kind is PerWeather:
        table = _table(value, WEATHER_STATES, where, path)
        return {k: _number(table[k], f"{where}.{k}", path) for k in WEATHER_STATES}
    if kind is PerWater:
        table = _table(value, WATER_KINDS, where, path)
        return {k: _number(table[k], f"{where}.{k}", path) for k in WATER_KINDS}
    if kind is Distribution:
        return _probabilities(value, where, path)
    if kind is Transitions:
        table = _table(value, WEATHER_STATES, where, path)
        return {k: _probabilities(table[k], f"{where}.{k}", path, exclude=k) for k in WEATHER_STATES}
    if kind is dict:  # dwell: per state a range
        table = _table(value, WEATHER_STATES, where, path)
        return {k: _range(table[k], f"{where}.{k}", path) for k in WEATHER_STATES}
    raise TypeError(f"schema type {kind!r} has no converter")  # a bug in schema.py, not in a file


def _check_semantics(p: WorldParams, path: Path | str) -> None:
    """Ranges the rules need to make sense."""
    checks = [
        ("time.day_length", p.time.day_length >= 2, "an integer >= 2"),
        ("time.night_fraction", 0 <= p.time.night_fraction < 1, "a number in [0, 1)"),
        ("time.horizon", p.time.horizon >= 1, "an integer >= 1"),
        ("hunger.rate", 0 < p.hunger.rate < 1, "a number in (0, 1)"),
        ("hunger.storm_multiplier", p.hunger.storm_multiplier >= 1, "a number >= 1"),
        ("hunger.eat_threshold", 0 <= p.hunger.eat_threshold < 1, "a number in [0, 1)"),
        ("hunger.meal", 0 < p.hunger.meal <= 1, "a number in (0, 1]"),
        ("hunger.spawn", p.hunger.spawn[0] >= 0 and p.hunger.spawn[1] < 1, "a range inside [0, 1)"),
        ("fishing.settle", p.fishing.settle >= 0, "an integer >= 0"),
        ("fishing.bite_window", p.fishing.bite_window >= 1, "an integer >= 1"),
        ("fishing.p_bite", 0 <= p.fishing.p_bite <= 1, "a probability in [0, 1]"),
        ("fishing.cast_reach", p.fishing.cast_reach >= 1, "an integer >= 1"),
        ("fishing.inventory_max", p.fishing.inventory_max >= 1, "an integer >= 1"),
        ("fishing.spawn_inventory", 0 <= p.fishing.spawn_inventory <= p.fishing.inventory_max,
         "an integer in [0, inventory_max]"),
        ("fishing.meal_reward", p.fishing.meal_reward > 0, "a number > 0"),
        ("fish.regrowth", 0 <= p.fish.regrowth <= 1, "a number in [0, 1]"),
        ("fish.immigration", 0 <= p.fish.immigration <= 1, "a number in [0, 1]"),
        ("fish.move_rate", 0 <= p.fish.move_rate <= 0.5, "a number in [0, 0.5]"),
        ("fish.density_ref", p.fish.density_ref > 0, "a number > 0"),
        ("fish.preference_strength", 0 <= p.fish.preference_strength < 1, "a number in [0, 1)"),
        ("fish.current_rate", 0 <= p.fish.current_rate <= 0.5, "a number in [0, 0.5]"),
        ("weather.lead", p.weather.lead[0] >= 0, "a range of ticks >= 0"),
        ("weather.barometer_rate", 0 < p.weather.barometer_rate <= 1, "a number in (0, 1]"),
        ("weather.cloud_rate", 0 < p.weather.cloud_rate <= 1, "a number in (0, 1]"),
        ("storm.p_lose_line", 0 <= p.storm.p_lose_line <= 1, "a probability in [0, 1]"),
        ("storm.p_lose_fish", 0 <= p.storm.p_lose_fish <= 1, "a probability in [0, 1]"),
    ]
    checks += [(f"fish.capacity.{k}", v >= 0, "a number >= 0") for k, v in p.fish.capacity.items()]
    checks += [(f"weather.dwell.{k}", v[0] >= 1, "a range of ticks >= 1") for k, v in p.weather.dwell.items()]
    for table in ("barometer", "cloud"):
        checks += [(f"weather.{table}.{k}", 0 <= v <= 1, "a number in [0, 1]")
                   for k, v in getattr(p.weather, table).items()]
    checks += [(f"bites.weather.{k}", v >= 0, "a number >= 0") for k, v in p.bites.weather.items()]
    for where, ok, expected in checks:
        if not ok:
            raise WorldFileError(path, where, expected)


def _check_reachable_water(terrain: np.ndarray, path: Path | str) -> None:
    """Some cell a fisher can fish from must be reachable from where fishers spawn."""
    from sim.terrain import FISHABLE_FROM, SPAWNABLE, WALKABLE, water_mask

    walk = np.isin(terrain, WALKABLE)
    spawn = np.isin(terrain, SPAWNABLE)
    if not spawn.any():
        raise WorldFileError(path, "map", "at least one land, shore or ice cell where fishers can spawn")
    water = water_mask(terrain)
    seen = spawn.copy()
    queue = deque(zip(*np.nonzero(spawn), strict=True))
    h, w = terrain.shape
    while queue:
        r, c = queue.popleft()
        if terrain[r, c] in FISHABLE_FROM:
            for dr, dc in ((-1, 0), (1, 0), (0, 1), (0, -1)):
                rr, cc = r + dr, c + dc
                if 0 <= rr < h and 0 <= cc < w and water[rr, cc]:
                    return
        for dr, dc in ((-1, 0), (1, 0), (0, 1), (0, -1)):
            rr, cc = r + dr, c + dc
            if 0 <= rr < h and 0 <= cc < w and walk[rr, cc] and not seen[rr, cc]:
                seen[rr, cc] = True
                queue.append((rr, cc))
    raise WorldFileError(path, "map", "water that fishers can reach: a walkable cell beside water, "
                         "reachable from a spawn cell")


def override_world(world: World, overrides: dict[str, object]) -> World:
    """A copy of `world` with some constants replaced, e.g. {"hunger.rate": 0.02}, re-validated."""
    if not overrides:
        return world
    raw = dataclasses.asdict(world.params)
    for key, value in overrides.items():
        section, _, name = key.partition(".")
        if section not in raw or name not in raw[section]:
            raise WorldFileError(f"overrides for {world.name}", key, "a 'section.field' of the world schema")
        raw[section][name] = value
    where = f"overrides for {world.name}"
    sections = {name: _build(cls, raw[name], name, where) for name, cls in SECTIONS.items()}
    params = WorldParams(**sections)
    _check_semantics(params, where)
    flats = world.flats if world.flats is not None else np.zeros(world.shape, bool)
    _check_tide(params, flats, world.terrain, where)
    return dataclasses.replace(world, params=params, source=f"{world.source} + {sorted(overrides)}")
