"""Linear probes: what a policy's hidden layers encode, beyond what its observation already says.

For every recorded layer (analysis.activations) and ground-truth target, a linear probe is
fitted (scikit-learn: LogisticRegression with balanced class weights for binary and
categorical targets, Ridge for continuous ones, both on standardised inputs) and scored on
held-out worlds: GroupKFold over worlds, so every world is predicted by a probe that never saw
it (ticks of one world are near copies of each other; a split by tick would leak).

Scores: balanced accuracy for binary and categorical targets (chance = 1 / classes), R^2 for
continuous ones (chance = 0); fitting and scoring live in analysis.linear_probe. Per layer and
target, each with a 95% interval from a bootstrap over held-out worlds (the same resamples for
all, so differences are paired):

    score          the probe on the layer
    control        the same probe on control labels (Hewitt & Liang 2019; analysis.probe_controls):
                   every coarse state *type* (weather, front coming, hunger, line, fish ahead,
                   shelter) gets a random label drawn from the target's own labels. Types repeat
                   many times, so a probe whose input tells them apart can learn these labels;
                   `control_train` is the control probe's score on its own training samples (how
                   much it memorised). `control="shuffle"` permutes labels within each world.
    raw_obs        the same probe on the raw observation: what was linearly readable anyway
    selectivity    score - control
    over_raw       score - raw_obs: what the network computed beyond its input

Per target, a verdict (probe_controls.VERDICTS): "computed by the network" only when some
layer's over_raw interval lies above 0 at a family-wise level over the layers; otherwise
"readable from the observation" (the raw-observation probe beats chance), "not readable", or
"inconclusive" (a layer beats chance, the observation not clearly, and no layer beats it).

`probe_representation(policy, world, seed, scale)` records and probes in one call and returns a
JSON-serialisable dict; `probe_recording(recording)` probes an existing Recording.

    python -m analysis.representation RUN_OR_POLICY --world lake [--scale quick|full] [--json]
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from agents.policy_spec import resolve_policy
from analysis import stats
from analysis.activations import HIDDEN, TARGETS, Recording, network_of, record_activations
from analysis.linear_probe import N_FOLDS, chance_of, group_sums, kind_of, out_of_fold, score_from_sums
from analysis.probe_controls import (
    CONTROLS,
    NOT_READABLE,
    VERDICTS,
    control_labels,
    state_columns,
    state_types,
    type_summary,
    verdict,
)
from sim.cli import EXIT_USAGE, Parser, UsageError, int_at_least, load_world_arg, output_file, parse

SCALES: dict[str, dict[str, int]] = {
    # samples = n_worlds x n_fishers x ticks / stride (living fishers only)
    "quick": {"n_worlds": 12, "n_fishers": 4, "ticks": 300, "stride": 2, "max_train": 3000,
              "n_resamples": 500},
    "full": {"n_worlds": 32, "n_fishers": 4, "ticks": 1000, "stride": 2, "max_train": 12000,
             "n_resamples": 2000},
}
CURVE_KEYS = ("score", "selectivity", "over_raw", "layer", "verdict")
MIN_SAMPLES = 40  # fewer defined samples than this: the target is reported as undefined


def _clean(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _interval_dict(iv: stats.Interval) -> dict[str, float | int | None]:
    return {"value": _clean(iv.value), "low": _clean(iv.low), "high": _clean(iv.high), "n": iv.n}


def probe_recording(rec: Recording, targets: Sequence[str] = TARGETS, layers: Sequence[str] | None = None,
                    control: str = "types", seed: int = 0, n_folds: int = N_FOLDS,
                    max_train: int | None = 3000, n_resamples: int = 500, confidence: float = 0.95,
                    progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Probe every layer of a Recording for every target; see the module docstring for the numbers.

    Returns {"types": type_summary, "targets": {target: {"metric", "chance", "n", "hidden", "raw_obs",
    "verdict", "verdict_layer", "verdict_why", "layers": {layer: {"score", "control", "control_train",
    "selectivity", "over_raw", "over_raw_familywise"}}}}, ...} with intervals as {"value", "low",
    "high", "n"} (None where undefined); JSON-serialisable.
    """
    if control not in CONTROLS:
        raise ValueError(f"control: expected one of {', '.join(CONTROLS)}, got {control!r}")
    unknown = [t for t in targets if t not in rec.truth]
    if unknown:
        raise ValueError(f"targets: unknown {unknown}; expected some of {', '.join(rec.truth)}")
    layers = list(rec.layers) if layers is None else list(layers)
    missing = [name for name in layers if name not in rec.layers]
    if missing:
        have = ", ".join(rec.layers) or "none"
        raise ValueError(f"layers: {missing} not recorded; the recording has {have}")
    if not layers:
        raise ValueError("probe_recording: the recording holds no hidden layers (a scripted fisher has none; "
                         "probe a trained policy: a run folder or a policy file)")
    types = state_types(rec.truth, rec.state)
    out: dict[str, Any] = {"control": control, "confidence": confidence, "n_folds": n_folds,
                           "max_train": max_train, "n_resamples": n_resamples, "seed": seed,
                           "n_samples": rec.n, "n_worlds": int(np.unique(rec.world).size),
                           "layers": layers, "verdicts": list(VERDICTS),
                           "types": {**type_summary(types),
                                     "columns": list(state_columns(rec.truth, rec.state))},
                           "targets": {}}
    for ti, target in enumerate(targets):
        if progress is not None:
            progress(target)
        out["targets"][target] = _probe_target(rec, target, layers, types, control, seed + 7919 * ti,
                                               n_folds, max_train, n_resamples, confidence)
    return out


def _probe_target(rec: Recording, target: str, layers: list[str], types: np.ndarray, control: str,
                  seed: int, n_folds: int, max_train: int | None, n_resamples: int,
                  confidence: float) -> dict[str, Any]:
    """One target: the raw-observation probe, then each layer's probe and control probe, the verdict."""
    y_all = rec.truth[target]
    ok = np.isfinite(y_all)
    kind = kind_of(target)
    y = y_all[ok]
    _, groups = np.unique(rec.world[ok], return_inverse=True)
    n_groups = int(groups.max()) + 1 if groups.size else 0
    classes = np.unique(y) if kind == "classification" else np.array([])
    entry: dict[str, Any] = {"metric": "balanced_accuracy" if kind == "classification" else "r2",
                             "kind": kind, "hidden": target in HIDDEN, "n": int(y.size), "n_worlds": n_groups}
    if y.size < MIN_SAMPLES or n_groups < 2 or (kind == "classification" and classes.size < 2) or \
            (kind == "regression" and np.ptp(y) == 0):
        entry.update(undefined=f"too few samples, worlds or distinct values ({y.size} samples, "
                               f"{n_groups} worlds)", chance=None, raw_obs=None, layers={},
                     verdict=NOT_READABLE, verdict_layer=None, verdict_why="undefined: too few samples")
        return entry
    chance = entry["chance"] = chance_of(kind, classes)
    entry["types"] = type_summary(types[ok])
    y_ctrl = control_labels(y, types[ok], groups, control, seed=seed + 1)
    counts = stats.resample_counts(n_groups, n_resamples, seed=seed + 2)
    # Bonferroni over layers: "some layer beats the observation" is claimed at the stated confidence
    familywise = 1 - (1 - confidence) / len(layers)

    def scored(pred: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
        sums = group_sums(labels, pred, groups, kind, classes, n_groups)
        return float(score_from_sums(sums.sum(axis=0), kind)[0]), score_from_sums(counts @ sums, kind)

    def fit(x: np.ndarray, labels: np.ndarray, train: list[float] | None = None) -> np.ndarray:
        return out_of_fold(x, labels, groups, kind, seed, n_folds, max_train, train_scores=train)

    def iv(value: float, boot: np.ndarray, level: float = confidence) -> dict[str, float | int | None]:
        return _interval_dict(stats.percentile_interval(value, boot, n_groups, level))

    raw_value, raw_boot = scored(fit(rec.obs[ok], y), y)
    entry["raw_obs"] = iv(raw_value, raw_boot)
    entry["layers"] = {}
    for name in layers:
        x = rec.layers[name][ok]
        value, boot = scored(fit(x, y), y)
        train: list[float] = []
        c_value, c_boot = scored(fit(x, y_ctrl, train), y_ctrl)
        entry["layers"][name] = {"score": iv(value, boot), "control": iv(c_value, c_boot),
                                 "control_train": _clean(float(np.mean(train))) if train else None,
                                 "selectivity": iv(value - c_value, boot - c_boot),
                                 "over_raw": iv(value - raw_value, boot - raw_boot),
                                 "over_raw_familywise": iv(value - raw_value, boot - raw_boot, familywise)}
    v = verdict(chance, entry["raw_obs"], entry["layers"])
    entry.update(verdict=v["verdict"], verdict_layer=v["layer"], verdict_why=v["why"])
    return entry


def probe_representation(policy: Any, world: str = "lake", seed: int = 0, scale: str = "quick",
                         targets: Sequence[str] = TARGETS, control: str = "types",
                         progress: bool = False, **record_kw: Any) -> dict[str, Any]:
    """Record a policy's layers in `world` and probe them (JSON-serialisable dict).

    Args:
        policy: a LoadedPolicy, or a spec agents.policies.load_policy accepts (run folder, policy
            file); scripted fishers have no layers and are refused.
        scale: "quick" (12 worlds x 4 fishers x 300 ticks, a few seconds) or "full".
        record_kw: overrides of record_activations' arguments (n_worlds, ticks, front_k, ...).
    """
    if scale not in SCALES:
        raise ValueError(f"scale: expected one of {', '.join(SCALES)}, got {scale!r}")
    if isinstance(policy, str) or hasattr(policy, "__fspath__"):
        policy = resolve_policy(policy, seed, flag="policy")
    if network_of(policy) is None:
        raise ValueError(f"probe_representation: {getattr(policy, 'name', policy)!r} has no policy network "
                         f"to probe (scripted fishers have none); give a run folder or a policy file")
    sc = dict(SCALES[scale])
    max_train, n_resamples = sc.pop("max_train"), sc.pop("n_resamples")
    sc.update(record_kw)
    bar = None
    if progress:
        bar = tqdm(total=sc.get("ticks", 300) + sc.get("warmup", 20) + 5 + len(targets), desc="probe",
                   unit="step", leave=False)
    try:
        done = [0]

        def tick(t: int) -> None:
            if bar is not None:
                bar.update(t - done[0])
                done[0] = t

        rec = record_activations(policy, world, seed=seed, progress=tick, **sc)
        result = probe_recording(rec, targets=targets, control=control, seed=seed, max_train=max_train,
                                 n_resamples=n_resamples,
                                 progress=(lambda _t: bar.update(1)) if bar is not None else None)
    finally:
        if bar is not None:
            bar.close()
    result.update(policy=getattr(policy, "name", str(policy)), world=rec.meta["world"], scale=scale,
                  recording=rec.meta)
    return result


def summary_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per target: its verdict and one layer's numbers (the layer behind the verdict, else the
    layer with the highest score)."""
    rows = []
    for target, e in result["targets"].items():
        if not e.get("layers"):
            rows.append({"target": target, "undefined": e.get("undefined"), "verdict": e.get("verdict")})
            continue
        best = e.get("verdict_layer") or max(e["layers"], key=lambda k: e["layers"][k]["score"]["value"]
                                             or -math.inf)
        L = e["layers"][best]
        rows.append({"target": target, "hidden": e["hidden"], "metric": e["metric"], "chance": e["chance"],
                     "layer": best, "score": L["score"], "control": L["control"],
                     "control_train": L.get("control_train"), "selectivity": L["selectivity"],
                     "raw_obs": e["raw_obs"], "over_raw": L["over_raw"], "verdict": e.get("verdict"),
                     "verdict_why": e.get("verdict_why")})
    return rows


def format_table(result: dict[str, Any]) -> str:
    """A plain-text table of summary_rows (for the command line and reports)."""
    def iv(d: dict[str, Any] | None) -> str:
        if not d or d.get("value") is None:
            return "-"
        lo, hi = d.get("low"), d.get("high")
        return f"{d['value']:.2f} [{lo:.2f}, {hi:.2f}]" if lo is not None else f"{d['value']:.2f}"

    head = (f"{'target':<14}{'metric':<18}{'layer':<8}{'score':<22}{'control (train fit)':<31}"
            f"{'raw obs':<22}{'over raw':<24}verdict")
    lines = [head]
    for r in summary_rows(result):
        if "undefined" in r:
            lines.append(f"{r['target']:<14}undefined: {r['undefined']}")
            continue
        train = r.get("control_train")
        control = iv(r["control"]) + (f" ({train:.2f})" if train is not None else "")
        lines.append(f"{r['target']:<14}{r['metric']:<18}{r['layer']:<8}{iv(r['score']):<22}{control:<31}"
                     f"{iv(r['raw_obs']):<22}{iv(r['over_raw']):<24}{r['verdict']}")
    t = result.get("types")
    if t:
        lines.append(f"control task: a random label per state type ({', '.join(t['columns'])}): "
                     f"{t['n_types']} types, {t['mean_per_type']:.1f} samples per type on average")
    return "\n".join(lines)


def probe_checkpoints(run: str | os.PathLike, world: str = "lake", seed: int = 0, scale: str = "quick",
                      targets: Sequence[str] = HIDDEN, every: int = 1,
                      progress: Callable[[int], None] | None = None, **record_kw: Any) -> dict[str, Any]:
    """The probes rerun on a run folder's checkpoints (every `every`-th, the last always): emergence curves.

    Returns {"timesteps": [...], "curves": {target: {"score": [interval], "selectivity": [...],
    "over_raw": [...], "layer": [...], "verdict": [...]}}, "results": [...]}, each list aligned with
    timesteps; the layer of each point is summary_rows' (the verdict's, else the best-scoring one).
    """
    from agents import checkpoints as ck
    from agents.policies import load_policy  # deferred: heavy at start-up

    folder = Path(run)
    try:
        manifest = ck.Manifest.load(folder)
    except ck.ManifestError as err:
        raise ValueError(f"{folder}: not a training run folder ({' '.join(str(err).split())})") from None
    steps = ck.listed_checkpoints(manifest)
    if not steps:
        raise ValueError(f"{folder}: no checkpoints listed in its manifest")
    chosen = [ts for i, ts in enumerate(steps) if i % max(1, every) == 0 or i == len(steps) - 1]
    out: dict[str, Any] = {"run": str(folder), "world": world, "timesteps": chosen,
                           "curves": {t: {k: [] for k in CURVE_KEYS} for t in targets}, "results": []}
    for ts in chosen:
        policy = load_policy(folder / ck.checkpoint_names(ts)[0], seed=seed)
        res = probe_representation(policy, world, seed=seed, scale=scale, targets=targets, **record_kw)
        out["results"].append(res)
        by_target = {r["target"]: r for r in summary_rows(res)}
        for t in targets:
            row = by_target[t]
            curve = out["curves"][t]
            for key in CURVE_KEYS:
                curve[key].append(row.get(key))
        if progress is not None:
            progress(ts)
    return out


# --- the command line ------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """`python -m analysis.representation RUN_OR_POLICY`: probe a policy's layers; exit 2 on bad input."""
    p = Parser(prog="python -m analysis.representation",
                description="Linear probes of a policy's hidden layers for hidden ground truth, held out by "
                            "world, against control tasks and the raw observation.")
    p.add_argument("policy", metavar="RUN_OR_POLICY", help="a training run folder or a policy.json/.npz")
    p.add_argument("--world", default="lake", help="world to roll the policy in (default lake)")
    p.add_argument("--seed", type=int_at_least(0), default=0,
                   help="seed of the worlds, folds and bootstrap (default 0)")
    p.add_argument("--scale", choices=tuple(SCALES), default="quick", help="quick (default) or full")
    p.add_argument("--control", choices=CONTROLS, default="types",
                   help="control task: types (a random label per coarse state type; default) or shuffle")
    p.add_argument("--stochastic", action="store_true", help="sample actions (default: most likely action)")
    p.add_argument("--json", action="store_true", help="print only the JSON result")
    p.add_argument("--out", default=None, metavar="FILE", help="also write the JSON result to FILE")
    p.add_argument("--force", action="store_true", help="overwrite an --out file that exists")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse(p, argv)
    if isinstance(args, int):  # --help, or a bad flag (already reported in one line)
        return args
    try:
        load_world_arg(args.world)
        if args.out:
            output_file(args.out, "--out", args.force)
        policy = resolve_policy(args.policy, args.seed, deterministic=not args.stochastic,
                                flag="RUN_OR_POLICY")
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    if network_of(policy) is None:
        print(f"error: RUN_OR_POLICY: {args.policy} has no network to probe (expected a trained policy)",
              file=sys.stderr)
        return EXIT_USAGE
    import torch  # loaded with the policy already

    torch.set_num_threads(1)
    result = probe_representation(policy, args.world, seed=args.seed, scale=args.scale,
                                  control=args.control, progress=not args.json)
    result["command"] = "python -m analysis.representation " + " ".join(argv)
    text = json.dumps(result, allow_nan=False)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    if args.json:
        print(text)
    else:
        print(f"linear probes of {result['policy']} in {result['world']} ({result['n_samples']} samples, "
              f"{result['n_worlds']} worlds held out in {result['n_folds']} folds; "
              f"control: {result['control']}):")
        print(format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
