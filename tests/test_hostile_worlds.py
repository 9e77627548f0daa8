"""Hostile world files: absurd, non-finite, unplayable, binary or huge inputs end in the loader's
one-line error naming the file and the field, and nothing is simulated or written before it.

Each case is one defect in a copy of the lake's files (written into tmp_path). Every case in
this file loaded, or crashed with another exception, before the schema carried bounds
(`worlds.schema.bounded`), the map had a size limit and `worlds.playable` existed.
docs/hostile_inputs.md lists the cases; `pytest tests/test_hostile_worlds.py` reruns them.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import tomllib
from pathlib import Path

import numpy as np
import pytest
from test_loader import LAKE_MAP, LAKE_TOML, _edit, _error, _write

from sim.observe import RIPPLE_FULL, RIPPLE_LEVELS, ripple_level
from worlds import generator
from worlds.loader import WorldFileError, load_world
from worlds.playable import check_playable
from worlds.schema import MAX_MAP_SIDE, RIPPLE_FIRST_DENSITY, SECTIONS, Bounds
from worlds.terrain import beside, reachable
from worlds.world import WORLDS_DIR, world_from_data

try:  # the main job's command line; it moved to app/ on main, sim.run keeps only the entry point
    from app.run import main as run_main
except ImportError:
    from sim.run import main as run_main

LAKE_DATA = tomllib.loads(LAKE_TOML)

# ------------------------------------------------------------------ numbers: finite, in range

ABSURD = {
    "fish.capacity inf": (_edit("fish", "capacity", "capacity = { shallow = inf, deep = 4.0, reeds = 8.0 }"),
                          "fish.capacity.shallow"),
    "fish.capacity nan": (_edit("fish", "capacity", "capacity = { shallow = 1.5, deep = nan, reeds = 8.0 }"),
                          "fish.capacity.deep"),
    "fishing.meal_reward inf": (_edit("fishing", "meal_reward", "meal_reward = inf"), "fishing.meal_reward"),
    "fishing.meal_reward nan": (_edit("fishing", "meal_reward", "meal_reward = nan"), "fishing.meal_reward"),
    "bites.front_boost inf": (_edit("bites", "front_boost", "front_boost = inf"), "bites.front_boost"),
    "bites.midday nan": (_edit("bites", "midday", "midday = nan"), "bites.midday"),
    "bites.night inf": (_edit("bites", "night", "night = inf"), "bites.night"),
    "bites.night negative": (_edit("bites", "night", "night = -0.5"), "bites.night"),
    "fish.shallow_preference inf": (
        _edit("fish", "shallow_preference",
              "shallow_preference = { clear = -inf, cloudy = 0.2, rain = 0.6, storm = -0.8 }"),
        "fish.shallow_preference.clear"),
    "fish.night_shallow_shift nan": (_edit("fish", "night_shallow_shift", "night_shallow_shift = nan"),
                                     "fish.night_shallow_shift"),
    "weather.barometer_noise inf": (_edit("weather", "barometer_noise", "barometer_noise = inf"),
                                    "weather.barometer_noise"),
    "weather.barometer_noise negative": (_edit("weather", "barometer_noise", "barometer_noise = -0.1"),
                                         "weather.barometer_noise"),
    "time.day_length 1e23 (a float)": (_edit("time", "day_length", "day_length = 1e23"), "time.day_length"),
    "time.day_length 10**23 (an integer)": (_edit("time", "day_length", f"day_length = {10**23}"),
                                            "time.day_length"),
    "weather.dwell 1e300": (_edit("weather.dwell", "clear", "clear = [1e300, 1e300]"), "weather.dwell.clear"),
    "weather.lead 1e300": (_edit("weather", "lead", "lead = [1e300, 1e300]"), "weather.lead"),
    "fishing.inventory_max 2**63 - 1": (_edit("fishing", "inventory_max", f"inventory_max = {2**63 - 1}"),
                                        "fishing.inventory_max"),
    "an integer beyond any float": (_edit("fishing", "meal_reward", f"meal_reward = {10**400}"),
                                    "fishing.meal_reward"),
    "immigration without regrowth (fish grow without end)": (
        _edit("fish", "regrowth", "regrowth = 0.0"), "fish.immigration"),
    "weather.initial nan": (_edit("weather", "initial", "initial = { clear = nan, cloudy = 0.5 }"),
                            "weather.initial.clear"),
}


@pytest.mark.parametrize("case", sorted(ABSURD))
def test_absurd_and_non_finite_numbers_are_refused(tmp_path, case):
    toml, field = ABSURD[case]
    err = _error(_write(tmp_path, toml))
    assert err.field == field and "\n" not in str(err)


def _fields():
    """(dotted name, field, section class) of every field of every section."""
    for section, cls in SECTIONS.items():
        for f in dataclasses.fields(cls):
            yield f"{section}.{f.name}", f, cls


def test_every_schema_field_carries_finite_bounds():
    for name, f, _ in _fields():
        assert "bounds" in f.metadata, f"{name} has no bounds: declare it with worlds.schema.bounded"
        bounds = f.metadata["bounds"]
        if bounds is None:  # a name from a fixed list, no number
            assert f.type in ("Direction",), name
            continue
        assert isinstance(bounds, Bounds) and np.isfinite([bounds.low, bounds.high]).all(), name
        assert bounds.low <= bounds.high, name


def _set_numbers(value: object, number: float) -> object:
    """The lake's value of a field with every number in it replaced by `number`."""
    if isinstance(value, dict):
        return {k: _set_numbers(v, number) for k, v in value.items()}
    if isinstance(value, list):
        return [number for _ in value]
    return number if isinstance(value, int | float) and not isinstance(value, bool) else value


NUMERIC = [name for name, f, _ in _fields() if f.metadata["bounds"] is not None]


@pytest.mark.parametrize("name", NUMERIC)
@pytest.mark.parametrize("number", [float("inf"), float("-inf"), float("nan"), 1e300, -1e300])
def test_every_numeric_field_refuses_non_finite_and_absurd_values(name, number):
    section, key = name.split(".")
    data = copy.deepcopy(LAKE_DATA)
    data.setdefault(section, {})
    value = data[section].get(key, 0.0)
    if key == "period":
        value = 0
    data[section][key] = _set_numbers(value, number)
    with pytest.raises(WorldFileError) as info:
        world_from_data(data, LAKE_MAP, "tests/hostile.toml")
    assert info.value.field.startswith(name), info.value


# ------------------------------------------------------------------ files: binary, huge, unplayable maps

def test_binary_garbage_in_the_map_names_the_map_file(tmp_path):
    path = _write(tmp_path)
    (tmp_path / "map.txt").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00garbage\x80\x81")
    err = _error(path, names=tmp_path / "map.txt")
    assert err.field == "map" and "UTF-8" in str(err)


def test_binary_garbage_in_the_world_file_is_the_loaders_error(tmp_path):
    path = _write(tmp_path)
    path.write_bytes(b"\xff\xfe\x00\x81name = 1\n")
    assert "UTF-8" in str(_error(path))


def _square_map(side: int) -> str:
    row = "." * side
    rows = [row] * side
    rows[1] = "H" + "." * (side - 1)
    rows[-3], rows[-2], rows[-1] = ":" * side, "-" * side, "=" * side
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize(("rows", "cols", "field"), [
    (MAX_MAP_SIDE + 1, 20, "map"), (20, MAX_MAP_SIDE + 1, "map row 1")])
def test_a_map_beyond_the_size_limit_is_refused(tmp_path, rows, cols, field):
    text = "\n".join(["." * cols] * rows) + "\n"
    err = _error(_write(tmp_path, map_text=text), names=tmp_path / "map.txt")
    assert err.field == field and str(MAX_MAP_SIDE) in err.expected


def test_a_1000_by_1000_map_is_refused_and_the_largest_loads(tmp_path):
    """(How fast: python -m benchmarks.world_load; speed is measured there, not here.)"""
    (tmp_path / "big").mkdir()
    (tmp_path / "max").mkdir()
    big = _write(tmp_path / "big", map_text=_square_map(1000))
    err = _error(big, names=tmp_path / "big" / "map.txt")
    assert err.field == "map" and "1000" in str(err)
    largest = _write(tmp_path / "max", map_text=_square_map(MAX_MAP_SIDE))
    assert load_world(largest).shape == (MAX_MAP_SIDE, MAX_MAP_SIDE)


def test_a_map_file_over_the_byte_limit_is_refused_before_reading_it_all(tmp_path):
    path = _write(tmp_path, map_text=None)
    (tmp_path / "map.txt").write_text(("#" * 1000 + "\n") * 2000)  # 2 MB of comments
    err = _error(path, names=tmp_path / "map.txt")
    assert "bytes" in err.expected


# case: (world.toml text, map text, the file named ("toml" or "map"), field, a word of the reason)
UNPLAYABLE = {
    "a map with no shelter": (LAKE_TOML, LAKE_MAP.replace("H", "."), "map", "map", "shelter"),
    "a spawn cell with no path to a shelter": (
        LAKE_TOML, "H.^...\n..^:--\n..^:--\n", "map", "map row 1 column 4", "shelter"),
    "a spawn cell with no path to water": (
        LAKE_TOML, "H.:--\n..:--\n^^^^^\n.H...\n", "map", "map row 4 column 1", "water"),
    "a bite probability of 0": (
        _edit("fishing", "p_bite", "p_bite = 0.0"), LAKE_MAP, "toml", "fishing.p_bite", "bite"),
    "bite factors all 0": (
        _edit("bites", "weather", "weather = { clear = 0, cloudy = 0, rain = 0, storm = 0 }"), LAKE_MAP,
        "toml", "bites.weather", "bite"),
    "a warning lead longer than any weather state lasts": (
        _edit("weather", "lead", "lead = [100, 120]"), LAKE_MAP, "toml", "weather.lead", "warning"),
    "a squall that can come before its storm's cues": (
        _edit("storm", "squall_ticks", "squall_ticks = 10"), LAKE_MAP, "toml",
        "storm.squall_ticks", "warning"),
    "richest water never shows a ripple": (
        _edit("fish", "capacity", "capacity = { shallow = 1.5, deep = 2.0, reeds = 2.5 }"), LAKE_MAP, "toml",
        "fish.capacity", "ripple"),
}


@pytest.mark.parametrize("case", sorted(UNPLAYABLE))
def test_an_unplayable_world_is_refused_naming_the_file_and_the_reason(tmp_path, case):
    toml, map_text, names, field, reason = UNPLAYABLE[case]
    path = _write(tmp_path, toml, map_text)
    err = _error(path, names=tmp_path / "map.txt" if names == "map" else path)
    assert err.field == field and reason in err.expected


def test_the_ripple_constant_of_the_schema_is_the_observations():
    assert RIPPLE_FIRST_DENSITY == RIPPLE_FULL / RIPPLE_LEVELS
    ref = np.array([4.0])
    first = ref * RIPPLE_FIRST_DENSITY
    assert ripple_level(first, ref)[0] == 1 and ripple_level(np.nextafter(first, 0), ref)[0] == 0


def test_a_bad_world_ends_sim_run_with_one_line_before_any_folder(tmp_path, capsys):
    path = _write(tmp_path, ABSURD["fish.capacity inf"][0])
    out = tmp_path / "run"
    code = run_main(["--world", str(path), "--policy", "scripted:random", "--ticks", "5", "--episodes", "1",
                     "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert err.count("\n") == 1 and "fish.capacity.shallow" in err and str(path) in err


# ------------------------------------------------------------------ generated worlds stay playable

@pytest.mark.parametrize("first", range(0, 300, 100))
def test_a_few_hundred_generated_worlds_load_and_are_playable(first):
    for seed in range(first, first + 100):
        world = load_world(f"generated:{seed}")
        check_playable(world, world.source)


# sha256 of (terrain bytes, tidal flats, repr(params)) of generated worlds as the generator of
# ecologies (issue 14) makes them: generated:SEED is the same world everywhere, so a change that moves
# these is a deliberate change of the generator (or of a shipped world it takes its rules from: the
# lake's storm danger, the archetypes' templates, worlds.generator.TEMPLATES), and they move with it.
# (The lake generator before it pinned 0: c5131a80.., 1: 8c756d03.., 7: bc372b81.. and so on.)
PINNED = {  # one of each archetype: marsh, coast, ice, pond, lake; islands, river and fjord at other sizes
    "generated:0": "ada97871c667dc91", "generated:1": "83247afc84a85ed4", "generated:7": "de2ad51a6c457572",
    "generated:11": "3a3b2debae588137", "generated:23": "0fd3b24e2d371ebf",
    "generated:12:40": "c40ee6a46b5fafff", "generated:21:64": "008711dc89bb0d3f",
    "generated:4:128": "82e41d11e2c29c98",
}
def _digest(spec: str) -> str:
    w = load_world(spec)
    # fields added since, at their default (off), do not count: the world is the one it was
    params = repr(w.params).replace(", spook=0.0, wary_ticks=20.0", "")
    flats = b"" if w.flats is None else w.flats.tobytes()
    return hashlib.sha256(w.terrain.tobytes() + flats + params.encode()).hexdigest()[:16]


@pytest.mark.parametrize("spec", sorted(PINNED))
def test_generated_worlds_are_the_pinned_ones(spec):
    assert _digest(spec) == PINNED[spec]


def test_generated_maps_need_no_mending_and_the_mending_still_mends(monkeypatch):
    """The generator draws maps that pass the checks (none of seeds 0-1999 is mended); `_mend` stays
    as the net: a map whose water could never ripple gets one cell of its richest kind."""
    real, changed = generator._mend, []

    def spy(text: str, data: dict, spec: str) -> str:
        out = real(text, data, spec)
        changed.append(out != text)
        return out

    monkeypatch.setattr(generator, "_mend", spy)
    for seed in range(100):
        generator.generate_world(seed)
    assert len(changed) >= 100 and not any(changed)
    data = copy.deepcopy(LAKE_DATA)
    data["fish"]["capacity"] = {"shallow": 1.0, "deep": 2.0, "reeds": 6.0}
    mended = real(".....\n.:--:\n.H--:\n.....\n", data, "t")
    assert mended.splitlines()[1] == ".:%-:"


def test_mending_is_a_no_op_on_a_playable_map_and_fixes_a_stranded_pocket():
    data = copy.deepcopy(LAKE_DATA)
    assert generator._mend(LAKE_MAP.strip("\n") + "\n", data, "t") == LAKE_MAP.strip("\n") + "\n"
    pocket = "......\n.H.^..\n...^..\n^^^^..\n..^:--\n..^:==\n..^:--\n"  # rows 5-7 col 1-2: walled off
    mended = generator._mend(pocket, data, "t")
    assert mended.splitlines()[4][:2] == "^^"
    world = world_from_data({**data, "legend": {c: n for n, c in generator.CHARS.items()}}, mended, "t")
    check_playable(world, "t")




# ------------------------------------------------------------------ floors: worlds/ imports only downward

# worlds/ from the bottom floor up: a module may import only from floors below it, never from sim/
# (registry: the world specs every command reads, on main since 8d2ce48; landscapes, the generator's
# maps, and census, its survey command: issue 14)
FLOORS = ("schema", "terrain", "world", "playable", "landscapes", "generator", "loader", "suites", "registry",
          "census")


def _worlds_imports(path: Path) -> set[str]:
    """The top packages and worlds.* modules a module imports (anywhere in it, functions included)."""
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        for name in names:
            found.add(name if name.startswith("worlds.") else name.split(".")[0])
    return found


def test_worlds_modules_import_only_from_floors_below_and_nothing_from_sim():
    modules = {p.stem for p in WORLDS_DIR.glob("*.py") if p.stem != "__init__"}
    assert modules <= set(FLOORS), f"give each new module of worlds/ a floor: {modules - set(FLOORS)}"
    for floor, name in enumerate(FLOORS):
        if name not in modules:
            continue
        imports = _worlds_imports(WORLDS_DIR / f"{name}.py")
        assert "sim" not in imports, f"worlds/{name}.py imports sim: worlds/ is below the core"
        for imported in (i for i in imports if i.startswith("worlds.")):
            assert FLOORS.index(imported.split(".")[1]) < floor, f"worlds/{name}.py imports {imported}"


def test_the_core_reads_the_terrain_codes_of_the_schema():
    from sim import terrain as core
    from worlds import terrain
    from worlds.schema import TERRAIN_NAMES

    for name in ("VOID", "LAND", "SHORE", "SHALLOW", "DEEP", "REEDS", "ROCK", "SHELTER", "ICE"):
        assert getattr(core, name) == getattr(terrain, name) == TERRAIN_NAMES.index(name.lower())
    assert core.WALKABLE is terrain.WALKABLE and core.WATER is terrain.WATER


def _walk_reference(start: np.ndarray, through: np.ndarray) -> np.ndarray:
    """Reachability the slow, obvious way: grow the set one step at a time until it stops."""
    seen = start & through
    while True:
        grown = seen | (beside(seen) & through)
        if np.array_equal(grown, seen):
            return seen
        seen = grown


def test_reachable_agrees_with_growing_one_step_at_a_time():
    rng = np.random.default_rng(7)
    for _ in range(200):
        h, w = (int(x) for x in rng.integers(1, 30, 2))
        through = rng.random((h, w)) < rng.uniform(0.3, 0.9)
        start = rng.random((h, w)) < 0.03
        assert np.array_equal(reachable(start, through), _walk_reference(start, through))
