"""Named train / held-out suites of worlds, read from worlds/suites.toml (data, not code).

A suite lists worlds by registry name, "generated:SEED[:SIZE]", or a world file: a world folder or
world.toml path, relative to the suites file (or absolute), so a suite can hold a user's worlds."""

from __future__ import annotations

import tomllib
from pathlib import Path

from worlds.loader import WORLDS_DIR, WorldFileError, list_worlds

SUITES_FILE = WORLDS_DIR / "suites.toml"


def _read(path: Path | None = None) -> dict:
    path = path or SUITES_FILE  # read at call time: tests point it at a file of their own
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise WorldFileError(path, "(syntax)", f"valid TOML ({err})") from None
    for name, suite in data.items():
        unknown = set(suite) - {"description", "worlds", "generated"}
        if unknown:
            raise WorldFileError(path, f"{name}.{sorted(unknown)[0]}",
                                 "one of description, worlds, generated")
        for world in suite.get("worlds", []):
            if not isinstance(world, str) or not (world in list_worlds() or world.startswith("generated:")
                                                  or _file(world, path).exists()):
                raise WorldFileError(path, f"{name}.worlds", f"world names in worlds/, generated:SEED or "
                                                             f"world files (no world {world!r})")
        gen = suite.get("generated")
        if gen is not None and (len(gen) != 2 or gen[0] > gen[1]):
            raise WorldFileError(path, f"{name}.generated", "[first_seed, last_seed] with first <= last")
    return data


def _file(world: str, suites_file: Path) -> Path:
    """A suite's world given as a path: relative to the suites file's folder."""
    return (suites_file.parent / world).resolve()


def list_suites() -> list[str]:
    return sorted(_read())


def load_suite(name: str) -> list[str]:
    """World specs of a suite for load_world: names, "generated:SEED" strings and absolute paths."""
    data = _read()
    if name not in data:
        raise WorldFileError(SUITES_FILE, "suite", f"one of {sorted(data)} (got {name!r})")
    suite = data[name]
    worlds = [w if w in list_worlds() or w.startswith("generated:") else str(_file(w, SUITES_FILE))
              for w in suite.get("worlds", [])]
    if "generated" in suite:
        first, last = suite["generated"]
        worlds += [f"generated:{s}" for s in range(first, last + 1)]
    return worlds
