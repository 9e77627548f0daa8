"""World files: every shipped world loads and runs; every malformed file fails loudly and precisely.

The shipped-world tests are parametrized over `list_worlds()`, so a new world file is
tested without new code. Broken files are written into tmp_path from the lake's own
files with one defect each; the error must be a WorldFileError naming that file and
the field at fault.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from helpers import TINY_DIR

from sim import terrain as T
from sim.core import Simulation
from sim.events import has
from sim.fishers import N_ACTIONS
from sim.observe import OBS_SIZE
from worlds.loader import WORLDS_DIR, WorldFileError, list_worlds, load_world, override_world

LAKE_DIR = WORLDS_DIR / "lake"
LAKE_TOML = (LAKE_DIR / "world.toml").read_text()
LAKE_MAP = (LAKE_DIR / "map.txt").read_text()
TINY_WORLDS = sorted(p.parent.name for p in TINY_DIR.glob("*/world.toml"))


def test_the_shipped_worlds_include_the_lake():
    assert "lake" in list_worlds()


@pytest.mark.parametrize("name", list_worlds())
def test_every_shipped_world_loads_and_runs_50_ticks(name):
    world = load_world(name)
    assert world.name == name
    assert world.terrain.ndim == 2 and not world.terrain.flags.writeable
    sim = Simulation([world, world], n_fishers=3, seeds=[0, 1])
    rng = np.random.default_rng(0)
    walkable = np.isin(sim.batch.terrain, T.WALKABLE)
    for _ in range(50):
        result = sim.step(rng.integers(0, N_ACTIONS, size=(2, 3)))
        s = sim.state
        assert ((s.hunger >= 0) & (s.hunger <= 1)).all() and (s.fish >= 0).all()
        assert np.array_equal(result.reward != 0, has(result.events, "ate"))
        b = np.broadcast_to(np.arange(2)[:, None], s.row.shape)
        assert walkable[b, s.row, s.col][s.alive].all()
    assert sim.observe().shape == (2, 3, OBS_SIZE)


@pytest.mark.parametrize("name", list_worlds())
def test_every_shipped_world_loads_by_name_folder_and_file_alike(name):
    by_name = load_world(name)
    by_folder = load_world(WORLDS_DIR / name)
    by_file = load_world(WORLDS_DIR / name / "world.toml")
    assert by_name.params == by_folder.params == by_file.params
    assert np.array_equal(by_name.terrain, by_file.terrain)


@pytest.mark.parametrize("name", TINY_WORLDS)
def test_the_tiny_test_worlds_load(name):
    world = load_world(TINY_DIR / name)
    assert world.name == name


# ---------------------------------------------------------------- malformed files


def _write(tmp_path: Path, toml: str = LAKE_TOML, map_text: str | None = LAKE_MAP,
           map_name: str = "map.txt") -> Path:
    path = tmp_path / "world.toml"
    path.write_text(toml)
    if map_text is not None:
        (tmp_path / map_name).write_text(map_text)
    return path


def _sections(text: str) -> list[tuple[str | None, str]]:
    """(section, line) for every line of a TOML text; None for the top level."""
    out, section = [], None
    for line in text.splitlines():
        if line.startswith("["):
            section = line.strip().strip("[]")
        out.append((section, line))
    return out


def _edit(section: str | None, key: str, new_line: str | None = None, text: str = LAKE_TOML) -> str:
    """The text with line `key = ...` of [section] replaced by new_line (or removed when None).

    Works on the key, not on its value, so re-tuning the lake never breaks these cases.
    """
    lines, found = [], False
    for sec, line in _sections(text):
        if not found and sec == section and "=" in line and line.split("=")[0].strip() == key:
            found = True
            if new_line is not None:
                lines.append(new_line)
            continue
        lines.append(line)
    assert found, f"the lake file has no {key!r} in [{section}]"
    return "\n".join(lines) + "\n"


def _add(section: str | None, new_line: str, text: str = LAKE_TOML) -> str:
    """The text with new_line added as the first entry of [section] (top level: after name)."""
    lines, done = [], False
    for sec, line in _sections(text):
        lines.append(line)
        at = line.startswith("name =") if section is None else line.strip() == f"[{section}]"
        if at and not done and (section is not None or sec is None):
            lines.append(new_line)
            done = True
    assert done, f"the lake file has no [{section}]"
    return "\n".join(lines) + "\n"


def _drop_section(section: str, text: str = LAKE_TOML) -> str:
    kept = [line for sec, line in _sections(text) if sec != section]
    assert len(kept) < len(text.splitlines()), f"the lake file has no [{section}]"
    return "\n".join(kept) + "\n"


def _error(path: Path, names: Path | None = None) -> WorldFileError:
    """The error of loading `path`, which must name the file at fault (`names`, default `path`)."""
    with pytest.raises(WorldFileError) as info:
        load_world(path)
    err = info.value
    names = path if names is None else names
    assert err.path == str(names) and str(names) in str(err), "the error does not name the file"
    assert err.field in str(err)
    return err


def test_a_valid_copy_loads(tmp_path):
    world = load_world(_write(tmp_path))
    assert world.params == load_world("lake").params


BROKEN_TOML = {
    "unknown top-level key": (_add(None, 'colour = "blue"'), "colour"),
    "unknown key in a section": (_add("fishing", "settel = 3"), "fishing.settel"),
    "missing field": (_edit("fishing", "settle"), "fishing.settle"),
    "missing section": (_drop_section("storm"), "storm"),
    "missing name": (_edit(None, "name"), "name"),
    "wrong type": (_edit("fishing", "settle", "settle = 3.5"), "fishing.settle"),
    "out of range": (_edit("fishing", "p_bite", "p_bite = 1.5"), "fishing.p_bite"),
    "missing weather state": (
        _edit("bites", "weather", "weather = { clear = 0.7, cloudy = 1.0, rain = 1.5 }"), "bites.weather"),
    "initial does not sum to 1": (_edit("weather", "initial", "initial = { clear = 0.5, cloudy = 0.4 }"),
                                  "weather.initial"),
    "negative probability": (_edit("weather", "initial", "initial = { clear = 1.5, cloudy = -0.5 }"),
                             "weather.initial"),
    "a row of weather.next does not sum to 1": (
        _edit("weather.next", "cloudy", "cloudy = { clear = 0.4, rain = 0.4, storm = 0.1 }"),
        "weather.next.cloudy"),
    "a self-transition in weather.next": (
        _edit("weather.next", "clear", "clear = { clear = 0.5, cloudy = 0.5 }"), "weather.next.clear"),
    "unknown terrain in the legend": (_edit("legend", '"H"', '"H" = "castle"'), "legend.H"),
    "bad TOML syntax": (_edit("fishing", "settle", "settle = = 3"), "(syntax)"),
    "map is not a file name": (_edit(None, "map", "map = 3"), "map"),
    "missing map file": (_edit(None, "map", 'map = "nowhere.txt"'), "map"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_TOML))
def test_a_malformed_world_file_names_the_file_and_the_field(tmp_path, case):
    toml, field = BROKEN_TOML[case]
    err = _error(_write(tmp_path, toml))
    assert err.field == field


MAP_ROWS = [line for line in LAKE_MAP.splitlines() if line.strip() and not line.startswith("#")]


def _map_with(row: int, col: int, char: str) -> str:
    rows = list(MAP_ROWS)
    rows[row] = rows[row][:col] + char + rows[row][col + 1:]
    return "\n".join(rows) + "\n"


BROKEN_MAPS = {
    "a character without a legend entry": (_map_with(3, 5, "X"), "map row 4 column 6"),
    "a ragged row": ("\n".join(r + ("." if i == 6 else "") for i, r in enumerate(MAP_ROWS)), "map row 7"),
    "an empty map": ("\n\n", "map"),
    "water only behind rock": ("....^-\n....^-\n..H.^=\n", "map"),
    "water only beside a shelter": ("....H-\n....H-\n", "map"),  # no casting from a shelter
    "nowhere to spawn": ("HH-\nHH=\n", "map"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_MAPS))
def test_a_malformed_map_names_the_map_file_and_the_map_field(tmp_path, case):
    map_text, field = BROKEN_MAPS[case]
    err = _error(_write(tmp_path, map_text=map_text), names=tmp_path / "map.txt")
    assert err.field == field


def test_a_missing_world_is_an_error_naming_it(tmp_path):
    with pytest.raises(WorldFileError) as info:
        load_world("no_such_world")
    assert "no_such_world" in str(info.value)
    with pytest.raises(WorldFileError):
        load_world(tmp_path / "empty_folder")
    (tmp_path / "empty_folder").mkdir()
    with pytest.raises(WorldFileError) as info:
        load_world(tmp_path / "empty_folder")
    assert info.value.field == "world"


def test_errors_are_value_errors_with_path_field_and_expectation(tmp_path):
    err = _error(_write(tmp_path, BROKEN_TOML["missing field"][0]))
    assert isinstance(err, ValueError)
    assert err.expected and err.expected in str(err)


# ---------------------------------------------------------------- overrides


def test_override_world_replaces_a_constant_and_revalidates():
    lake = load_world("lake")
    faster = override_world(lake, {"hunger.rate": 0.02, "weather.lead": [3, 4]})
    assert faster.params.hunger.rate == 0.02 and faster.params.weather.lead == (3.0, 4.0)
    assert lake.params.hunger.rate == 0.01, "the original world changed"
    assert faster.terrain is lake.terrain
    assert override_world(lake, {}) is lake
    with pytest.raises(dataclasses.FrozenInstanceError):
        faster.params.hunger.rate = 0.5  # type: ignore[misc]


@pytest.mark.parametrize("key", ["hunger.hungre", "hunger", "nonsense.rate", "fish.capacity.shallow", ""])
def test_override_world_with_an_unknown_key_is_an_error(key):
    with pytest.raises(WorldFileError) as info:
        override_world(load_world("lake"), {key: 1.0})
    assert info.value.field == key
    assert "lake" in info.value.path


@pytest.mark.parametrize(("key", "value", "field"), [
    ("fishing.p_bite", 2.0, "fishing.p_bite"),
    ("fishing.settle", 1.5, "fishing.settle"),
    ("weather.initial", {"clear": 0.2}, "weather.initial"),
    ("fish.capacity", {"shallow": 1.0}, "fish.capacity"),
])
def test_override_world_with_a_bad_value_is_an_error(key, value, field):
    with pytest.raises(WorldFileError) as info:
        override_world(load_world("lake"), {key: value})
    assert info.value.field == field


def test_optional_fields_default_and_are_validated(tmp_path):
    """fish.current and fish.current_rate are optional; a bad direction names the field."""
    world = load_world(_write(tmp_path))
    assert world.params.fish.current == "none" and world.params.fish.current_rate == 0.0
    with pytest.raises(WorldFileError, match=r"fish\.current"):
        load_world(_write(tmp_path, _add("fish", 'current = "upstream"')))
    with pytest.raises(WorldFileError, match=r"fish\.current_rate"):
        load_world(_write(tmp_path, _add("fish", "current_rate = 0.9")))
