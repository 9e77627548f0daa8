"""Load world files: a TOML parameter file plus a text map, validated and checked playable.

Every problem is a `WorldFileError` that names the file (world.toml, or the map file for
the map), the field and what was expected, so a broken world never half-loads: files are
read with a size limit and as UTF-8 text, every number is checked against its bounds
(`worlds.world`), and a world must be worth playing (`worlds.playable`). "generated:SEED"
makes a procedural world (`worlds.generator`). Adding a world adds files, not code.

This module is the top floor of worlds/: it imports the validation (`worlds.world`), the
playability checks and the generator, and none of them imports it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from worlds.generator import generate_world, parse_generated_spec
from worlds.playable import check_playable
from worlds.schema import MAX_FILE_BYTES
from worlds.world import WORLDS_DIR, World, WorldFileError, override_world, parse_map, world_from_data

# the names other modules import from here, as before the split into world.py and playable.py
__all__ = ["WORLDS_DIR", "World", "WorldFileError", "list_worlds", "load_world", "override_world",
           "parse_map", "read_text", "world_from_data"]


def list_worlds() -> list[str]:
    """Names of the shipped worlds (each a folder under worlds/ with a world.toml)."""
    return sorted(p.parent.name for p in WORLDS_DIR.glob("*/world.toml"))


def read_text(path: Path, named_by: Path | str, field_name: str) -> str:
    """A file's text: at most MAX_FILE_BYTES, UTF-8; any other file is a WorldFileError naming it."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise WorldFileError(path, field_name, f"a readable file (named by {named_by}: "
                             f"{err.strerror or err})") from None
    if len(data) > MAX_FILE_BYTES:
        raise WorldFileError(path, field_name, f"a file of at most {MAX_FILE_BYTES:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise WorldFileError(path, field_name, f"UTF-8 text (byte {err.start} is not)") from None


def load_world(name_or_path: str | Path) -> World:
    """Load a shipped world by name, a world folder, or a world.toml path; or generate one.

    "generated:SEED" (optionally "generated:SEED:SIZE") makes a procedural world.
    """
    text = str(name_or_path)
    if text.startswith("generated"):
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
        data = tomllib.loads(read_text(path, path, "(file)"))
    except tomllib.TOMLDecodeError as err:
        raise WorldFileError(path, "(syntax)", f"valid TOML ({err})") from None
    map_field = data.get("map")
    if not isinstance(map_field, str):
        raise WorldFileError(path, "map", "the name of a map text file beside world.toml")
    map_path = path.parent / map_field
    if not map_path.is_file():
        raise WorldFileError(path, "map", f"an existing map file (no file {map_path})")
    world = world_from_data(data, read_text(map_path, path, "map"), path, map_path)
    check_playable(world, path, map_path)
    return world
