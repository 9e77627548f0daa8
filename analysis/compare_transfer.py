"""Arms of trained fishers compared zero-shot on the same worlds, with one statistic.

    python -m analysis.compare_transfer --arm base=RUN,RUN,... --arm wide=RUN,... --worlds held_out
    python -m analysis.compare_transfer ... --respawn --episodes 16 --ticks 1000 --out FILE.json

Each run's final policy (deterministic) plays every world on one protocol (agents.rollout.run_policy;
cohort by default, --respawn as in the thesis study); its meals per fisher-day are normalised per
world first, (x - random) / (tuned expert - random), with the references rolled once per world on
the same protocol; then analysis.stats.compare_arms gives each arm's IQM over runs x worlds, every
later arm's difference from the first arm and the probability that a run of it beats a run of the
first in the same world, all from one stratified bootstrap (worlds are strata, runs resampled within
them). Arms with fewer than 5 runs get no intervals, and the output says so (issue 14's rule for a
headline). What a question like "is the network the limit?" needs: the same worlds, protocol and
statistic for every arm, trained apart (the runs are made with agents.train beforehand).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from agents.policy_spec import resolve_policy
from agents.references import NORMALISE
from agents.scripted import make_scripted
from analysis import stats
from analysis.transfer import _roll, resolve_worlds
from sim.cli import Parser, UsageError, emit, int_at_least, output_file, run_command


def parse_arm(text: str) -> tuple[str, list[str]]:
    """NAME=RUN,RUN,... -> (NAME, [RUN, ...])."""
    name, sep, runs = text.partition("=")
    paths = [r.strip() for r in runs.split(",") if r.strip()]
    if not sep or not name.strip() or not paths:
        raise UsageError("--arm", f"expected NAME=RUN[,RUN...], got {text!r}")
    return name.strip(), paths


def compare(arms: dict[str, list[str]], worlds: list[str], n_worlds: int = 16, n_fishers: int = 4,
            ticks: int = 600, seed: int = 0, respawn: bool = False,
            progress: Any = None) -> dict[str, Any]:
    """Per-run normalised scores in every world and the arms' comparison (see the module docstring)."""
    protocol = {"n_worlds": n_worlds, "n_fishers": n_fishers, "ticks": ticks, "seed": seed,
                "respawn": respawn}
    policies = {(arm, path): resolve_policy(path, seed, deterministic=True, flag="--arm")
                for arm, paths in arms.items() for path in paths}  # every file checked before any work
    low_name, high_name = NORMALISE[0], NORMALISE[-1]
    refs = {}
    for world in worlds:
        refs[world] = {name: float(np.mean(_roll(make_scripted(name, seed=seed), world, protocol)))
                       for name in (low_name, high_name)}
        if progress:
            progress(f"references in {world}")
    runs: dict[str, dict[str, dict[str, float]]] = {}
    scores: dict[str, np.ndarray] = {}
    for arm, paths in arms.items():
        rows = []
        runs[arm] = {}
        for path in paths:
            meals = {w: float(np.mean(_roll(policies[(arm, path)], w, protocol))) for w in worlds}
            norm = {w: float(stats.normalise(meals[w], refs[w][low_name], refs[w][high_name]))
                    for w in worlds}
            runs[arm][path] = {"meals_per_day": meals, "normalised": norm}
            rows.append([norm[w] for w in worlds])
            if progress:
                progress(f"{arm}: {path}")
        scores[arm] = np.asarray(rows)
    c = stats.compare_arms(scores, seed=seed)
    first = next(iter(arms))
    def iv(i: stats.Interval) -> dict[str, float | None]:  # JSON has no NaN: an omitted bound is null
        return {k: (float(v) if np.isfinite(v) else None) for k, v in (("value", i.value), ("low", i.low),
                                                                        ("high", i.high))}

    return {
        "protocol": {**protocol, "worlds": worlds,
                     "normalised": f"(policy - {low_name}) / ({high_name} - {low_name}), per world"},
        "references": refs, "runs": runs,
        "arms": {a: {"iqm": iv(c.values[a]), "runs": c.seeds[a]} for a in arms},
        "against": first,
        "differences": {a: {"difference": iv(c.differences[(a, first)]),
                            "p_improvement": iv(c.improvement[(a, first)])} for a in list(arms)[1:]},
        "omitted": c.omitted,
    }


def table(result: dict[str, Any]) -> str:
    def f(i: dict[str, float | None], spec: str = ".3f") -> str:
        if i["low"] is None or i["high"] is None:
            return f"{i['value']:{spec}}"
        return f"{i['value']:{spec}} [{i['low']:{spec}}, {i['high']:{spec}}]"

    first = result["against"]
    lines = [f"| arm | runs | normalised meals, IQM over runs x worlds | minus {first} | P(beats {first}) |",
             "|---|---:|---:|---:|---:|"]
    for arm, a in result["arms"].items():
        d = result["differences"].get(arm)
        lines.append(f"| {arm} | {a['runs']} | {f(a['iqm'])} | {f(d['difference'], '+.3f') if d else ''} | "
                     f"{f(d['p_improvement'], '.2f') if d else ''} |")
    p = result["protocol"]
    lines.append("")
    lines.append(f"worlds: {', '.join(p['worlds'])}; {p['n_worlds']} worlds x {p['n_fishers']} fishers x "
                 f"{p['ticks']} ticks each, {'respawn' if p['respawn'] else 'cohort'}, seed {p['seed']}; "
                 f"{p['normalised']}")
    if result["omitted"]:
        lines.append(f"intervals omitted: {result['omitted']}")
    return "\n".join(lines)


def build_parser() -> Parser:
    p = Parser(prog="python -m analysis.compare_transfer", description=__doc__.split("\n\n")[0])
    p.add_argument("--arm", action="append", required=True, metavar="NAME=RUN[,RUN...]",
                   help="an arm and its runs (run folders or policy files); the first arm is the baseline")
    p.add_argument("--worlds", default="held_out", help="test worlds as analysis.transfer takes them "
                                                         "(default: held_out)")
    p.add_argument("--episodes", type=int_at_least(1), default=16, help="worlds per test world (default 16)")
    p.add_argument("--fishers", type=int_at_least(1), default=4, help="fisher slots per world (default 4)")
    p.add_argument("--ticks", type=int_at_least(1), default=600, help="ticks per world (default 600)")
    p.add_argument("--respawn", action="store_true", help="respawn protocol (default: cohort)")
    p.add_argument("--seed", type=int_at_least(0), default=0,
                   help="seed of the worlds and the bootstrap (default 0)")
    p.add_argument("--out", type=Path, default=None, help="also write the JSON result here (overwritten)")
    p.add_argument("--json", action="store_true", help="print the JSON result instead of the table")
    return p


def _main(args: Any, _argv: list[str]) -> int:
    arms = dict(parse_arm(a) for a in args.arm)
    if len(arms) != len(args.arm):
        raise UsageError("--arm", "expected each arm's NAME once")
    out = output_file(args.out, "--out", force=True) if args.out else None  # checked before the work
    worlds = resolve_worlds(args.worlds)
    result = compare(arms, worlds, args.episodes, args.fishers, args.ticks, args.seed, args.respawn,
                     progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    emit(result, out, args.json, table)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv, _main)


if __name__ == "__main__":
    sys.exit(main())
