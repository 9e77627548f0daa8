"""Tune the expert per world: its lead and roam times searched, kept as data.

    python -m agents.tune_expert [--worlds lake pond ...] [--n-worlds 16] [--ticks 1000]
                                 [--seed 1] [--out agents/expert_params.toml]

DESIGN, "references bound the scale": the reference a learned fisher is normalised by
must be close to the best a scripted fisher can do, its parameters searched rather
than guessed. For each world this searches, by coordinate ascent on mean meals per
fisher-day (respawn protocol), first the lead time (`LEAD_GRID`: how many ticks before
the forecast storm, beyond its walk, the expert heads for shelter), then how long it keeps
away from a spot it gave up on (`ROAM_GRID`), and writes one table per world to
`agents/expert_params.toml`, which `scripted:expert` reads (worlds without an entry,
such as generated ones, take [default]: the per-parameter median over the tuned
worlds). The search uses seed 1 by default so that the skills-pay checks (seed 0)
measure it on fresh worlds. `sweep` is also the lead-time and give-up families' curve.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from agents.rollout import interval, run_policy
from agents.scripted import SkillFisher, scripted_from_spec
from agents.world_reading import DEFAULT_LEAD, DEFAULT_ROAM, EXPERT_PARAMS
from worlds.loader import list_worlds

LEAD_GRID = (0, 2, 4, 6, 8, 11)
ROAM_GRID = (0, 3, 8)


def score(fisher: SkillFisher, world: str, n_worlds: int, ticks: int, seed: int,
          respawn: bool = True) -> tuple[float, float, float]:
    """Mean meals per fisher-day with its 95% interval over worlds."""
    r = run_policy(fisher, world, n_worlds=n_worlds, ticks=ticks, seed=seed, respawn=respawn)
    return interval(r.per_world("meals_per_day"))


def sweep(world: str, spec: str, key: str, values: tuple[int, ...], n_worlds: int, ticks: int,
          seed: int, respawn: bool = True) -> list[tuple[int, tuple[float, float, float]]]:
    """The curve of a family: scripted spec with key=value for each value, (value, interval) each."""
    return [(v, score(scripted_from_spec(f"{spec}:{key}={v}", seed=seed), world, n_worlds, ticks, seed,
                      respawn)) for v in values]


class _Tuned(SkillFisher):
    """The expert with explicit lead and roam times (what the search varies)."""

    def __init__(self, lead: int, roam: int, seed: int):
        super().__init__(name="expert", lead_ticks=lead, seed=seed)
        self.roam = roam

    def _roam_after(self, r) -> np.ndarray:
        return np.full(r.n, self.roam)


def tune_world(world: str, n_worlds: int, ticks: int, seed: int, log=print) -> dict:
    """Coordinate ascent: the lead time, then how long to keep away from a spot given up on (the
    give-up times are not searched: they are the best ones under the world's bite rule)."""
    lead, roam = DEFAULT_LEAD, DEFAULT_ROAM
    best = score(_Tuned(lead, roam, seed), world, n_worlds, ticks, seed)

    def trial(lead_: int, roam_: int) -> tuple[float, float, float]:
        s = score(_Tuned(lead_, roam_, seed), world, n_worlds, ticks, seed)
        log(f"{world}: lead_ticks={lead_} roam_ticks={roam_}: {s[0]:.2f} [{s[1]:.2f}, {s[2]:.2f}]")
        return s

    for value in LEAD_GRID:
        s = trial(value, roam)
        if s[0] > best[0]:
            best, lead = s, value
    for value in ROAM_GRID:
        s = trial(lead, value)
        if s[0] > best[0]:
            best, roam = s, value
    return {"lead_ticks": lead, "roam_ticks": roam, "meals_per_day": round(best[0], 3)}


def to_toml(tuned: dict[str, dict], command: str) -> str:
    """The tuned parameters as TOML, one table per world plus [default] (medians)."""
    lines = ["# The tuned expert's parameters per world (read by scripted:expert: agents/world_reading.py).",
             f"# Written by: {command}",
             "# lead_ticks: ticks before the forecast storm (beyond the walk to a shelter) when it leaves;",
             "# roam_ticks: ticks it casts nowhere within 2 cells of a spot it gave up on (0: recasts);",
             "# meals_per_day: its score in the search (respawn protocol). Its give-up times are not",
             "# here: they are the best ones under each world's bite rule (agents/give_up.py).", ""]
    default = {"lead_ticks": int(np.median([t["lead_ticks"] for t in tuned.values()])),
               "roam_ticks": int(np.median([t["roam_ticks"] for t in tuned.values()]))}
    for name, t in [("default", default), *sorted(tuned.items())]:
        lines += [f"[{name}]", f"lead_ticks = {t['lead_ticks']}", f"roam_ticks = {t['roam_ticks']}"]
        if "meals_per_day" in t:
            lines.append(f"meals_per_day = {t['meals_per_day']}")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agents.tune_expert", description=__doc__.split("\n")[0])
    parser.add_argument("--worlds", nargs="+", default=None, help="worlds (default: every shipped world)")
    parser.add_argument("--n-worlds", type=int, default=16)
    parser.add_argument("--ticks", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1, help="seed of the search (the checks use 0)")
    parser.add_argument("--out", default=str(EXPERT_PARAMS), help="the TOML file to write")
    args = parser.parse_args(argv)
    for name, value in (("--n-worlds", args.n_worlds), ("--ticks", args.ticks)):
        if value < 1:
            parser.exit(2, f"error: {name}: expected an integer >= 1, got {value}\n")
    worlds = args.worlds or list_worlds()
    tuned = {w: tune_world(w, args.n_worlds, args.ticks, args.seed) for w in worlds}
    command = "python -m agents.tune_expert " + " ".join(argv if argv is not None else sys.argv[1:])
    Path(args.out).write_text(to_toml(tuned, command.strip()))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
