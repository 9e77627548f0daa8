"""Today's training beside the new one, side by side in one command: samples/s against SB3's ceiling,
time to competence on the lake over seeds, and held-out score per hour of training.

    python -m benchmarks.learning                        # 3 seeds x 4 configurations, 8M samples each
    python -m benchmarks.learning --seeds 0 --steps 2000000 --no-throughput   # a shorter look
    python -m benchmarks.learning --json                 # one JSON document on stdout (progress on stderr)

The configurations, all on the main job's hyperparameters ([ppo.lake]: 512 slots x 64 steps,
minibatches of 2,048, 2 epochs, learning rate 1e-3, entropy 0.03) but where said:

- **today**: the main job's training as it runs: separate [64, 64] actor and critic, one torch thread;
- **trunk**: the new network (`--set shared_layers=1`, agents/trunk.py: the first layer shared by the
  actor and the critic) on two torch threads (`--threads 2`);
- **trunk1024**: the trunk on two threads in a wider, shorter rollout: 1,024 slots x 32 steps
  (`--set n_worlds=256 --set n_steps=32`), the same 32,768 samples and 32 gradient steps a rollout,
  so the policy's forward pass and the environment's step run on twice the rows per call;
- **trunk1024b**: trunk1024 in minibatches of 4,096 (`--set batch_size=4096`): the same samples and
  epochs, half the gradient steps (16 a rollout), each on twice the rows.

`--configs today trunk1024b` measures some of them (today first: it is what the ratios divide by).

Three parts, in this order:

1. throughput: benchmarks.training's measurement (SB3's parts, today's network and the trunk, on our
   VecEnv and on a null VecEnv that costs nothing, 1 and 2 threads);
2. training: `python -m agents.train --world lake --seed S --steps N` for each seed and configuration,
   in turn (today, trunk, today, ...), one at a time, in subprocesses, into OUT/CONFIG_sS; a finished
   run folder (final.zip) is kept and not trained again, so an interrupted benchmark continues;
3. per run, benchmarks.competence: every checkpoint (each 500k samples) on the main job's protocol
   (8 lake worlds x 4 fishers x 1000 ticks, respawn), time to competence (>= 80% of the tuned
   expert's meals a day and above the random, impatient and weather-blind fishers; training seconds
   without the learning-curve evaluations, and samples) and the final policy zero-shot on the
   held-out suite (normalised per world, random 0 and tuned expert 1, averaged), per hour of training.

Medians over seeds; a run that never gets there counts as never. Training time is wall time, so
run it on a machine with nothing else running.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.competence import _median, analyse_run, held_out_score, summarise
from benchmarks.configs import NEW_CONFIGS, NEW_THREADS
from sim.cli import int_at_least

CONFIGS: dict[str, dict[str, Any]] = {
    "today": {"threads": 1, "set": []},
    **{name: {"threads": NEW_THREADS, "set": [f"{k}={v}" for k, v in overrides.items()]}
       for name, overrides in NEW_CONFIGS.items()},
}
STEPS = 8_000_000
SEEDS = (0, 1, 2)


def train_command(config: str, seed: int, steps: int, out: Path) -> list[str]:
    """The agents.train command line of one run."""
    c = CONFIGS[config]
    cmd = [sys.executable, "-m", "agents.train", "--world", "lake", "--seed", str(seed),
           "--steps", str(steps), "--threads", str(c["threads"]), "--out", str(out), "--quiet"]
    for kv in c["set"]:
        cmd += ["--set", kv]
    return cmd


def train_all(out: Path, seeds: list[int], steps: int, say: Any,
              configs: list[str] | None = None) -> dict[str, list[Path]]:
    """Every (seed, configuration) run, one at a time; finished folders are kept, broken ones resumed."""
    runs: dict[str, list[Path]] = {name: [] for name in configs or CONFIGS}
    for seed in seeds:
        for name in runs:
            folder = out / f"{name}_s{seed}"
            runs[name].append(folder)
            if (folder / "final.zip").exists():
                say(f"{folder}: trained already, kept")
                continue
            cmd = (train_command(name, seed, steps, folder) if not folder.exists() else
                   [sys.executable, "-m", "agents.train", "--resume", str(folder), "--quiet",
                    "--threads", str(CONFIGS[name]["threads"])])
            say(f"training {name} seed {seed}: {' '.join(cmd[1:])}")
            start = time.perf_counter()
            subprocess.run(cmd, check=True)
            say(f"  {time.perf_counter() - start:.0f} s wall")
    return runs


def analyse(runs: dict[str, list[Path]], say: Any) -> dict[str, Any]:
    """Per configuration: every run's competence and held-out score, and their medians."""
    out: dict[str, Any] = {}
    refs = None
    for name, folders in runs.items():
        rows = []
        for folder in folders:
            say(f"measuring {folder}")
            r = analyse_run(folder, refs)
            refs = r["references"]
            r["held_out"] = held_out_score(r)
            seconds = r["end"]["seconds"]
            r["samples_per_second"] = r["end"]["samples"] / seconds if seconds else None
            rows.append(r)
        out[name] = {**summarise(rows), "runs": rows,  # the runs themselves, not summarise's count
                     "median_samples_per_second": _median([r["samples_per_second"] for r in rows])}
    return out


def _f(x: float | None, spec: str = ",.0f", unit: str = "") -> str:
    return "never" if x is None else f"{x:{spec}}{unit}"


def table(results: dict[str, Any]) -> str:
    lines = []
    if results.get("throughput"):
        from benchmarks.training import table as throughput_table

        lines += ["Throughput (benchmarks.training):", "", throughput_table(results["throughput"]), ""]
    learning = results["learning"]
    lines += ["| config | seed | samples/s (training) | beats random, impatient, weather-blind (samples) "
              "| competence (s) | competence (samples) | end: share of expert | held-out score "
              "| held-out per hour |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, res in learning.items():
        for r in res["runs"]:
            lines.append(f"| {name} | {r['seed']} | {_f(r['samples_per_second'])} | "
                         f"{_f(r['beats_references_samples'])} | {_f(r['competence_seconds'])} | "
                         f"{_f(r['competence_samples'])} | {r['end']['share_of_expert']:.2f} | "
                         f"{r['held_out']['mean']:.3f} | {r['held_out']['per_hour']:.2f} |")
    names = list(learning)
    lines += ["", "| median over seeds | " + " | ".join(names) + f" | {names[-1]} / {names[0]} |",
              "| --- |" + " ---: |" * (len(learning) + 1)]
    keys = [("samples/s", "median_samples_per_second", ",.0f"),
            ("time to competence (s)", "median_competence_seconds", ",.0f"),
            ("samples to competence", "median_competence_samples", ",.0f"),
            ("end: share of the expert", "median_end_share_of_expert", ".2f"),
            ("held-out score", "median_held_out", ".3f"),
            ("held-out score per hour of training", "median_held_out_per_hour", ".2f")]
    for label, key, spec in keys:
        values = [learning[n][key] for n in names]
        ratio = (f"{values[-1] / values[0]:.2f}" if len(values) >= 2 and None not in values[:1] + values[-1:]
                 and values[0] else "")
        lines.append(f"| {label} | " + " | ".join(_f(v, spec) for v in values) + f" | {ratio} |")
    refs = next(iter(learning.values()))["runs"][0]["references"]
    lines += ["", "references on the same protocol (meals/day): " + ", ".join(
        f"{n} {v['meals_per_day']['value']:.2f}" for n, v in refs.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.learning", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=Path("runs/bench_learning"), metavar="DIR",
                   help="where the run folders go (default: runs/bench_learning; finished runs are kept)")
    p.add_argument("--seeds", type=int_at_least(0), nargs="+", default=list(SEEDS), metavar="S",
                   help="seeds (default: 0 1 2)")
    p.add_argument("--steps", type=int_at_least(1), default=STEPS, metavar="N",
                   help=f"samples per run (default: {STEPS:,})")
    p.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS), metavar="NAME",
                   help=f"configurations to train (default: all of {', '.join(CONFIGS)})")
    p.add_argument("--no-throughput", action="store_true", help="skip part 1 (benchmarks.training)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    args = p.parse_args(argv)

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    configs = list(dict.fromkeys(args.configs))
    results: dict[str, Any] = {"steps": args.steps, "seeds": args.seeds,
                               "configs": {k: dict(CONFIGS[k]) for k in configs}}
    if not args.no_throughput:
        from benchmarks.training import run as throughput

        results["throughput"] = throughput(progress=True)
    runs = train_all(args.out, args.seeds, args.steps, say, configs)
    results["learning"] = analyse(runs, say)
    print(json.dumps(results, indent=1, default=str) if args.json else table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
