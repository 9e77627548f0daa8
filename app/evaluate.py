"""`python -m agents.evaluate RUN_OR_POLICY`: measure a trained fisher the way sim.run measures any fisher.

    python -m agents.evaluate runs/lake-ppo-1 --world pond --episodes 16
    python -m agents.evaluate runs/lake-ppo-1/policy.json --world generated:7 --cohort --json
    python -m agents.evaluate my_model.zip --trust-zip      # a .zip you made yourself

RUN_OR_POLICY is anything `agents.policies.load_policy` accepts: a training run folder (its
exported policy.json, else its newest checkpoint listed in its manifest.json, read weights
only), a policy.json / .npz, a model .zip (refused unless a run folder's manifest.json lists
it with a matching sha256, or --trust-zip: loading a .zip can run code stored in it), or
scripted:NAME for a baseline. Actions are the policy's most likely ones unless --stochastic
(sampled, seeded by --seed).

The run itself is sim.run's (`app.evaluation.execute`): the same worlds and seeds, metrics with 95%
intervals over worlds, summary table, `--json` fields, recorded episodes and run folder
(config.json, command.txt, versions.json, metrics.json, episodes/). Bad input ends with one
line on stderr and exit status 2; `main(argv)` returns the exit status.
"""

from __future__ import annotations

import argparse

from agents.policy_spec import resolve_policy
from app.evaluation import add_run_flags, execute
from sim.cli import Parser, cli, load_world_arg, run_command, slug

POLICY_ARG = "RUN_OR_POLICY"


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="python -m agents.evaluate",
        description="Evaluate a trained fisher (or scripted:NAME) in a world: metrics with 95% intervals "
                    "over worlds, a summary table, recorded episodes and a run folder, as sim.run writes.",
        epilog="Recorded episodes are .npz files (format: sim.record); watch one with "
               "python -m viz.playback EPISODE.npz.",
    )
    p.add_argument("policy", metavar=POLICY_ARG,
                   help="a training run folder, a policy.json/.npz, a model .zip (only when its run "
                        "folder's manifest.json lists it, or with --trust-zip), or scripted:NAME")
    add_run_flags(p, out_default="runs/WORLD-eval-POLICY-YYYYmmdd-HHMMSS",
                  seed_help="base seed of the worlds and of --stochastic sampling (default: 0)")
    p.add_argument("--stochastic", action="store_true",
                   help="sample actions from the policy (default: its most likely action)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad flags or files)."""
    return run_command(build_parser(), argv, _evaluate)


def _evaluate(args: argparse.Namespace, argv: list[str]) -> int:
    world = load_world_arg(args.world)
    policy = resolve_policy(args.policy, args.seed, trust_zip=args.trust_zip,
                            deterministic=not args.stochastic, flag=POLICY_ARG)
    # the start of the name ("eval-ppo-...") survives a long path; the end may not
    label = slug(f"eval-{getattr(policy, 'name', args.policy)}".replace("/", "-"))[:60].rstrip("-.")
    return execute(args, argv, world, policy, module="agents.evaluate", out_label=label)


if __name__ == "__main__":
    cli(main)
