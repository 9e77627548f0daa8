"""Do the skills pay? Every scripted fisher in every world, with intervals, and the checks.

    python -m agents.skills_pay [--worlds lake pond ...] [--n-worlds 32] [--ticks 1000]
                                [--markdown docs/skills_pay.md] [--json]

The DESIGN's first law: a skill can only emerge where it pays. For each world and
each protocol (cohort: no respawn; respawn: a newcomer one day after a death) this
measures meals per fisher per day (mean and 95% bootstrap interval over worlds) and
checks, with non-overlapping intervals:

- patient > impatient; weather_wise > weather_blind;
- expert > each single-skill fisher (patient, weather_wise, spot_wise) > random;
- expert > expert_no_patience, expert_no_weather, expert_no_spots.

Fishers with the same skills (patient and weather_blind; weather_wise and
expert_no_spots; spot_wise and expert_no_weather) are the same fisher under two
names and are simulated once. Exit status 1 if any check fails.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass

from agents.rollout import interval, run_policy
from agents.scripted import SCRIPTED, SCRIPTED_NAMES, make_scripted
from worlds.loader import list_worlds

PROTOCOLS = {"cohort": False, "respawn": True}
SINGLE_SKILL = ("patient", "weather_wise", "spot_wise")
CHECKS: tuple[tuple[str, str], ...] = (
    ("patient", "impatient"),
    ("weather_wise", "weather_blind"),
    *(("expert", s) for s in SINGLE_SKILL),
    *((s, "random") for s in SINGLE_SKILL),
    ("expert", "expert_no_patience"),
    ("expert", "expert_no_weather"),
    ("expert", "expert_no_spots"),
)


@dataclass
class Check:
    world: str
    protocol: str
    better: str
    worse: str
    passed: bool
    better_ci: tuple[float, float, float]
    worse_ci: tuple[float, float, float]


def _skill_key(name: str) -> tuple:
    return ("random",) if name == "random" else tuple(sorted(SCRIPTED[name].items()))


def measure_world(world: str, n_worlds: int, ticks: int, n_fishers: int, seed: int) -> dict:
    """{protocol: {fisher: {"meals_per_day": (mean, lo, hi), "survival": (...), ...}}}."""
    out: dict[str, dict[str, dict]] = {}
    for protocol, respawn in PROTOCOLS.items():
        done: dict[tuple, dict] = {}
        out[protocol] = {}
        for name in SCRIPTED_NAMES:
            key = _skill_key(name)
            if key not in done:
                r = run_policy(make_scripted(name, seed=seed), world, n_worlds=n_worlds, n_fishers=n_fishers,
                               ticks=ticks, seed=seed, respawn=respawn)
                done[key] = {m: interval(r.per_world(m)) for m in
                             ("meals_per_day", "survival", "deaths_per_day", "storm_sheltered",
                              "reel_empty_rate")}
            out[protocol][name] = done[key]
    return out


def check_world(world: str, table: dict) -> list[Check]:
    checks = []
    for protocol, rows in table.items():
        for better, worse in CHECKS:
            b, w = rows[better]["meals_per_day"], rows[worse]["meals_per_day"]
            checks.append(Check(world, protocol, better, worse, passed=b[1] > w[2], better_ci=b, worse_ci=w))
    return checks


def _fmt(ci: tuple[float, float, float]) -> str:
    return f"{ci[0]:.2f} [{ci[1]:.2f}, {ci[2]:.2f}]"


SUMMARY_FISHERS = ("random", "impatient", "patient", "weather_wise", "spot_wise", "expert")


def summary(results: dict, checks: list[Check]) -> str:
    """One line per world: cohort and respawn meals per day of the main fishers, and the checks."""
    head = "| world | protocol | " + " | ".join(SUMMARY_FISHERS) + " | checks passed |"
    lines = [head, "|---" * (len(SUMMARY_FISHERS) + 3) + "|"]
    for world, table in results.items():
        for protocol in PROTOCOLS:
            mine = [c for c in checks if c.world == world and c.protocol == protocol]
            cells = " | ".join(f"{table[protocol][f]['meals_per_day'][0]:.2f}" for f in SUMMARY_FISHERS)
            lines.append(f"| {world} | {protocol} | {cells} | {sum(c.passed for c in mine)}/{len(mine)} |")
    return "\n".join(lines)


def markdown(results: dict, checks: list[Check], args: argparse.Namespace) -> str:
    lines = [f"Meals per fisher per day, mean [95% bootstrap CI over {args.n_worlds} worlds], "
             f"{args.fishers} fishers per world, {args.ticks} ticks, seed {args.seed}.", ""]
    if len(results) > 1:
        lines += ["## Summary (mean meals per fisher per day)", "", summary(results, checks), "",
                  "## Every fisher, with intervals", ""]
    for world, table in results.items():
        lines += [f"### {world}", "", "| fisher | cohort meals/day | cohort survival | respawn meals/day "
                  "| respawn deaths/day | storm ticks sheltered |", "|---|---|---|---|---|---|"]
        for name in SCRIPTED_NAMES:
            c, r = table["cohort"][name], table["respawn"][name]
            lines.append(f"| {name} | {_fmt(c['meals_per_day'])} | {c['survival'][0]:.2f} | "
                         f"{_fmt(r['meals_per_day'])} | {r['deaths_per_day'][0]:.2f} | "
                         f"{r['storm_sheltered'][0]:.2f} |")
        failed = [c for c in checks if c.world == world and not c.passed]
        n_checks = sum(c.world == world for c in checks)
        lines += ["", f"Checks: {n_checks - len(failed)} passed, {len(failed)} failed"
                  + "".join(f"; FAILED {c.protocol}: {c.better} > {c.worse}" for c in failed), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agents.skills_pay", description=__doc__.split("\n")[0])
    parser.add_argument("--worlds", nargs="+", default=None, help="worlds (default: every shipped world)")
    parser.add_argument("--n-worlds", type=int, default=32, help="independent worlds per fisher and protocol")
    parser.add_argument("--ticks", type=int, default=1000)
    parser.add_argument("--fishers", type=int, default=4, help="fishers per world")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--markdown", help="also write the tables to this markdown file")
    parser.add_argument("--json", action="store_true", help="JSON on stdout instead of tables")
    args = parser.parse_args(argv)
    for name, value in (("--n-worlds", args.n_worlds), ("--ticks", args.ticks), ("--fishers", args.fishers)):
        if value < 1:
            parser.exit(2, f"error: {name}: expected an integer >= 1, got {value}\n")
    worlds = args.worlds or list_worlds()
    results, checks = {}, []
    for world in worlds:
        try:
            results[world] = measure_world(world, args.n_worlds, args.ticks, args.fishers, args.seed)
        except ValueError as err:
            parser.exit(2, f"error: --worlds: {err}\n")
        checks += check_world(world, results[world])
        if not args.json:
            print(markdown({world: results[world]}, checks, args), flush=True)
    text = markdown(results, checks, args)
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(text + "\n")
    if args.json:
        json.dump({"results": results, "checks": [c.__dict__ for c in checks]}, sys.stdout, indent=1)
    failed = [c for c in checks if not c.passed]
    print(f"{len(checks) - len(failed)}/{len(checks)} checks passed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
