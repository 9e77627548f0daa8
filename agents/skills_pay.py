"""Do the skills pay? Every scripted fisher in every world, with intervals, and the checks.

    python -m agents.skills_pay [--worlds lake pond ...] [--n-worlds 128] [--ticks 1000]
                                [--workers 2] [--markdown docs/skills_pay.md] [--json]

The DESIGN's first law: a skill can only emerge where it pays. For each world and
each protocol (cohort: no respawn; respawn: a newcomer one day after a death) this
measures meals per fisher per day (mean and 95% bootstrap interval over worlds) and
checks, with non-overlapping intervals:

- patient > impatient; weather_wise > weather_blind;
- expert > each single-skill fisher (patient, weather_wise, spot_wise) > random;
- expert > expert_no_patience, expert_no_weather, expert_no_spots;
- reading beats reacting: expert > reactive > weather_blind (also over `--generated`
  procedural worlds, one world each: there the worlds differ from each other, so the
  check is paired, the interval of the per-world difference above 0; patient > impatient
  is checked there the same way);
- the oracle (hidden state) is not below the tuned expert; the gap is reported.

and, on the respawn protocol, in every world and over the generated ones, that two families have
an interior optimum (the best member eats more than each end in the same worlds: the interval of
the per-world difference above 0): the expert with lead time L
(scripted:expert:lead_ticks=L, `FAMILIES`) and the patient fisher with give-up time
T (scripted:patient:patience_ticks=T): fish grow wary of a still line
(`fishing.wary_ticks`), so giving up too early wastes the cast and waiting on wastes the
day.

Fishers with the same skills (patient and weather_blind; weather_wise and
expert_no_spots; spot_wise and expert_no_weather) are the same fisher under two
names and are simulated once. Exit status 1 if any check fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from agents.rollout import interval, run_policy
from agents.scripted import SCRIPTED, SCRIPTED_NAMES, make_scripted, scripted_from_spec
from sim.cli import local_executor
from worlds.loader import World, WorldFileError, list_worlds, load_world, override_world

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
    ("expert", "reactive"),
    ("reactive", "weather_blind"),
    ("oracle", "expert"),
)
# checks on procedural worlds: reading the sky beats reacting, which beats ignoring the weather
GENERATED_CHECKS: tuple[tuple[str, str], ...] = (("expert", "reactive"), ("reactive", "weather_blind"),
                                                 ("patient", "impatient"))
# the families whose curve over one parameter must peak inside the range (respawn protocol)
FAMILIES: dict[str, tuple[str, str, tuple[int, ...]]] = {
    "lead_time": ("scripted:expert", "lead_ticks", (-4, 0, 3, 6, 10, 14)),
    "give_up": ("scripted:patient", "patience_ticks", (5, 10, 20, 40, 10_000)),
}


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
    return (name,) if name in ("random", "oracle") else tuple(sorted(SCRIPTED[name].items()))


METRICS = ("meals_per_day", "survival", "deaths_per_day", "storm_sheltered", "reel_empty_rate")


def measure_world(world: str | list, n_worlds: int, ticks: int, n_fishers: int, seed: int,
                  names: tuple[str, ...] = SCRIPTED_NAMES, families: bool = True) -> dict:
    """{protocol: {fisher: {"meals_per_day": (mean, lo, hi), "survival": (...), ...}},
    "families": {family: [(value, (mean, lo, hi), [per-world meals/day]), ...]}} (a list of worlds:
    one world each)."""
    out: dict[str, dict] = {}
    for protocol, respawn in PROTOCOLS.items():
        done: dict[tuple, dict] = {}
        out[protocol] = {}
        for name in names:
            key = _skill_key(name)
            if key not in done:
                r = run_policy(make_scripted(name, seed=seed), world, n_worlds=n_worlds, n_fishers=n_fishers,
                               ticks=ticks, seed=seed, respawn=respawn)
                done[key] = {m: interval(r.per_world(m)) for m in METRICS}
                done[key]["per_world"] = [round(float(x), 4) for x in r.per_world("meals_per_day")]
            out[protocol][name] = done[key]
    if families:
        out["families"] = {}
        for family, (spec, key, values) in FAMILIES.items():
            curve = []
            for v in values:
                r = run_policy(scripted_from_spec(f"{spec}:{key}={v}", seed=seed), world, n_worlds=n_worlds,
                               n_fishers=n_fishers, ticks=ticks, seed=seed)
                per_world = r.per_world("meals_per_day")
                curve.append((v, interval(per_world), [round(float(x), 4) for x in per_world]))
            out["families"][family] = curve
    return out


Curve = list[tuple[int, tuple[float, float, float], list[float]]]  # (value, interval, per-world meals/day)


def interior_optimum(curve: Curve) -> bool:
    """The best member is neither end, and it eats clearly more than each end in the same worlds: the
    95% interval of the per-world difference (best minus end) lies above 0. The members play the same
    seeded worlds, so the comparison is paired; the spread between worlds (how rich, how stormy) would
    otherwise swamp a difference every world shows."""
    best, ends = _best_over_ends(curve)
    return 0 < best < len(curve) - 1 and all(diff[1] > 0 for _, diff in ends)


def _best_over_ends(curve: Curve) -> tuple[int, list[tuple[int, tuple[float, float, float]]]]:
    """The index of the member with the highest mean, and its paired difference to each end."""
    best = int(np.argmax([ci[0] for _, ci, _ in curve]))
    return best, [(end[0], _difference(curve[best][2], end[2])) for end in (curve[0], curve[-1])]


def _difference(better: list[float], worse: list[float]) -> tuple[float, float, float]:
    """Mean and 95% interval of the per-world difference of two fishers measured in the same worlds."""
    return interval(np.subtract(better, worse))


def check_world(world: str, table: dict, pairs: tuple[tuple[str, str], ...] = CHECKS,
                paired: bool = False) -> list[Check]:
    """Each pair: the better fisher's interval above the worse one's; paired (for worlds that differ
    from each other, such as generated ones): the interval of the per-world difference above 0."""
    checks = []
    for protocol in PROTOCOLS:
        rows = table[protocol]
        for better, worse in pairs:
            b, w = rows[better]["meals_per_day"], rows[worse]["meals_per_day"]
            if paired:
                diff = _difference(rows[better]["per_world"], rows[worse]["per_world"])
                checks.append(Check(world, protocol, better, worse, passed=diff[1] > 0, better_ci=diff,
                                    worse_ci=(0.0, 0.0, 0.0)))
                continue
            # the oracle is an upper reference: it must not fall below the expert (intervals may overlap)
            passed = b[2] >= w[1] if better == "oracle" else b[1] > w[2]
            checks.append(Check(world, protocol, better, worse, passed=passed, better_ci=b, worse_ci=w))
    for family, curve in table.get("families", {}).items():
        best, ends = _best_over_ends(curve)
        # as a paired check: better_ci is the tested difference (best minus the closer end)
        closer = min((diff for _, diff in ends), key=lambda ci: ci[1])
        checks.append(Check(world, "respawn", f"{family} optimum", f"{FAMILIES[family][1]}={curve[best][0]}",
                            passed=interior_optimum(curve), better_ci=closer, worse_ci=(0.0, 0.0, 0.0)))
    return checks


def _fmt(ci: tuple[float, float, float]) -> str:
    return f"{ci[0]:.2f} [{ci[1]:.2f}, {ci[2]:.2f}]"


SUMMARY_FISHERS = ("random", "impatient", "patient", "weather_wise", "spot_wise", "reactive", "expert",
                   "oracle")
GENERATED = "generated"  # the results key of the procedural worlds
GENERATED_NAMES = ("random", "impatient", "patient", "weather_blind", "reactive", "expert")


def summary(results: dict, checks: list[Check]) -> str:
    """One line per world: cohort and respawn meals per day of the main fishers, and the checks."""
    head = "| world | protocol | " + " | ".join(SUMMARY_FISHERS) + " | expert/oracle | checks passed |"
    lines = [head, "|---" * (len(SUMMARY_FISHERS) + 4) + "|"]
    for world, table in results.items():
        for protocol in PROTOCOLS:
            rows = table[protocol]
            mine = [c for c in checks if c.world == world and c.protocol == protocol]
            cells = " | ".join(f"{rows[f]['meals_per_day'][0]:.2f}" if f in rows else "-"
                               for f in SUMMARY_FISHERS)
            ratio = (f"{rows['expert']['meals_per_day'][0] / rows['oracle']['meals_per_day'][0]:.2f}"
                     if "oracle" in rows else "-")
            passed = f"{sum(c.passed for c in mine)}/{len(mine)}"
            lines.append(f"| {world} | {protocol} | {cells} | {ratio} | {passed} |")
    return "\n".join(lines)


HOW_TO_READ = """\
How to read it: expert is the tuned expert (its lead and roam times searched per world on
seed 1 by `python -m agents.tune_expert`, kept in agents/expert_params.toml; its give-up
times are the best ones under the world's bite rule for a spot of each ripple level,
agents/give_up.py); reactive is the same fisher acting on the weather only once the storm is
on; oracle is the expert reading the hidden state (fish under every cell, the time to the
next storm). The single-skill fishers give up at those times too. Families: meals per day over
one parameter on the respawn protocol; the check asks for a best member inside the range that
eats clearly more than each end in the same worlds (the 95% interval of the per-world difference
above 0: the members play the same seeded worlds, so the test is paired). The give-up optimum
comes from the core rule `fishing.wary_ticks` (fish grow wary of a still line: past settle,
the bite chance falls by a factor e every wary_ticks ticks; a new cast is fresh), 20 in every
shipped world and the default for other world files."""


def _family_lines(table: dict) -> list[str]:
    lines = []
    for family, curve in table.get("families", {}).items():
        spec, key, _ = FAMILIES[family]
        best, ends = _best_over_ends(curve)
        lines.append(f"{family} family ({spec}:{key}=X, respawn meals/day): "
                     + ", ".join(f"{v}: {_fmt(ci)}" for v, ci, _ in curve)
                     + f"; best {curve[best][0]}, paired: "
                     + ", ".join(f"{_signed(diff)} over {end}" for end, diff in ends))
    return lines


def _signed(ci: tuple[float, float, float]) -> str:
    return f"{ci[0]:+.2f} [{ci[1]:+.2f}, {ci[2]:+.2f}]"


def markdown(results: dict, checks: list[Check], args: argparse.Namespace) -> str:
    lines = [f"Meals per fisher per day, mean [95% bootstrap CI over {args.n_worlds} worlds], "
             f"{args.fishers} fishers per world, {args.ticks} ticks, seed {args.seed}; "
             f"'{GENERATED}': {args.generated} procedural worlds (generated:0..{args.generated - 1}), "
             "one each. "
             "The expert is the tuned expert (agents/expert_params.toml, `python -m agents.tune_expert`); "
             "the oracle reads the hidden state."
             + (f" Rules tried on every world (--set): {', '.join(args.overrides)}."
                if args.overrides else ""),
             ""]
    if len(results) > 1:
        lines += [HOW_TO_READ, "",
                  "## Summary (mean meals per fisher per day)", "", summary(results, checks), "",
                  "## Every fisher, with intervals", ""]
    for world, table in results.items():
        lines += [f"### {world}", "", "| fisher | cohort meals/day | cohort survival | respawn meals/day "
                  "| respawn deaths/day | storm ticks sheltered |", "|---|---|---|---|---|---|"]
        for name in table["respawn"]:
            c, r = table["cohort"][name], table["respawn"][name]
            lines.append(f"| {name} | {_fmt(c['meals_per_day'])} | {c['survival'][0]:.2f} | "
                         f"{_fmt(r['meals_per_day'])} | {r['deaths_per_day'][0]:.2f} | "
                         f"{r['storm_sheltered'][0]:.2f} |")
        lines += ["", *_family_lines(table)]
        mine = [c for c in checks if c.world == world]
        failed = [c for c in mine if not c.passed]
        lines += ["", f"Checks: {len(mine) - len(failed)} passed, {len(failed)} failed"
                  + "".join(f"; FAILED {c.protocol}: {c.better} > {c.worse}" for c in failed), ""]
    return "\n".join(lines)


def parse_overrides(pairs: list[str]) -> dict[str, object]:
    """{"section.field": value} from SECTION.FIELD=VALUE strings (VALUE read as TOML: 10, 0.5, [1, 2])."""
    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or "." not in key:
            raise ValueError(f"expected SECTION.FIELD=VALUE, got {pair!r}")
        try:
            out[key.strip()] = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            raise ValueError(f"{key}: expected a TOML value (a number, a string in quotes, a list), "
                             f"got {text!r}") from None
    return out


def with_rules(world: str, overrides: dict[str, object]) -> str | World:
    """The world by name, or loaded with some rules replaced (override_world checks them)."""
    return override_world(load_world(world), overrides) if overrides else world


Job = tuple[str, object, int, tuple[str, ...]]  # (results key, world or worlds, instances, fishers)


def measured(jobs: list[Job], args: argparse.Namespace) -> Iterator[tuple[str, dict]]:
    """(key, measure_world's table) for each job, in order; with --workers > 1 the worlds are measured
    side by side in spawned processes (each from its own seed, so the tables do not change)."""
    kwargs = {"ticks": args.ticks, "n_fishers": args.fishers, "seed": args.seed,
              "families": not args.no_families}
    if args.workers == 1:
        for key, world, n, names in jobs:
            yield key, measure_world(world, n, names=names, **kwargs)
        return
    with local_executor(args.workers) as pool:
        futures = [pool.submit(measure_world, world, n, names=names, **kwargs) for _, world, n, names in jobs]
        for (key, *_), future in zip(jobs, futures, strict=True):
            yield key, future.result()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agents.skills_pay", description=__doc__.split("\n")[0])
    parser.add_argument("--worlds", nargs="+", default=None, help="worlds (default: every shipped world)")
    parser.add_argument("--n-worlds", type=int, default=128,
                        help="seeded instances of each world per fisher and protocol")
    parser.add_argument("--generated", type=int, default=64,
                        help="procedural worlds for the paired checks (reading beats reacting, "
                             "patience, the families' optima; 0: none)")
    parser.add_argument("--ticks", type=int, default=1000)
    parser.add_argument("--fishers", type=int, default=4, help="fishers per world")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1,
                        help="processes measuring worlds side by side (the same tables for any count)")
    parser.add_argument("--no-families", action="store_true", help="skip the lead-time and give-up curves")
    parser.add_argument("--markdown", help="also write the tables to this markdown file")
    parser.add_argument("--json", action="store_true", help="JSON on stdout instead of tables")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE", dest="overrides",
                        help="try a rule on every world measured, e.g. --set hunger.storm_multiplier=10 "
                             "(repeatable; the world files stay as they are)")
    args = parser.parse_args(argv)
    try:
        overrides = parse_overrides(args.overrides)
    except ValueError as err:
        parser.exit(2, f"error: --set: {err}\n")
    for name, value in (("--n-worlds", args.n_worlds), ("--ticks", args.ticks), ("--fishers", args.fishers),
                        ("--workers", args.workers)):
        if value < 1:
            parser.exit(2, f"error: {name}: expected an integer >= 1, got {value}\n")
    if args.generated < 0:
        parser.exit(2, f"error: --generated: expected an integer >= 0, got {args.generated}\n")
    jobs: list[Job] = []
    try:
        for world in args.worlds or list_worlds():
            jobs.append((world, with_rules(world, overrides), args.n_worlds, SCRIPTED_NAMES))
        if args.generated:
            generated = [with_rules(f"generated:{i}", overrides) for i in range(args.generated)]
            jobs.append((GENERATED, generated, args.generated, GENERATED_NAMES))
    except WorldFileError as err:
        parser.exit(2, f"error: --set: {err}\n")
    except ValueError as err:
        parser.exit(2, f"error: --worlds: {err}\n")
    results, checks = {}, []
    try:
        for key, table in measured(jobs, args):
            results[key] = table
            checks += (check_world(GENERATED, table, GENERATED_CHECKS, paired=True) if key == GENERATED
                       else check_world(key, table))
            if not args.json:
                print(markdown({key: table}, checks, args), flush=True)
    except ValueError as err:
        parser.exit(2, f"error: --worlds: {err}\n")
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
