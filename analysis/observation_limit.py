"""Is the observation what limits the generalist? What a fisher acting on the observation alone can eat.

    python -m analysis.observation_limit [--worlds W] [--rules lake] [--policy policies/generalist]
                                         [--episodes 16] [--ticks 1000] [--out FILE.json]

The tuned expert is written by someone who read each world's file: the cast reach, the weather's cue
values and warning lead, the best give-up time under the bite rule (agents.world_reading). A learned
generalist has only the observation, and no memory to infer a world's rules from what it has seen.
`OneWorldExpert` is the expert that read one world's file (the lake's, by default) and plays every
world by those rules: memoryless, nothing of the world but what the observation shows. Its zero-shot
score, normalised per world against the tuned expert (random 0, expert 1) on the thesis study's
protocol (respawn, 1000 ticks), is what this observation allows a memoryless fisher at the least:
where it reaches the generalist's target (IQM 0.8), the observation is not what stops the generalist;
where it falls short, the worlds' rules (which an observation does not carry) matter that much.
`--policy` adds a learned fisher (deterministic) beside it, on the same worlds and references.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.policy_spec import resolve_policy
from agents.scripted import SCRIPTED, SkillFisher
from agents.world_reading import read_worlds
from analysis.transfer import resolve_worlds, zero_shot
from sim.cli import Parser, UsageError, emit, int_at_least, output_file, run_command
from worlds.loader import load_world

# the ten held-out worlds of the thesis study (experiments/studies/thesis.toml)
THESIS_HELD_OUT = ("pond,river,coast,ice,mirror,generated:100000,generated:100001,generated:100002,"
                   "generated:100003,generated:100004")


@dataclass
class OneWorldExpert(SkillFisher):
    """The expert knowing one world's rules (`rules_of`) and playing every world by them."""

    rules_of: str = "lake"

    def bind(self, sim: object) -> None:
        self.reading = read_worlds([self.rules_of], 1)  # one row: it fits every observation row
        self._forget()


def one_world_expert(rules_of: str = "lake", seed: int = 0) -> OneWorldExpert:
    fisher = OneWorldExpert(name=f"expert({rules_of}'s rules)", seed=seed, rules_of=rules_of,
                            **SCRIPTED["expert"])
    fisher.bind(None)
    return fisher


def measure(worlds: list[str], rules_of: str = "lake", policy: str | None = None, n_worlds: int = 16,
            n_fishers: int = 4, ticks: int = 1000, seed: int = 0, progress: Any = None) -> dict[str, Any]:
    """{arm: analysis.transfer.zero_shot's result} for the one-world expert (and the policy, if given)."""
    arms: dict[str, Any] = {f"expert, {rules_of}'s rules": one_world_expert(rules_of, seed)}
    if policy is not None:
        arms[policy] = resolve_policy(policy, seed, deterministic=True, flag="--policy")
    protocol = {"n_worlds": n_worlds, "n_fishers": n_fishers, "ticks": ticks, "seed": seed, "respawn": True}
    return {arm: zero_shot(fisher, worlds, progress=progress, **protocol) for arm, fisher in arms.items()}


def table(result: dict[str, Any]) -> str:
    """A markdown table: each arm's normalised score per world and the IQM over worlds, with intervals."""
    def f(i: dict[str, Any] | None) -> str:
        if i is None or i["value"] is None:
            return "-"
        return f"{i['value']:.2f} [{i['low']:.2f}, {i['high']:.2f}]"

    arms = list(result)
    worlds = list(result[arms[0]]["worlds"])
    lines = ["| world | " + " | ".join(arms) + " |", "|---" + "|---:" * len(arms) + "|"]
    for world in worlds:
        cells = (f(result[a]["worlds"][world]["normalised"]) for a in arms)
        lines.append(f"| {world} | " + " | ".join(cells) + " |")
    lines.append("| **IQM over worlds** | " + " | ".join(f(result[a]["normalised_iqm"]) for a in arms) + " |")
    return "\n".join(lines)


def build_parser() -> Parser:
    p = Parser(prog="python -m analysis.observation_limit", description=__doc__.split("\n\n")[0])
    p.add_argument("--worlds", default=THESIS_HELD_OUT,
                   help="test worlds as analysis.transfer takes them (default: the thesis study's "
                        "ten held-out worlds)")
    p.add_argument("--rules", default="lake",
                   help="the world whose rules the one-world expert knows (default lake)")
    p.add_argument("--policy", default=None, help="also a learned fisher (run folder or policy folder)")
    p.add_argument("--episodes", type=int_at_least(1), default=16, help="worlds per test world (default 16)")
    p.add_argument("--ticks", type=int_at_least(1), default=1000, help="ticks per world (default 1000)")
    p.add_argument("--seed", type=int_at_least(0), default=0, help="seed of the worlds and the bootstrap")
    p.add_argument("--out", type=Path, default=None, help="also write the JSON result here (overwritten)")
    p.add_argument("--json", action="store_true", help="print the JSON result instead of the table")
    return p


def _main(args: Any, _argv: list[str]) -> int:
    try:
        load_world(args.rules)
    except Exception as err:  # WorldFileError, ValueError, OSError: each says what is wrong
        raise UsageError("--rules", f"{args.rules!r}: {' '.join(str(err).split())}") from None
    out = output_file(args.out, "--out", force=True) if args.out else None  # checked before the work
    worlds = resolve_worlds(args.worlds)
    result = measure(worlds, args.rules, args.policy, args.episodes, ticks=args.ticks, seed=args.seed,
                     progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    emit(result, out, args.json, table)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv, _main)


if __name__ == "__main__":
    sys.exit(main())
