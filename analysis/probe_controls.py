"""Controls for the representational probes: control tasks over state types, and the verdict.

Why control tasks (Hewitt & Liang 2019): a probe that scores well may have learned the mapping
itself rather than found it in the layer. Their control task gives every word *type* a random
label; a probe that fits the control task well could fit any labelling of the types, so
`selectivity = score - control` is what the layer offers beyond the probe's capacity. That only
works when types repeat: our earlier types (distinct observations) were 99.6% unique, so their
random labels were noise that no probe could fit, every control sat at chance and selectivity
was score minus chance.

Here a type is a coarse bin of the true state, hidden and visible (STATE_BINS): the weather, how
soon a front comes, hunger, the line (none, waiting, a bite showing), the fish under the line or
in the cell faced, and shelter. Types repeat many times in a probe's dataset and across worlds,
so a probe whose input tells the types apart can learn their random labels, also on held-out
worlds. Each type gets a label drawn (seeded) from the target's own labels.

The verdict (VERDICTS) says where a target is read from. "computed by the network" only when the
probe on some layer beats the same probe on the raw observation with a paired bootstrap interval
(over held-out worlds) that excludes 0, at a family-wise level over the layers (Bonferroni: the
best of several layers is otherwise favoured by chance).
"""

from __future__ import annotations

from typing import Any

import numpy as np

CONTROLS = ("types", "shuffle")
COMPUTED = "computed by the network"
FROM_OBS = "readable from the observation"
NOT_READABLE = "not readable"
INCONCLUSIVE = "inconclusive"
VERDICTS = (COMPUTED, FROM_OBS, NOT_READABLE, INCONCLUSIVE)

# column: (source, how it is binned); bins are fixed, not fitted, so types mean the same in every run
STATE_BINS: dict[str, str] = {
    "weather": "truth: the hidden weather state (clear, cloudy, rain, storm): 4",
    "front": "state front_in: no front coming / in > 20 ticks / 11-20 (the cues announce it) / 0-10: 4 "
             "(without Recording.state: truth front_within, 2)",
    "hunger": "truth: < 0.1, < 0.25, < 0.5, >= 0.5: 4",
    "line": "truth: no line / waiting / bite showing: 3",
    "fish": "state fish_ahead (fish under the line, else in the cell faced, / density_ref): 0, < 1, < 1.5, "
            ">= 1.5: 4 (without Recording.state: truth fish_density under the line, none without a line)",
    "sheltered": "state: 0/1 (left out without Recording.state)",
}
HUNGER_EDGES = (0.1, 0.25, 0.5)
FISH_EDGES = (1e-9, 1.0, 1.5)


def state_columns(truth: dict[str, np.ndarray], state: dict[str, np.ndarray] | None = None
                  ) -> dict[str, np.ndarray]:
    """The binned state, {column: (N,) int}, from a Recording's truth and (if recorded) state."""
    state = state or {}
    line_out = np.isfinite(truth["line_age"])
    cols = {"weather": truth["weather"].astype(np.int64)}
    if "front_in" in state:
        fi = state["front_in"]
        cols["front"] = np.select([fi < 0, fi > 20, fi > 10], [0, 1, 2], 3)
    else:
        cols["front"] = truth["front_within"].astype(np.int64)
    cols["hunger"] = np.digitize(truth["hunger"], HUNGER_EDGES)
    cols["line"] = np.where(line_out, 1 + (np.nan_to_num(truth["bite_showing"]) > 0), 0)
    fish = state["fish_ahead"] if "fish_ahead" in state else np.nan_to_num(truth["fish_density"])
    cols["fish"] = np.digitize(fish, FISH_EDGES)
    if "sheltered" in state:
        cols["sheltered"] = (state["sheltered"] > 0).astype(np.int64)
    return {k: np.asarray(v, dtype=np.int64) for k, v in cols.items()}


def types_of(rows: np.ndarray) -> np.ndarray:
    """(N,) type ids 0..T-1: a 1-D array of ids as they are, or the distinct rows of a 2-D array."""
    rows = np.asarray(rows)
    if rows.ndim == 1:
        return np.unique(rows, return_inverse=True)[1].reshape(-1)
    return np.unique(rows, axis=0, return_inverse=True)[1].reshape(-1)


def state_types(truth: dict[str, np.ndarray], state: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """(N,) state type ids: the distinct tuples of state_columns."""
    cols = state_columns(truth, state)
    return types_of(np.stack(list(cols.values()), axis=1))


def type_summary(types: np.ndarray) -> dict[str, float | int]:
    """How often types repeat: a control task is memorisable only if they do."""
    counts = np.bincount(types_of(types)) if types.size else np.zeros(0, dtype=np.int64)
    n = int(types.size)
    return {"n_samples": n, "n_types": int(counts.size),
            "mean_per_type": float(n / counts.size) if counts.size else 0.0,
            "median_per_type": float(np.median(counts)) if counts.size else 0.0,
            "share_in_types_of_10_or_more": float(counts[counts >= 10].sum() / n) if n else 0.0}


def control_labels(y: np.ndarray, types: np.ndarray, groups: np.ndarray, control: str,
                   seed: int) -> np.ndarray:
    """Labels with the target's distribution and no relation to it beyond the state type.

    types: (N,) type ids, or (N, D) rows whose distinct values are the types. "types": every type
    gets one label drawn from y (Hewitt & Liang's control task); "shuffle": y permuted within each
    world (a control no probe can fit: chance).
    """
    rng = np.random.default_rng(seed)
    if control == "types":
        ids = types_of(types)
        per_type = rng.choice(y, size=int(ids.max()) + 1, replace=True)
        return per_type[ids]
    if control == "shuffle":
        out = y.copy()
        for g in np.unique(groups):
            idx = np.flatnonzero(groups == g)
            out[idx] = y[rng.permutation(idx)]
        return out
    raise ValueError(f"control: expected one of {', '.join(CONTROLS)}, got {control!r}")


def _low(iv: dict[str, Any] | None) -> float:
    low = None if iv is None else iv.get("low")
    return -np.inf if low is None else float(low)


def verdict(chance: float, raw_obs: dict[str, Any], layers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Where a target is read from: one of VERDICTS, the layer behind it and why.

    layers: {name: {"score": interval, "over_raw_familywise": interval}}, intervals as dicts with
    "value", "low", "high" (None where undefined).
    """
    beats = {k: L["over_raw_familywise"] for k, L in layers.items() if _low(L["over_raw_familywise"]) > 0}
    if beats:
        best = max(beats, key=lambda k: beats[k]["value"])
        iv = beats[best]
        return {"verdict": COMPUTED, "layer": best,
                "why": f"{best} beats the raw observation by {iv['value']:+.3f} "
                       f"[{iv['low']:+.3f}, {iv['high']:+.3f}] (family-wise interval over layers)"}
    read = {k: L["score"] for k, L in layers.items() if _low(L["score"]) > chance}
    if _low(raw_obs) > chance:
        return {"verdict": FROM_OBS, "layer": None,
                "why": f"the raw observation reads it at {raw_obs['value']:.3f} (chance {chance:.3f}) and no "
                       f"layer reads it better beyond doubt"}
    if read:
        return {"verdict": INCONCLUSIVE, "layer": max(read, key=lambda k: read[k]["value"]),
                "why": "a layer reads it above chance, the raw observation not clearly, yet no layer "
                       "beats the observation beyond doubt"}
    return {"verdict": NOT_READABLE, "layer": None,
            "why": f"neither the layers nor the raw observation read it above chance ({chance:.3f})"}
