"""Controls of the representational probes (analysis.probe_controls), on small synthetic recordings:
a control task over state types can be memorised by a probe whose input tells the types apart (it
could not, over near-unique observations), and a layer that holds a nonlinear function of the
observation history, which the current observation cannot give, is called computed by the network."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pytest

from analysis.activations import TARGETS, Recording
from analysis.probe_controls import (
    COMPUTED,
    FROM_OBS,
    INCONCLUSIVE,
    NOT_READABLE,
    control_labels,
    state_columns,
    state_types,
    type_summary,
    verdict,
)
from analysis.representation import probe_recording

N_WORLDS, TICKS = 8, 400


def synthetic(rng: np.random.Generator, obs: np.ndarray, layers: dict[str, np.ndarray],
              target: dict[str, np.ndarray]) -> Recording:
    """A Recording of N_WORLDS x TICKS samples whose state columns take a few values each (192 types)."""
    n = N_WORLDS * TICKS
    line = rng.random(n) < 0.5
    truth = {"weather": rng.integers(0, 4, n).astype(float), "hunger": rng.choice([0.05, 0.3], n),
             "line_age": np.where(line, 5.0, np.nan), "bite_showing": np.where(line, 0.0, np.nan),
             "fish_density": np.where(line, 1.2, np.nan), "front_within": np.zeros(n),
             "bite_coming": np.where(line, 0.0, np.nan), "bite_rate": np.where(line, 0.1, np.nan)}
    state = {"front_in": rng.choice([-1.0, 15.0, 5.0], n), "fish_ahead": rng.choice([0.0, 1.2], n),
             "sheltered": rng.integers(0, 2, n).astype(float)}
    truth.update(target)
    assert set(truth) == set(TARGETS)
    world = np.repeat(np.arange(N_WORLDS), TICKS)
    tick = np.tile(np.arange(TICKS), N_WORLDS)
    zeros = np.zeros(n, dtype=np.int64)
    return Recording(obs.astype(np.float32), {k: v.astype(np.float32) for k, v in layers.items()}, truth,
                     world, zeros, tick, zeros, {"world": "synthetic"}, state)


def test_a_control_task_over_state_types_is_memorisable():
    rng = np.random.default_rng(0)
    n = N_WORLDS * TICKS
    obs = rng.normal(size=(n, 12))
    rec = synthetic(np.random.default_rng(1), obs, {}, {})  # the same states again below (seed 1)
    types = state_types(rec.truth, rec.state)
    summary = type_summary(types)
    assert summary["n_types"] == 4 * 3 * 2 * 2 * 2 * 2  # weather, front, hunger, line, fish, shelter
    assert summary["mean_per_type"] == pytest.approx(n / summary["n_types"])
    assert summary["share_in_types_of_10_or_more"] > 0.95
    # the target is a deterministic function of the state type; "lookup" tells the types apart
    # (one unit per type), "noise" does not; the raw observation is noise, unique per sample
    label_of_type = rng.integers(0, 2, summary["n_types"]).astype(float)
    lookup = np.eye(summary["n_types"])[types] + 0.05 * rng.normal(size=(n, summary["n_types"]))
    rec = synthetic(np.random.default_rng(1), obs, {"lookup": lookup, "noise": rng.normal(size=(n, 16))},
                    {"front_within": label_of_type[types]})
    res = probe_recording(rec, targets=["front_within"], seed=0, n_resamples=200)
    assert res["types"]["n_types"] == summary["n_types"]
    e = res["targets"]["front_within"]
    look, noise = e["layers"]["lookup"], e["layers"]["noise"]
    # the probe memorises the random labels of the types, and recalls them in worlds it never saw
    assert look["control_train"] > 0.9
    assert look["control"]["low"] > 0.8
    # so a perfect score on the task says nothing beyond what the probe could learn of any labelling
    assert look["score"]["low"] > 0.85
    assert abs(look["selectivity"]["value"]) < 0.1
    assert noise["control"]["low"] <= 0.5 <= noise["control"]["high"]
    # the labels have the target's distribution, one per type
    y_ctrl = control_labels(rec.truth["front_within"], types, rec.world, "types", seed=3)
    assert all(np.unique(y_ctrl[types == t]).size == 1 for t in range(summary["n_types"]))
    assert set(np.unique(y_ctrl)) <= {0.0, 1.0}


def test_a_nonlinear_function_of_the_history_is_computed_by_the_network():
    """obs_t is fresh noise each tick; the target is the XOR of two signs seen one and two ticks ago.
    The current observation cannot give it; a layer holding that product (a memory) can."""
    rng = np.random.default_rng(1)
    n = N_WORLDS * TICKS
    obs = rng.normal(size=(n, 8))
    prev1, prev2 = np.roll(obs, 1, axis=0), np.roll(obs, 2, axis=0)  # the world's previous ticks
    y = (prev1[:, 0] * prev2[:, 1] > 0).astype(float)
    memory = np.column_stack([np.tanh(prev1), np.tanh(prev2), np.tanh(3 * prev1[:, 0] * prev2[:, 1])])
    memory += 0.1 * rng.normal(size=memory.shape)
    rec = synthetic(rng, obs, {"memory": memory, "noise": rng.normal(size=(n, 16))}, {"front_within": y})
    res = probe_recording(rec, targets=["front_within"], seed=0, n_resamples=200)
    e = res["targets"]["front_within"]
    assert e["raw_obs"]["low"] <= 0.5 <= e["raw_obs"]["high"]  # the observation holds none of it
    assert e["layers"]["memory"]["over_raw_familywise"]["low"] > 0.2
    assert e["verdict"] == COMPUTED and e["verdict_layer"] == "memory"
    assert e["layers"]["noise"]["over_raw_familywise"]["low"] <= 0


def test_the_table_and_the_report_say_the_verdict_and_the_types():
    from analysis.report_markdown import _representation_lines
    from analysis.representation import format_table, summary_rows

    rng = np.random.default_rng(2)
    n = N_WORLDS * TICKS
    obs = rng.normal(size=(n, 4))
    rec = synthetic(rng, obs, {"copy": obs + 0.01 * rng.normal(size=obs.shape)},
                    {"front_within": (obs[:, 0] > 0).astype(float)})
    res = probe_recording(rec, targets=["front_within", "line_age"], seed=0, n_resamples=100)
    assert res["targets"]["front_within"]["verdict"] == FROM_OBS  # a copy of an observed feature
    text = format_table(res)
    assert FROM_OBS in text and "192 types" in text
    md = "\n".join(_representation_lines(res, summary_rows(res)))
    assert "| verdict |" in md and f"| {FROM_OBS} |" in md and "192 state types" in md


def test_verdict_wording_follows_the_intervals():
    def iv(value: float, low: float, high: float) -> dict[str, float]:
        return {"value": value, "low": low, "high": high}

    above = {"a": {"score": iv(0.9, 0.85, 0.95), "over_raw_familywise": iv(0.1, 0.02, 0.2)}}
    level = {"a": {"score": iv(0.9, 0.85, 0.95), "over_raw_familywise": iv(0.01, -0.02, 0.04)}}
    none = {"a": {"score": iv(0.5, 0.45, 0.55), "over_raw_familywise": iv(0.0, -0.05, 0.05)}}
    assert verdict(0.5, iv(0.8, 0.75, 0.85), above)["verdict"] == COMPUTED
    assert verdict(0.5, iv(0.9, 0.85, 0.95), level)["verdict"] == FROM_OBS
    assert verdict(0.5, iv(0.5, 0.45, 0.55), none)["verdict"] == NOT_READABLE
    assert verdict(0.5, iv(0.5, 0.45, 0.55), level)["verdict"] == INCONCLUSIVE
    undefined = {"a": {"score": iv(0.9, None, None), "over_raw_familywise": iv(0.1, None, None)}}
    assert verdict(0.5, iv(0.5, None, None), undefined)["verdict"] == NOT_READABLE


def test_state_columns_without_recorded_state_fall_back_on_the_truth():
    truth = {"weather": np.array([0.0, 3.0]), "front_within": np.array([0.0, 1.0]),
             "hunger": np.array([0.05, 0.6]), "line_age": np.array([np.nan, 4.0]),
             "bite_showing": np.array([np.nan, 1.0]), "fish_density": np.array([np.nan, 1.7])}
    cols = state_columns(truth)
    assert set(cols) == {"weather", "front", "hunger", "line", "fish"}
    assert [cols[k].tolist() for k in ("weather", "front", "hunger", "line", "fish")] == \
        [[0, 3], [0, 1], [0, 3], [0, 2], [0, 3]]
