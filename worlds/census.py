"""A census of generated worlds: what a sample of seeds holds (docs/generated_worlds.md).

    python -m worlds.census [--seeds 0..199] [--markdown FILE]

Per archetype: how many worlds, their sizes, their water, their shelters and how far a
fisher walks from a fishing spot to the nearest shelter (median over spots, then over
worlds; the share of spots with a shelter within one step; the farthest spot), and the walk
from the richest water to a shelter. Then how often each regime was drawn.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass

import numpy as np

from worlds.generator import generate_world, plan_world
from worlds.landscapes import ARCHETYPES, rich_reach, steps
from worlds.playable import richest_water
from worlds.registry import generated_pool
from worlds.schema import WATER_KINDS
from worlds.terrain import FISHABLE_FROM, SHELTER, WALKABLE, WATER, beside
from worlds.world import World


@dataclass
class Survey:
    """One world's figures."""

    archetype: str
    regimes: dict[str, str]
    shape: tuple[int, int]
    water: float          # share of cells that are water (at high tide)
    shelters: int
    spot_median: float    # median walk (steps) from a fishing spot to the nearest shelter
    spot_near: float      # share of fishing spots with a shelter within one step
    spot_max: int         # the farthest spot's walk to a shelter
    rich: int             # the walk to a shelter from the nearest spot whose line reaches the richest water


def survey(world: World, archetype: str = "", regimes: dict | None = None) -> Survey:
    """The census figures of one world (any world: shipped ones too)."""
    t = world.terrain
    walk = np.isin(t, WALKABLE)
    spots = np.isin(t, FISHABLE_FROM) & beside(np.isin(t, WATER))
    to_shelter = steps(t == SHELTER, walk)[spots]
    kind, _ = richest_water(t, world.params.fish.capacity)
    rich_spots = rich_reach(spots, t == WATER[WATER_KINDS.index(kind)], world.params.fishing.cast_reach)
    return Survey(archetype=archetype, regimes=regimes or {}, shape=world.shape,
                  water=float(np.isin(t, WATER).mean()), shelters=int((t == SHELTER).sum()),
                  spot_median=float(np.median(to_shelter)), spot_near=float((to_shelter <= 1).mean()),
                  spot_max=int(to_shelter.max()), rich=int(steps(t == SHELTER, walk)[rich_spots].min()))


def survey_seeds(seeds: list[int]) -> list[Survey]:
    out = []
    for seed in seeds:
        plan = plan_world(seed)
        out.append(survey(generate_world(seed), plan.archetype, plan.regimes))
    return out


def _range(values: list[float], fmt: str = "{:.0f}") -> str:
    return f"{fmt.format(min(values))}-{fmt.format(max(values))}"


def census_table(rows: list[Survey]) -> str:
    """Markdown: one line per archetype, then the regimes drawn."""
    lines = ["| archetype | worlds | rows | columns | water share | shelters | spot to shelter, median "
             "steps | spots with a shelter within 1 step | farthest spot, steps | richest water to "
             "shelter, steps |", "|---" * 10 + "|"]
    for arch in ARCHETYPES:
        group = [r for r in rows if r.archetype == arch]
        if not group:
            lines.append(f"| {arch} | 0 |" + " - |" * 8)
            continue
        median = np.median([r.spot_median for r in group])
        lines.append(
            f"| {arch} | {len(group)} | {_range([r.shape[0] for r in group])} | "
            f"{_range([r.shape[1] for r in group])} | {np.mean([r.water for r in group]):.2f} | "
            f"{np.mean([r.shelters for r in group]):.1f} ({_range([r.shelters for r in group])}) | "
            f"{median:.1f} ({_range([r.spot_median for r in group], '{:.1f}')}) | "
            f"{np.mean([r.spot_near for r in group]):.2f} | {np.median([r.spot_max for r in group]):.0f} "
            f"({_range([r.spot_max for r in group])}) | {np.median([r.rich for r in group]):.0f} "
            f"({_range([r.rich for r in group])}) |")
    regimes = ["", "| regime | drawn |", "|---|---|"]
    for key in rows[0].regimes if rows else ():
        counts = Counter(r.regimes[key] for r in rows)
        regimes.append(f"| {key} | " + ", ".join(f"{name} {n}" for name, n in sorted(counts.items())) + " |")
    return "\n".join(lines + regimes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m worlds.census", description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0..199", help="generated seeds, A..B (both included)")
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args(argv)
    try:
        pool = generated_pool(f"generated:{args.seeds}")
    except ValueError as err:
        parser.exit(2, f"error: --seeds: {err}\n")
    if pool is None:
        parser.exit(2, f"error: --seeds: expected A..B with integers, got {args.seeds!r}\n")
    text = (f"Census of generated:{args.seeds} ({len(pool)} worlds, natural sizes):\n\n"
            + census_table(survey_seeds([int(s.split(":")[1]) for s in pool])))
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
