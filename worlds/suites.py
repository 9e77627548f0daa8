"""Named train / held-out suites of worlds, read from worlds/suites.toml (data, not code)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from worlds.loader import WORLDS_DIR, WorldFileError, list_worlds

SUITES_FILE = WORLDS_DIR / "suites.toml"


def _read(path: Path = SUITES_FILE) -> dict:
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
            if world not in list_worlds() and not str(world).startswith("generated:"):
                raise WorldFileError(path, f"{name}.worlds", f"shipped world names (no world {world!r})")
        gen = suite.get("generated")
        if gen is not None and (len(gen) != 2 or gen[0] > gen[1]):
            raise WorldFileError(path, f"{name}.generated", "[first_seed, last_seed] with first <= last")
    return data


def list_suites() -> list[str]:
    return sorted(_read())


def load_suite(name: str) -> list[str]:
    """World specs of a suite: shipped names and "generated:SEED" strings, for load_world."""
    data = _read()
    if name not in data:
        raise WorldFileError(SUITES_FILE, "suite", f"one of {sorted(data)} (got {name!r})")
    suite = data[name]
    worlds = list(suite.get("worlds", []))
    if "generated" in suite:
        first, last = suite["generated"]
        worlds += [f"generated:{s}" for s in range(first, last + 1)]
    return worlds
