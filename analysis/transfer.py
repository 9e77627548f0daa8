"""`python -m analysis.transfer RUN_OR_POLICY --worlds ...`: does a fisher carry over to worlds it never saw?

    python -m analysis.transfer runs/lake-ppo-0 --worlds all
    python -m analysis.transfer runs/lake-ppo-0 --worlds pond,ice --json
    python -m analysis.transfer runs/lake-ppo-0 --worlds held_out --json    (a suite by its bare name)
    python -m analysis.transfer runs/lake-ppo-0 --worlds ice --fine-tune ice --steps 500000 --seeds 3 \
        --out runs/transfer-ice

Zero-shot: the policy, unchanged, runs in every test world (agents.rollout.run_policy: the same
world seeds for every fisher, cohort protocol by default, as in training's learning curves),
beside the scripted references of that world (random: no skill; expert: every skill). Each
cell is meals per fisher-day with a 95% bootstrap interval over worlds, and a normalised score
(policy - random) / (expert - random): 0 is no better than random, 1 is the expert's level.
Its interval resamples worlds jointly for the three fishers (paired: the same seeds). Over the
test worlds: the IQM of the per-world normalised scores (`normalised_iqm`), its interval from
the stratified bootstrap (simulated worlds resampled within each test world, rliable style).

Fine-tuning (--fine-tune WORLD --steps N): for each seed, agents.train trains twice in WORLD
with the same budget, hyperparameters and network (the source's): once starting from the
source's weights (`init_from`), once from scratch. Their learning curves (meals per day, the
current stochastic policy, measured by training itself) give Taylor & Stone's metrics
(analysis.transfer_metrics): jumpstart, asymptotic gain, total reward, transfer and area
ratios, time to threshold; IQM (4+ seeds, else mean) with intervals over seeds.

Probes (--probes): the representational probes (analysis.representation, hidden targets,
quick scale) rerun in each test world.

A policy is anything agents.policies.load_policy accepts (a run folder, a policy file, a
manifest-listed .zip) or scripted:NAME (zero-shot only). Bad input: one line on stderr and
exit status 2.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from agents.hyperparams import parse_override
from agents.policy_spec import policy_folder, resolve_policy
from agents.references import NORMALISE
from agents.rollout import run_policy
from agents.run_folders import CURVE, read_curve
from agents.scripted import make_scripted
from analysis import stats
from analysis.transfer_metrics import summarize_pairs
from sim.cli import EXIT_USAGE, Parser, UsageError, int_at_least, output_folder, parse, slug
from sim.policy import as_policy
from worlds.loader import load_world
from worlds.registry import expand, world_names
from worlds.suites import list_suites

POLICY_ARG = "RUN_OR_POLICY"


def _bare_suites(spec: str | Sequence[str]) -> list[str]:
    """A suite named without its prefix ("held_out") as suite:NAME; a world of that name comes first."""
    parts = [p.strip() for p in spec.split(",")] if isinstance(spec, str) else [str(p) for p in spec]
    worlds, suites = set(world_names()), set(list_suites())
    return [f"suite:{p}" if p in suites and p not in worlds else p for p in parts]


def resolve_worlds(spec: str | Sequence[str], exclude: str | None = None) -> list[str]:
    """Test worlds from any spec of worlds.registry ("all": every registered world but `exclude`,
    "suite:NAME" or a suite's bare NAME, "generated:A..B", "a,b,c"); each is loaded now, so a bad name
    fails before any work."""
    try:
        names = expand(_bare_suites(spec), exclude=exclude)
    except ValueError as err:
        raise UsageError("--worlds", str(err)) from None
    for name in names:
        try:
            load_world(name)
        except Exception as err:  # WorldFileError, ValueError, OSError: all say what is wrong
            raise UsageError("--worlds", f"{name!r}: {' '.join(str(err).split())}") from None
    return names


def train_world_of(spec: str | os.PathLike) -> str | None:
    """The world a run folder (any the project writes) was trained in (its config.json), else None."""
    path = policy_folder(spec)
    folder = path if path.is_dir() else path.parent
    config = folder / "config.json"
    if not config.is_file():
        return None
    try:
        data = json.loads(config.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    pool = data.get("worlds")
    return str(pool) if pool else (str(data["world"]) if data.get("world") else None)


def _load(spec: str, seed: int, deterministic: bool = True) -> Any:
    return resolve_policy(spec, seed, deterministic=deterministic, flag=POLICY_ARG)


def _roll(policy: Any, world: str, protocol: dict[str, Any]) -> np.ndarray:
    """Meals per fisher-day of each simulated world (B,)."""
    policy = as_policy(policy)
    policy.reset()
    roll = run_policy(policy, world, n_worlds=protocol["n_worlds"], n_fishers=protocol["n_fishers"],
                      ticks=protocol["ticks"], seed=protocol["seed"], respawn=protocol["respawn"])
    return roll.per_world("meals_per_day")


def _iv(iv: stats.Interval) -> dict[str, Any]:
    clean = lambda v: None if isinstance(v, float) and not math.isfinite(v) else v  # noqa: E731
    return {k: clean(v) for k, v in iv.to_dict().items()}


def normalised_score(policy: np.ndarray, low: np.ndarray, high: np.ndarray, seed: int = 0,
                     n_resamples: int = stats.N_RESAMPLES) -> stats.Interval:
    """(mean policy - mean low) / (mean high - mean low), resampling worlds jointly (paired seeds)."""
    p, lo, hi = (np.asarray(a, dtype=np.float64) for a in (policy, low, high))
    if not (p.shape == lo.shape == hi.shape) or p.ndim != 1:
        raise ValueError("normalised_score: expected three (worlds,) arrays of the same shape")
    g = p.size
    value = float(stats.normalise(p.mean(), lo.mean(), hi.mean()))
    counts = stats.resample_counts(g, n_resamples, seed)
    boot = stats.normalise(counts @ p / g, counts @ lo / g, counts @ hi / g)
    return stats.percentile_interval(value, boot, g)


def normalised_iqm(cells: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], seed: int = 0,
                   n_resamples: int = stats.N_RESAMPLES) -> dict[str, Any]:
    """The IQM over test worlds of the per-world normalised score, {world: (policy, low, high)} arrays of
    each world's simulated worlds. Stratified bootstrap: in each test world its simulated worlds are
    resampled (jointly for the three fishers, as `normalised_score`), every world's score recomputed,
    their IQM taken. A world whose reference is no better than its floor cannot be normalised: left out
    and named."""
    scores, boots, left_out = [], [], []
    for k, (world, (p, lo, hi)) in enumerate(cells.items()):
        value = float(stats.normalise(np.mean(p), np.mean(lo), np.mean(hi)))
        if not math.isfinite(value):
            left_out.append(world)
            continue
        g = len(p)
        counts = stats.resample_counts(g, n_resamples, seed + k)  # its own draws: independent strata
        scores.append(value)
        boots.append(stats.normalise(counts @ p / g, counts @ lo / g, counts @ hi / g))
    out: dict[str, Any] = {"statistic": "IQM over test worlds of the normalised score, stratified bootstrap "
                                        "(simulated worlds resampled within each test world)",
                           "worlds": len(scores), "left_out": left_out}
    if not scores:
        return {**out, "value": None, "low": None, "high": None, "n": 0, "confidence": 0.95}
    samples = stats.iqm(np.stack(boots, axis=1), axis=1)
    iv = stats.percentile_interval(float(stats.iqm(np.array(scores))), samples, len(scores))
    return {**out, **_iv(iv)}


FINDING_MARGIN = 0.05  # a learned fisher this much above the tuned expert is reported as a finding
REFERENCE_NOTES = {"expert": ", expert = the tuned expert (agents/expert_params.toml, agents.tune_expert)",
                   "oracle": ", oracle = the expert reading the hidden fish and weather (agents/oracle.py)"}


def zero_shot(policy: Any, worlds: Sequence[str], n_worlds: int = 16, n_fishers: int = 4, ticks: int = 600,
              seed: int = 0, respawn: bool = False, references: Sequence[str] = NORMALISE,
              progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Meals per fisher-day of `policy` in each world, beside scripted references, and its normalised score.

    Returns {"protocol": {...}, "worlds": {world: {"policy": interval, "references": {name: interval},
    "normalised": interval | None}}}; intervals as {"value", "low", "high", "n", "confidence"}.
    """
    protocol = {"n_worlds": n_worlds, "n_fishers": n_fishers, "ticks": ticks, "seed": seed,
                "respawn": respawn,
                "measure": "meals per fisher-day, agents.rollout.run_policy, 95% bootstrap over worlds",
                "normalised": f"(policy - {references[0]}) / ({references[-1]} - {references[0]})"
                + REFERENCE_NOTES.get(references[-1], "") if len(references) >= 2 else None}
    out: dict[str, Any] = {"protocol": protocol, "worlds": {}}
    cells = {}
    for world in worlds:
        values = _roll(policy, world, protocol)
        if progress is not None:
            progress(world)
        refs = {}
        for name in references:
            refs[name] = _roll(make_scripted(name, seed=seed), world, protocol)
            if progress is not None:
                progress(world)
        cell: dict[str, Any] = {"policy": _iv(stats.interval(values, seed=seed)),
                                "references": {k: _iv(stats.interval(v, seed=seed)) for k, v in refs.items()},
                                "normalised": None}
        if len(references) >= 2:
            low, high = refs[references[0]], refs[references[-1]]
            cell["normalised"] = _iv(normalised_score(values, low, high, seed))
            cells[world] = (values, low, high)
            top = float(np.mean(high))
            if references[-1] == "expert" and top > 0 and float(np.mean(values)) > (1 + FINDING_MARGIN) * top:
                cell["finding"] = (f"{world}: the policy beats the tuned expert by "
                                   f"{100 * (float(np.mean(values)) / top - 1):.0f}%: a finding about the "
                                   f"reference (agents/expert_params.toml), not a ceiling reached")
        out["worlds"][world] = cell
    if cells:
        out["normalised_iqm"] = normalised_iqm(cells, seed)
    return out


def transfer_matrix(policies: dict[str, Any], worlds: Sequence[str],
                    progress: Callable[[str], None] | None = None, **kw: Any) -> dict[str, Any]:
    """Train world x test world: zero_shot of each policy ({train world: policy}) in every world."""
    rows = {train: zero_shot(p, worlds, progress=progress, **kw) for train, p in policies.items()}
    return {"train_worlds": list(policies), "test_worlds": list(worlds), "rows": rows}


def probe_worlds(policy: Any, worlds: Sequence[str], seed: int = 0, scale: str = "quick",
                 progress: Callable[[str], None] | None = None, **record_kw: Any) -> dict[str, Any]:
    """The representational probes rerun in each test world (analysis.representation): does what the
    layers encode at home still hold there? {world: one row per target (summary_rows)}."""
    from analysis.activations import HIDDEN  # deferred: heavy at start-up
    from analysis.representation import probe_representation, summary_rows  # deferred: heavy at start-up

    out = {}
    for world in worlds:
        res = probe_representation(policy, world, seed=seed, scale=scale, targets=HIDDEN, **record_kw)
        out[world] = {"n_samples": res["n_samples"], "rows": summary_rows(res)}
        if progress is not None:
            progress(world)
    return out


def architecture_overrides(policy: Any) -> tuple[str, dict[str, Any]]:
    """(algo, hyperparameter overrides) that rebuild the network of a loaded policy in agents.train."""
    from agents.models import architecture  # deferred: heavy at start-up

    over = architecture(policy)
    if over is None:
        name = getattr(policy, "name", policy)
        raise UsageError(POLICY_ARG, f"{name} has no network to fine-tune or probe (scripted fishers: "
                                     f"zero-shot only)")
    if over["activation"] not in ("tanh", "relu"):
        raise UsageError(POLICY_ARG, f"activation {over['activation']!r}: agents.train builds tanh or relu "
                                     f"networks only")
    return policy.info.get("algo", "ppo"), over


def fine_tune(source: str, world: str, steps: int, seeds: Sequence[int] = (0,), out: str | Path | None = None,
              overrides: dict[str, Any] | None = None, eval_points: int = 8,
              progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Fine-tune `source` in `world` vs train from scratch, same budget and network, per seed; T&S metrics.

    Run folders go to OUT/finetune-WORLD-sSEED and OUT/scratch-WORLD-sSEED (kept: each is a full
    agents.train run folder with its learning curve). eval_points: learning-curve points per run.
    """
    from agents import train as T

    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise UsageError("--steps", f"expected an integer >= 1, got {steps!r}")
    policy = _load(source, 0)
    algo, arch = architecture_overrides(policy)
    over = {**arch, **(overrides or {})}
    root = Path(out) if out is not None else Path("runs") / f"transfer-{_dt.datetime.now():%Y%m%d-%H%M%S}"
    every = max(1, steps // max(1, eval_points))
    pairs, runs = [], []
    for seed in seeds:
        curves = {}
        for kind in ("finetune", "scratch"):
            path = root / f"{kind}-{slug(world, empty='world')}-s{seed}"
            try:
                T.train(world=world, algo=algo, steps=steps, seed=seed, out=path, overrides=over,
                        progress=False, eval_every=every, checkpoint_every=0,
                        init_from=source if kind == "finetune" else None)
            except UsageError as err:
                flag = err.flag if err.flag != "--world" else "--fine-tune"
                raise UsageError(flag, str(err).split(": ", 1)[1]) from None
            rows = read_curve(path / CURVE)
            curves[kind] = ([float(r["timesteps"]) for r in rows], [float(r["meals_per_day"]) for r in rows])
            runs.append(str(path))
            if progress is not None:
                progress(f"{kind} s{seed}")
        pairs.append((curves["finetune"], curves["scratch"]))
    summary = summarize_pairs(pairs)
    summary.update(world=world, steps=steps, seeds=list(seeds), algo=algo, overrides=over, runs=runs,
                   curves=[{"seed": s, "finetune": {"x": p[0][0], "y": p[0][1]},
                            "scratch": {"x": p[1][0], "y": p[1][1]}}
                           for s, p in zip(seeds, pairs, strict=True)])
    return summary


# --- the command line ------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="python -m analysis.transfer",
                description="Zero-shot transfer of a fisher to other worlds (meals per day beside scripted "
                            "references, normalised), and fine-tuning vs training from scratch with "
                            "Taylor & Stone's metrics.")
    p.add_argument("policy", metavar=POLICY_ARG,
                   help="a training run folder, a policy.json/.npz, or scripted:NAME")
    p.add_argument("--worlds", default="all",
                   help="test worlds: comma-separated names, suite:NAME or a suite's bare name (held_out: "
                        "the shipped worlds never trained on, worlds/suites.toml), or all (every shipped "
                        "world, the training world included as the in-distribution reference; default)")
    p.add_argument("--episodes", type=int_at_least(1), default=16, help="worlds per test world (default 16)")
    p.add_argument("--fishers", type=int_at_least(1), default=4, help="fisher slots per world (default 4)")
    p.add_argument("--ticks", type=int_at_least(1), default=600, help="ticks per world (default 600)")
    p.add_argument("--respawn", action="store_true",
                   help="respawn protocol (default: cohort, as in training)")
    p.add_argument("--seed", type=int_at_least(0), default=0, help="base seed (default 0)")
    p.add_argument("--probes", action="store_true",
                   help="also rerun the representational probes (hidden targets, quick scale) in each "
                        "test world")
    p.add_argument("--fine-tune", default=None, metavar="WORLD",
                   help="also fine-tune in WORLD vs from scratch")
    p.add_argument("--steps", type=int_at_least(1), default=None, help="fine-tuning budget in samples")
    p.add_argument("--seeds", type=int_at_least(1), default=1,
                   help="fine-tuning seeds: seed, seed+1, ... (default 1)")
    p.add_argument("--set", action="append", default=None, metavar="KEY=VALUE",
                   help="a training hyperparameter for fine-tuning and scratch runs (repeatable)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="write transfer.json (and fine-tuning runs) here")
    p.add_argument("--force", action="store_true", help="overwrite the files of an --out folder that exists")
    p.add_argument("--json", action="store_true", help="print only the JSON result")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _fmt(iv: dict[str, Any] | None) -> str:
    if not iv or iv.get("value") is None:
        return "-"
    if iv.get("low") is None:
        return f"{iv['value']:.2f}"
    return f"{iv['value']:.2f} [{iv['low']:.2f}, {iv['high']:.2f}]"


def format_zero_shot(result: dict[str, Any]) -> str:
    """A plain-text table of a zero_shot result, its normalisation and any finding about the reference."""
    refs = list(next(iter(result["worlds"].values()))["references"]) if result["worlds"] else []
    head = f"{'world':<12}{'policy':<22}" + "".join(f"{r:<22}" for r in refs) + "normalised"
    lines = [head]
    for world, c in result["worlds"].items():
        lines.append(f"{world:<12}{_fmt(c['policy']):<22}"
                     + "".join(f"{_fmt(c['references'][r]):<22}" for r in refs) + _fmt(c["normalised"]))
    agg = result.get("normalised_iqm")
    if agg and agg.get("value") is not None:
        gone = f"; left out (expert no better than random): {', '.join(agg['left_out'])}" \
            if agg["left_out"] else ""
        lines.append(f"{'IQM':<12}{'':<22}" + "".join(f"{'':<22}" for _ in refs) + _fmt(agg)
                     + f"   (over {agg['worlds']} worlds, stratified bootstrap{gone})")
    if result["protocol"].get("normalised"):
        lines.append(f"normalised = {result['protocol']['normalised']}")
    lines += [f"FINDING: {c['finding']}" for c in result["worlds"].values() if "finding" in c]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The command's work, from parsed arguments; raises UsageError for bad input."""
    if args.steps is not None and args.fine_tune is None:
        raise UsageError("--steps", "only with --fine-tune WORLD")
    if args.fine_tune is not None and args.steps is None:
        raise UsageError("--steps", "--fine-tune needs a budget: --steps N")
    overrides = {}
    if args.set:
        overrides = dict(parse_override(s) for s in args.set)
    train_world = train_world_of(args.policy) if not args.policy.startswith("scripted:") else None
    worlds = resolve_worlds(args.worlds)
    if args.fine_tune is not None:
        _check_world(args.fine_tune)
    policy = _load(args.policy, args.seed)
    if args.fine_tune is not None or args.probes:
        architecture_overrides(policy)  # refuse a scripted fisher before any evaluation
    bar = None
    if not args.quiet and not args.json:
        total = (len(worlds) * (1 + len(NORMALISE) + int(args.probes))
                 + (2 * args.seeds if args.fine_tune else 0))
        bar = tqdm(total=total, desc="transfer", unit="run", leave=False)
    tick = (lambda _label: bar.update(1)) if bar is not None else None
    try:
        result: dict[str, Any] = {"policy": getattr(policy, "name", args.policy), "spec": args.policy,
                                  "train_world": train_world}
        result["zero_shot"] = zero_shot(policy, worlds, n_worlds=args.episodes, n_fishers=args.fishers,
                                        ticks=args.ticks, seed=args.seed, respawn=args.respawn, progress=tick)
        if args.probes:
            result["probes"] = probe_worlds(policy, worlds, seed=args.seed, progress=tick)
        if args.fine_tune is not None:
            out = Path(args.out) if args.out else None
            result["fine_tune"] = fine_tune(args.policy, args.fine_tune, args.steps,
                                            seeds=[args.seed + i for i in range(args.seeds)], out=out,
                                            overrides=overrides, progress=tick)
    finally:
        if bar is not None:
            bar.close()
    return result


def _check_world(name: str) -> None:
    try:
        resolve_worlds([name])
    except UsageError as err:
        raise UsageError("--fine-tune", str(err).split(": ", 1)[1]) from None


def _print(result: dict[str, Any]) -> None:
    print(f"zero-shot transfer of {result['policy']} (trained in {result['train_world'] or 'unknown'}), "
          f"meals per fisher-day with 95% intervals over worlds:")
    print(format_zero_shot(result["zero_shot"]))
    for world, probes in (result.get("probes") or {}).items():
        print(f"\nprobes in {world} ({probes['n_samples']} samples), one layer per target: score / raw obs / "
              f"over raw / verdict")
        for r in probes["rows"]:
            if "undefined" in r:
                print(f"  {r['target']:<14}undefined")
            else:
                print(f"  {r['target']:<14}{r['layer']:<8}{_fmt(r['score']):<22}{_fmt(r['raw_obs']):<22}"
                      f"{_fmt(r['over_raw']):<24}{r.get('verdict')}")
    ft = result.get("fine_tune")
    if ft:
        print(f"\nfine-tuning in {ft['world']} vs from scratch, {ft['steps']:,} samples, "
              f"{ft['n_seeds']} seed(s); threshold {ft['threshold']:.2f} meals/day:")
        for name, iv in ft["metrics"].items():
            print(f"  {name:<16}{_fmt(iv)}")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad flags or files)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse(build_parser(), argv)
    if isinstance(args, int):  # --help, or a bad flag (already reported in one line)
        return args
    try:
        if args.out is not None:
            output_folder(args.out, "--out", args.force)
        import torch  # loaded with any trained policy anyway

        torch.set_num_threads(1)
        result = run(args)
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    result["command"] = "python -m analysis.transfer " + " ".join(argv)
    if args.out is not None:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "transfer.json").write_text(json.dumps(result, indent=1, allow_nan=False) + "\n")
    if args.json:
        print(json.dumps(result, allow_nan=False))
    else:
        _print(result)
        if args.out is not None:
            print(f"\nwritten: {Path(args.out) / 'transfer.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
