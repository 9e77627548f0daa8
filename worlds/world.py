"""A world and its validation: parsed world data and a map text in, a frozen `World` out.

Every problem is a `WorldFileError` that names the file, the field and what was
expected, so a broken world never half-loads. Each number is checked against the finite
bounds the schema keeps beside its field (`worlds.schema.bounded`); the map against the
size limit and the legend. Reading files is `worlds.loader`'s job, making worlds
`worlds.generator`'s; both build on this module, which imports only the schema and the
terrain codes below it.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from worlds.schema import (
    DIRECTIONS,
    FLAT,
    MAX_MAP_SIDE,
    OPTIONAL_SECTIONS,
    SECTIONS,
    TERRAIN_NAMES,
    WATER_KINDS,
    WEATHER_STATES,
    Bounds,
    Direction,
    Distribution,
    PerWater,
    PerWeather,
    Range,
    Transitions,
    WorldParams,
)
from worlds.terrain import FISHABLE_FROM, SHALLOW, SPAWNABLE, WALKABLE, WATER, beside, reachable

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


def world_from_data(data: dict, map_text: str, path: Path | str, map_path: Path | str | None = None) -> World:
    """Validate parsed TOML data and a map text into a World.

    Errors in the map name `map_path` (default: `path`). The checks here make a world the core
    can run; whether it is worth playing (`worlds.playable`) is the loader's and the
    generator's check, so that tests can still build deliberately bare set-up scenes.
    """
    map_path = path if map_path is None else map_path
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise WorldFileError(path, sorted(unknown)[0], f"one of {sorted(TOP_KEYS)}")
    for key in ("name", "legend", *(s for s in SECTIONS if s not in OPTIONAL_SECTIONS)):
        if key not in data:
            raise WorldFileError(path, key, "this field (missing)")
    if not isinstance(data["name"], str):
        raise WorldFileError(path, "name", "a string")
    legend = _check_legend(data["legend"], path)
    terrain = parse_map(map_text, legend, map_path)
    sections = {name: _build(cls, data[name], name, path) for name, cls in SECTIONS.items() if name in data}
    params = WorldParams(**sections)
    _check_semantics(params, path)
    flats = terrain == FLAT_CODE
    terrain[flats] = SHALLOW  # the map at high tide
    _check_tide(params, flats, terrain, path, map_path)
    _check_reachable_water(terrain, map_path)
    terrain.setflags(write=False)
    if flats.any():
        flats.setflags(write=False)
    return World(name=data["name"], description=str(data.get("description", "")), terrain=terrain,
                 params=params, source=str(path), flats=flats if flats.any() else None)


def _check_tide(params: WorldParams, flats: np.ndarray, terrain: np.ndarray, path: Path | str,
                map_path: Path | str) -> None:
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
        dry = np.isin(terrain, WALKABLE) & ~flats
        padded = np.pad(dry, 1)
        h, w = flats.shape
        beside = padded[:-2, 1:-1] | padded[2:, 1:-1] | padded[1:-1, :-2] | padded[1:-1, 2:]
        stranded = flats & ~beside[:h, :w]
        if stranded.any():
            r, c = (int(x) + 1 for x in np.argwhere(stranded)[0])
            raise WorldFileError(map_path, f"map row {r} column {c}", "a tidal flat beside dry land (land, "
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
    """Turn map text (one row per line, one character per cell; blank and '#' lines skipped)
    into terrain codes. At most MAX_MAP_SIDE rows and columns, checked before any cell is read;
    the cells are looked up all at once, so the time grows linearly with the map."""
    rows = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not rows:
        raise WorldFileError(path, "map", "at least one row of map characters")
    if len(rows) > MAX_MAP_SIDE:
        raise WorldFileError(path, "map", f"at most {MAX_MAP_SIDE} rows (got {len(rows)})")
    width = len(rows[0])
    if width > MAX_MAP_SIDE:
        raise WorldFileError(path, "map row 1", f"at most {MAX_MAP_SIDE} characters (got {width})")
    for r, line in enumerate(rows):
        if len(line) != width:
            raise WorldFileError(path, f"map row {r + 1}", f"{width} characters like the first row")
    cells = np.frombuffer("".join(rows).encode("utf-32-le"), dtype="<u4").reshape(len(rows), width)
    chars = np.array(sorted(ord(c) for c in legend), dtype=np.uint32)
    codes = np.array([legend[chr(c)] for c in chars], dtype=np.int8)
    if not len(chars):
        raise WorldFileError(path, "map row 1 column 1",
                             f"a character with a legend entry (got {rows[0][0]!r})")
    at = np.minimum(np.searchsorted(chars, cells), len(chars) - 1)
    known = chars[at] == cells
    if not known.all():
        r, c = (int(x) for x in np.argwhere(~known)[0])
        raise WorldFileError(path, f"map row {r + 1} column {c + 1}",
                             f"a character with a legend entry (got {rows[r][c]!r})")
    return codes[at]


@functools.cache
def _hints(cls: type) -> dict[str, object]:
    return typing.get_type_hints(cls)


def _build(cls: type, data: object, where: str, path: Path | str):
    """Build a frozen dataclass from a TOML table, checking keys and types."""
    if not isinstance(data, dict):
        raise WorldFileError(path, where, "a table")
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = set(data) - set(names)
    if unknown:
        raise WorldFileError(path, f"{where}.{sorted(unknown)[0]}", f"one of {names} (unknown key)")
    values = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            if f.default is not dataclasses.MISSING:
                continue
            raise WorldFileError(path, f"{where}.{f.name}", "this field (missing)")
        value = _convert(hints[f.name], data[f.name], f"{where}.{f.name}", path)
        _check_bounds(f, hints[f.name] is int, value, f"{where}.{f.name}", path)
        values[f.name] = value
    return cls(**values)


def _check_bounds(f: dataclasses.Field, integer: bool, value: object, where: str, path: Path | str) -> None:
    """Every number of a field (each entry of a table, both ends of a range) within its bounds."""
    if "bounds" not in f.metadata:  # a bug in schema.py, not in a file
        raise TypeError(f"schema field {where} has no bounds: declare it with worlds.schema.bounded")
    bounds: Bounds | None = f.metadata["bounds"]
    if bounds is None:
        return
    for key, number in _numbers(value, where):
        if not bounds.contains(number):
            raise WorldFileError(path, key, f"{bounds.describe(integer)} (got {number!r})")


def _numbers(value: object, where: str) -> typing.Iterator[tuple[str, float]]:
    """(field name, number) for every number in a converted value: tables by key, ranges whole."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _numbers(item, f"{where}.{key}")
    elif isinstance(value, tuple):
        for item in value:
            yield where, item
    else:
        yield where, value  # type: ignore[misc]


def _number(value: object, where: str, path: Path | str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WorldFileError(path, where, f"a number (got {value!r})")
    try:
        return float(value)
    except OverflowError:  # an integer beyond any float
        raise WorldFileError(path, where, f"a finite number (got an integer of {len(str(value))} "
                             "digits)") from None


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
    """What single fields' bounds cannot say: how fields must relate."""
    if p.fishing.spawn_inventory > p.fishing.inventory_max:
        raise WorldFileError(path, "fishing.spawn_inventory",
                             f"an integer in [0, inventory_max = {p.fishing.inventory_max}]")
    if p.fish.immigration > 0 and p.fish.regrowth == 0:  # nothing would stop the fish from growing
        raise WorldFileError(path, "fish.immigration", "0 when fish.regrowth is 0: without the logistic "
                             "term nothing bounds the fish that immigration adds every tick")


def _check_reachable_water(terrain: np.ndarray, path: Path | str) -> None:
    """Some cell a fisher can fish from must be reachable from where fishers spawn."""
    spawn = np.isin(terrain, SPAWNABLE)
    if not spawn.any():
        raise WorldFileError(path, "map", "at least one land, shore or ice cell where fishers can spawn")
    fishing = np.isin(terrain, FISHABLE_FROM) & beside(np.isin(terrain, WATER))
    if not (reachable(spawn, np.isin(terrain, WALKABLE)) & fishing).any():
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
    _check_tide(params, flats, world.terrain, where, where)
    return dataclasses.replace(world, params=params, source=f"{world.source} + {sorted(overrides)}")
