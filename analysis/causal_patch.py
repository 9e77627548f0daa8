"""One causal check: does the direction a linear probe reads "a front is coming" from drive anticipation?

A probe that reads fronts from a layer (analysis.representation) shows that the layer carries the
information, not that the fisher uses it. Here the direction is taken out of the layer while the
fisher acts, and the anticipation probe (analysis.weather_reading's cue swap: front cues, no storm
on, against calm cues over the same hidden world) is rerun:

1. **The front direction.** The representational probe for `front_within` (analysis.linear_probe:
   standardised inputs, balanced logistic regression) is fitted on a free rollout's activations
   (analysis.activations) of each layer the actor reads (`trunk.*`, shared with the critic, and
   `pi.*`); the layer whose held-out probe (GroupKFold over worlds) scores highest is patched,
   unless one is named. The probe's weight vector in the
   layer's own units (`linear_probe.probe_direction`) is its *filter* w: what it reads out. The
   direction removed is, by default (`direction="pattern"`), its *pattern* Cov(h) w (Haufe et al.
   2014): the direction along which the layer's activations move with the probe's output, i.e. where
   the front is encoded. The filter weights each unit inversely to its spread and leans on units that
   cancel shared noise, so it can point away from where the signal lives: on the hand-built network
   of tests/test_causal_patch.py (one unit of 32 reads the barometer trend, spread 2.5; the others
   about 0.3 to 1.8) the filter's unit vector puts 0.14 on that unit, and removing it leaves
   anticipation intact, while the pattern's removal takes it away. `direction="readout"` removes the
   filter itself. Either is made a unit vector.
2. **The patch.** A torch forward hook on that layer sets each activation's component along the
   direction u to a fixed value c: h' = h + (c - h.u) u. Mode "calm_mean" (default) takes c = the
   mean of h.u over the unpatched calm arm's ticks: in front scenes the layer then says, along u,
   what it says on a calm day, and stays on the activations' own range. Mode "project" takes c = 0
   (the direction projected out), which can push a layer with a large mean off its range.
   The same hook runs in both arms (calm and front) of the cue swap.
3. **The control.** The same patch along K random unit directions (Gaussian, normalised: the same
   norm as the front direction, in the same units), each with its own calm mean.

Per scene, anticipation is shelter progress with front cues minus with calm cues (the skill card's
headline). Reported, each with a 95% bootstrap interval paired over scenes (analysis.stats):
anticipation unpatched, with the front direction removed, with a random direction removed (per
scene, the mean over the K directions); the drop (unpatched minus patched) for the front direction
and for the random ones, and their difference. The verdict is "causal" only when the unpatched
anticipation lies above 0 (there is something to remove), the front direction's drop lies above 0,
and its drop exceeds the random directions' with an interval above 0; otherwise "not shown", with
the first condition that failed. Beside it, when the fisher sets off before a real front
(analysis.leave_timing), unpatched and with the front direction removed.

`causal_check(policy, world, seed)` returns a JSON-serialisable dict; `markdown_lines(result)`
is its part of the report's representation section.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from agents.policy_spec import resolve_policy
from analysis.activations import Recording, layer_modules, network_of, record_activations
from analysis.leave_timing import leave_timing, summarise
from analysis.linear_probe import fit_probe, fit_score, kind_of, out_of_fold, probe_direction
from analysis.stats import Interval, bootstrap_interval, paired_bootstrap_interval
from analysis.weather_reading import HORIZON, cue_swap

TARGET = "front_within"
MODES = ("calm_mean", "project")
DIRECTIONS = ("pattern", "readout")
CAUSAL = "causal"
NOT_SHOWN = "not shown"
N_RANDOM = 8
MAX_TRAIN = 3000  # samples the direction's probe is fitted on (seeded draw), as the report's probes
RECORD: dict[str, int] = {"n_worlds": 8, "n_fishers": 4, "ticks": 240, "stride": 2}  # the direction's data


# --- the patch ------------------------------------------------------------------------------------

@contextmanager
def patched(module: Any, direction: np.ndarray, value: float) -> Iterator[None]:
    """While inside, `module`'s output h (N, D) becomes h + (value - h.u) u, u the unit `direction`."""
    import torch as th  # deferred: heavy at start-up

    u = th.as_tensor(np.asarray(direction, dtype=np.float32))

    def hook(_module, _inputs, output):
        proj = output @ u.to(output.dtype)
        return output + (value - proj)[..., None] * u.to(output.dtype)

    handle = module.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


@contextmanager
def captured(module: Any, into: list[np.ndarray]) -> Iterator[None]:
    """While inside, every output of `module` is appended to `into` as a (N, D) float64 array."""
    def hook(_module, _inputs, output) -> None:
        into.append(output.detach().cpu().numpy().astype(np.float64).reshape(-1, output.shape[-1]))

    handle = module.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


# --- the direction ------------------------------------------------------------------------------------

def front_direction(rec: Recording, layers: Sequence[str], target: str = TARGET, seed: int = 0,
                    max_train: int = MAX_TRAIN, direction: str = "pattern") -> dict[str, Any]:
    """The probe's direction for `target` at the best of `layers` (held-out score), as a unit vector:
    its pattern Cov(h) w or its filter w (module docstring).

    Returns {"layer", "direction" (D,), "weight_norm", "filter_cosine" (of the unit direction with the
    filter), "scores": {layer: held-out score}, "chance", "n", "n_worlds"}, or {"undefined": why} when
    the recording cannot fit a probe (one class, one world).
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction: expected one of {', '.join(DIRECTIONS)}, got {direction!r}")
    y_all = rec.truth[target]
    ok = np.isfinite(y_all)
    y = y_all[ok]
    kind = kind_of(target)
    _, groups = np.unique(rec.world[ok], return_inverse=True)
    n_worlds = int(groups.max()) + 1 if groups.size else 0
    classes = np.unique(y)
    if n_worlds < 2 or classes.size < 2:
        return {"undefined": f"{target} cannot be probed here: {y.size} samples, {n_worlds} worlds, "
                             f"{classes.size} distinct labels"}
    scores = {name: fit_score(y, out_of_fold(rec.layers[name][ok], y, groups, kind, seed,
                                             max_train=max_train), kind) for name in layers}
    best = max(layers, key=lambda k: scores[k])
    x = rec.layers[best][ok]
    idx = np.arange(y.size)
    if y.size > max_train:
        idx = np.sort(np.random.default_rng(seed).choice(idx, max_train, replace=False))
    w = probe_direction(fit_probe(x[idx], y[idx], kind, seed))
    v = np.cov(x[idx].astype(np.float64), rowvar=False) @ w if direction == "pattern" else w
    norm, w_norm = float(np.linalg.norm(v)), float(np.linalg.norm(w))
    u = v / norm if norm > 0 else v
    cosine = float(u @ w / w_norm) if w_norm > 0 and norm > 0 else 0.0
    return {"layer": best, "direction": u, "weight_norm": w_norm, "filter_cosine": cosine, "scores": scores,
            "chance": 1.0 / classes.size, "n": int(y.size), "n_worlds": n_worlds}


def random_directions(width: int, k: int, seed: int = 0) -> np.ndarray:
    """(k, width) unit vectors drawn uniformly on the sphere (normalised Gaussians), seeded."""
    v = np.random.default_rng([int(seed), 0xCA05A1]).normal(size=(k, width))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


# --- the check ----------------------------------------------------------------------------------------

def _anticipation(policy: Any, world: Any, seed: int, n_scenes: int, horizon: int) -> np.ndarray:
    """Per scene: shelter progress with front cues minus with calm cues (NaN where no shelter is in reach)."""
    arms = cue_swap(policy, world, seed, n_scenes, horizon, arms=("calm", "front"))["arms"]
    return arms["front"]["shelter_progress"] - arms["calm"]["shelter_progress"]


def _iv(iv: Interval) -> dict[str, float | int | None]:
    clean = lambda x: float(x) if x is not None and math.isfinite(x) else None  # noqa: E731
    return {"value": clean(iv.value), "low": clean(iv.low), "high": clean(iv.high), "n": int(iv.n),
            "confidence": iv.confidence}


def _timing(policy: Any, world: Any, seed: int, n_scenes: int) -> dict[str, Any]:
    s = summarise(leave_timing(policy, world, seed, n_scenes), seed)
    return {"left_before_front": s["left_before_front"], "never": s["never"], "n_scenes": s["n_scenes"],
            "in_shelter_at_front": s["in_shelter_at_front"]}


def causal_check(policy: Any, world: Any = "lake", seed: int = 0, layer: str | None = None,
                 n_random: int = N_RANDOM, mode: str = "calm_mean", n_scenes: int = 32,
                 horizon: int = HORIZON, direction: str = "pattern", recording: Recording | None = None,
                 timing: bool = True, **record_kw: Any) -> dict[str, Any]:
    """Remove the probed front direction from a layer and measure anticipation, against random directions.

    Args:
        policy: a LoadedPolicy or a spec agents.policies.load_policy accepts (run folder, policy file).
        layer: the actor layer to patch ("pi.0", ..., or a shared "trunk.0"); default: the one whose
            front probe scores best.
        n_random: K, the random directions of the control.
        mode: "calm_mean" (the component set to its calm-arm mean) or "project" (set to 0).
        direction: "pattern" (the probe's pattern Cov(h) w, default) or "readout" (its filter w).
        recording: activations to fit the direction on (default: a free rollout, RECORD updated by record_kw).
        timing: also time the departure before a real front, unpatched and with the front direction removed.

    Returns a JSON-serialisable dict (module docstring): "verdict" (CAUSAL or NOT_SHOWN), "why",
    "sentence", "anticipation", "drop", "probe", ... Intervals are {"value", "low", "high", "n",
    "confidence"}, None where undefined.
    """
    t0 = time.perf_counter()
    if mode not in MODES:
        raise ValueError(f"mode: expected one of {', '.join(MODES)}, got {mode!r}")
    if direction not in DIRECTIONS:
        raise ValueError(f"direction: expected one of {', '.join(DIRECTIONS)}, got {direction!r}")
    if isinstance(n_random, bool) or not isinstance(n_random, int) or n_random < 1:
        raise ValueError(f"n_random: expected an integer >= 1, got {n_random!r}")
    if isinstance(policy, str) or hasattr(policy, "__fspath__"):
        policy = resolve_policy(policy, seed, flag="policy")
    net = network_of(policy)
    if net is None:
        raise ValueError(f"causal_check: {getattr(policy, 'name', policy)!r} has no policy network to patch "
                         f"(scripted fishers have none); give a run folder or a policy file")
    modules = {k: m for k, m in layer_modules(net).items() if k.startswith(("trunk.", "pi."))}  # what acts
    if layer is not None and layer not in modules:
        have = ", ".join(modules) or "none"
        raise ValueError(f"layer: expected one of the actor's layers ({have}), got {layer!r}")
    if not modules:
        raise ValueError("causal_check: the policy has no actor layers (trunk.*, pi.*) to patch")
    if recording is None:
        recording = record_activations(policy, world, seed=seed, critic=False, **{**RECORD, **record_kw})
    layers = [layer] if layer is not None else [k for k in modules if k in recording.layers]
    out: dict[str, Any] = {"target": TARGET, "world": getattr(world, "name", world), "seed": seed,
                           "mode": mode, "direction": direction, "n_random": n_random, "n_scenes": n_scenes,
                           "horizon": horizon,
                           "unit": "shelter progress, front cues minus calm (storm not on)"}
    found = front_direction(recording, layers, seed=seed, direction=direction)
    if "undefined" in found:
        out.update(verdict=NOT_SHOWN, why=found["undefined"], layer=None, seconds=time.perf_counter() - t0)
        out["sentence"] = f"causal check not run: {found['undefined']}"
        return out
    name, u = found["layer"], found["direction"]
    module = modules[name]
    randoms = random_directions(u.size, n_random, seed)

    calm_acts: list[np.ndarray] = []  # the layer's outputs in the unpatched calm arm
    with captured(module, calm_acts):
        calm = cue_swap(policy, world, seed, n_scenes, horizon, arms=("calm",))["arms"]["calm"]
    front = cue_swap(policy, world, seed, n_scenes, horizon, arms=("front",))["arms"]["front"]
    unpatched = front["shelter_progress"] - calm["shelter_progress"]
    acts = np.concatenate(calm_acts)

    def value(v: np.ndarray) -> float:
        return float((acts @ v).mean()) if mode == "calm_mean" else 0.0

    def removed(v: np.ndarray) -> np.ndarray:
        with patched(module, v, value(v)):
            return _anticipation(policy, world, seed, n_scenes, horizon)

    front_removed = removed(u)
    random_removed = np.stack([removed(v) for v in randoms])  # (K, scenes)
    drop_front = unpatched - front_removed
    drop_random = unpatched - random_removed.mean(axis=0)
    ivs = {"unpatched": bootstrap_interval(unpatched, seed=seed),
           "front_removed": bootstrap_interval(front_removed, seed=seed),
           "random_removed": bootstrap_interval(random_removed.mean(axis=0), seed=seed),
           "drop_front": paired_bootstrap_interval(unpatched, front_removed, seed=seed),
           "drop_random": paired_bootstrap_interval(unpatched, random_removed.mean(axis=0), seed=seed),
           "excess": paired_bootstrap_interval(drop_front, drop_random, seed=seed)}
    each = [float(np.nanmean(unpatched - r)) if np.isfinite(unpatched - r).any() else None
            for r in random_removed]
    a0 = ivs["unpatched"]
    share = ivs["drop_front"].value / a0.value if a0.n and a0.value > 0 else None
    out.update(
        layer=name,
        probe={"layer_scores": found["scores"], "metric": "balanced_accuracy (held out by world)",
               "chance": found["chance"], "n_samples": found["n"], "n_worlds": found["n_worlds"],
               "weight_norm": found["weight_norm"], "filter_cosine": found["filter_cosine"],
               "patched_to": value(u)},
        anticipation={k: _iv(ivs[k]) for k in ("unpatched", "front_removed", "random_removed")},
        drop={"front": _iv(ivs["drop_front"]), "random": _iv(ivs["drop_random"]),
              "front_minus_random": _iv(ivs["excess"]),
              "share_of_anticipation": float(share) if share is not None and math.isfinite(share) else None,
              "each_random": each,
              "random_at_least_front": sum(d is not None and d >= ivs["drop_front"].value for d in each)})
    out.update(_verdict(ivs, name, n_random))
    if timing:
        with patched(module, u, value(u)):
            removed_timing = _timing(policy, world, seed, n_scenes)
        out["leave_timing"] = {"unpatched": _timing(policy, world, seed, n_scenes),
                               "front_removed": removed_timing}
    out["seconds"] = time.perf_counter() - t0
    return out


def _verdict(ivs: dict[str, Interval], layer: str, k: int) -> dict[str, str]:
    """CAUSAL only when there is anticipation, removing the front direction lowers it, and more than
    removing random directions does."""
    a0, df, dr, ex = ivs["unpatched"], ivs["drop_front"], ivs["drop_random"], ivs["excess"]
    if not a0.n:
        why = "no scene with a shelter in reach"
    elif not a0.low > 0:
        why = "no anticipation to remove (its interval reaches 0)"
    elif not df.low > 0:
        why = "removing the front direction does not clearly lower anticipation"
    elif not ex.low > 0:
        why = "random directions lower it about as much"
    else:
        why = ""
    verdict = CAUSAL if not why else NOT_SHOWN
    fmt = lambda iv: f"{iv.value:+.2f} [{iv.low:+.2f}, {iv.high:+.2f}]" if iv.n else "n/a"  # noqa: E731
    sentence = (f"removing the front direction ({layer}) lowers anticipation by {fmt(df)}, {k} random "
                f"directions of the same norm by {fmt(dr)} (unpatched anticipation {fmt(a0)}): {verdict}"
                + (f" ({why})" if why else ""))
    return {"verdict": verdict, "why": why or "every condition holds", "sentence": sentence}


# --- the report ---------------------------------------------------------------------------------------

def markdown_lines(res: dict[str, Any]) -> list[str]:
    """The check's part of the report's representation section."""
    def iv(d: dict[str, Any] | None) -> str:
        if not d or d.get("value") is None:
            return "n/a"
        return f"{d['value']:+.2f} [{d['low']:+.2f}, {d['high']:+.2f}]" if d.get("low") is not None \
            else f"{d['value']:+.2f}"

    kind = ("the probe's pattern, Cov(h) w, where the layer encodes it" if res.get("direction", "pattern")
            == "pattern" else "the probe's weight vector")
    lines = ["", "**One causal check** (analysis.causal_patch): the direction of the `front_within` probe "
             f"({kind}) is removed from a layer while the fisher acts (its component set to "
             + ("its calm-scene mean" if res.get("mode") == "calm_mean" else "0")
             + "), and the anticipation probe is rerun; the control removes random directions of the same "
             "norm. Anticipation is shelter progress with front cues minus calm cues (storm not on), paired "
             f"over {res.get('n_scenes')} scenes.", "", f"- {res['sentence']}"]
    if res.get("layer") is None:
        return lines
    a, d = res["anticipation"], res["drop"]
    p = res["probe"]
    lines += ["", "| network | anticipation | drop vs unpatched |", "|---|---|---|",
              f"| unpatched | {iv(a['unpatched'])} | |",
              f"| front direction removed ({res['layer']}) | {iv(a['front_removed'])} | {iv(d['front'])} |",
              f"| random directions removed (mean of {res['n_random']}) | {iv(a['random_removed'])} | "
              f"{iv(d['random'])} |", "",
              f"Front minus random drop {iv(d['front_minus_random'])}; {d['random_at_least_front']} of "
              f"{res['n_random']} random directions dropped it at least as much. The direction's probe "
              f"scores {p['layer_scores'][res['layer']]:.3f} held out (chance {p['chance']:.2f}) on "
              f"{p['n_samples']} samples of {p['n_worlds']} worlds."]
    t = res.get("leave_timing")
    if t:
        def when(x: dict[str, Any]) -> str:
            left = x["left_before_front"]
            at = f"sets off {left['value']:.0f} ticks before the storm" if left.get("n") else "never sets off"
            return f"{at} ({x['never']} of {x['n_scenes']} scenes never)"
        lines += ["", f"Before a real front: unpatched it {when(t['unpatched'])}; with the front direction "
                  f"removed it {when(t['front_removed'])}."]
    return lines
