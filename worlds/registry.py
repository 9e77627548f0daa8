"""One registry of worlds that every command reads: what a world spec may say, and what "all" is.

    NAME                   a world folder under worlds/ (any folder holding a world.toml: adding a
                           world adds files, never code, and it is in every command's "all")
    PATH                   a world folder or a world.toml anywhere
    generated:SEED[:SIZE]  one procedural world (worlds.generator)
    generated:A..B         a pool: the procedural worlds of seeds A to B, both included
    suite:NAME             a named suite (worlds/suites.toml)
    all                    every world folder under worlds/
    a,b,c                  several of the above, in order, each once

`expand` turns a spec (or a list of them) into single-world specs for `worlds.loader.load_world`;
it checks spellings, not files (a caller loads each world to check it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from worlds.loader import list_worlds
from worlds.suites import list_suites, load_suite

ALL = "all"
POOL = re.compile(r"^generated:(\d+)\.\.(\d+)$")
MAX_POOL = 1_000_000  # a typo like generated:0..10**12 must not build a list that fills the memory
SPELLINGS = "a world name, a world folder or world.toml, generated:SEED, generated:A..B, suite:NAME or all"


def world_names() -> list[str]:
    """The registered worlds: every folder under worlds/ with a world.toml, sorted by name."""
    return list_worlds()


def generated_pool(spec: str) -> list[str] | None:
    """["generated:A", ..., "generated:B"] for "generated:A..B", else None (not a pool spelling)."""
    match = POOL.match(spec)
    if match is None:
        return None
    first, last = int(match[1]), int(match[2])
    if first > last or last - first + 1 > MAX_POOL:
        raise ValueError(f"{spec!r}: expected generated:A..B with A <= B and at most {MAX_POOL:,} worlds")
    return [f"generated:{seed}" for seed in range(first, last + 1)]


def expand(spec: str | Sequence[str], exclude: str | None = None) -> list[str]:
    """Single-world specs from a spec or a list of specs (module docstring); `exclude` leaves one
    world out of "all" (a fisher's own training world). Raises ValueError for a bad spelling."""
    parts = [p.strip() for p in spec.split(",")] if isinstance(spec, str) else [str(p) for p in spec]
    out: list[str] = []
    for part in filter(None, parts):
        if part == ALL:
            out += [w for w in world_names() if w != exclude]
        elif part.startswith("suite:"):
            name = part.split(":", 1)[1]
            if name not in list_suites():
                raise ValueError(f"{part!r}: expected suite:NAME with NAME one of {', '.join(list_suites())}")
            out += load_suite(name)
        else:
            out += generated_pool(part) or [part]
    if not out:
        raise ValueError(f"expected at least one world: {SPELLINGS}")
    return list(dict.fromkeys(out))


def breadth(spec: str | Sequence[str]) -> int:
    """How many worlds a spec names (a training pool's breadth)."""
    return len(expand(spec))


def is_registered(spec: str) -> bool:
    """Whether a spec names a world by its registry name (not by a path): hyperparameter sections and
    reports key on such names only."""
    return spec in world_names() or spec.startswith("generated:")

