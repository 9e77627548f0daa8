"""`python -m benchmarks.world_load`: how long the loader takes on the largest map it accepts
(128 x 128) and to refuse a 1000 x 1000 one, and a generated world; best of 5 (docs/hostile_inputs.md)."""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

from worlds.loader import WorldFileError, load_world
from worlds.schema import MAX_MAP_SIDE
from worlds.world import WORLDS_DIR


def square_map(side: int) -> str:
    """A side x side map: land, a shelter, a row each of shore, shallow and deep water."""
    rows = ["." * side] * side
    rows[1] = "H" + "." * (side - 1)
    rows[-3], rows[-2], rows[-1] = ":" * side, "-" * side, "=" * side
    return "\n".join(rows) + "\n"


def world_folder(root: Path, side: int) -> Path:
    folder = root / f"square{side}"
    folder.mkdir()
    toml = (WORLDS_DIR / "lake" / "world.toml").read_text()
    (folder / "world.toml").write_text(re.sub(r'^map = ".*"$', 'map = "map.txt"', toml, flags=re.M))
    (folder / "map.txt").write_text(square_map(side))
    return folder


def best_of(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def refuse(folder: Path) -> None:
    try:
        load_world(folder)
    except WorldFileError:
        return
    raise AssertionError(f"{folder} loaded")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        largest, huge = world_folder(root, MAX_MAP_SIDE), world_folder(root, 1000)
        rows = [(f"load {MAX_MAP_SIDE} x {MAX_MAP_SIDE} (the limit)", best_of(lambda: load_world(largest))),
                ("refuse 1000 x 1000", best_of(lambda: refuse(huge))),
                ("generate generated:7:16x22", best_of(lambda: load_world("generated:7:16x22")))]
    for name, seconds in rows:
        print(f"{name:<34}{seconds * 1000:9.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
