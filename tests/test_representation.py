"""Representational probes (analysis.activations, analysis.representation): a planted signal is
recovered and a planted nothing is not, shuffled labels score at chance, state types repeat, a copy
of an observation feature is not called computed by a pass-through or random network, recordings
and probes repeat exactly for a seed, real (untrained) policy files of both kinds run end to end, and a
policy file for other spaces or a fisher without a network is refused with a clear error."""

from __future__ import annotations

import json
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pytest

from agents.policies import load_policy
from agents.policy_network import export_policy
from analysis.activations import TARGETS, Recording, record_activations
from analysis.probe_controls import COMPUTED, FROM_OBS, state_types, type_summary, types_of
from analysis.representation import control_labels, probe_recording, probe_representation

SMALL = {"n_worlds": 6, "n_fishers": 2, "ticks": 160, "stride": 2}


@pytest.fixture(scope="module")
def scripted_recording() -> Recording:
    """Observations and ground truth of an expert fisher (it casts, waits, shelters): no layers."""
    return record_activations(load_policy("scripted:expert"), "lake", seed=3, **SMALL)


def planted(rec: Recording, seed: int = 0) -> Recording:
    """The same samples with fake layers: `signal` encodes front_within and fish_density linearly
    (mixed into 16 units, plus noise); `noise` encodes nothing."""
    rng = np.random.default_rng(seed)
    n = rec.n
    front = rec.truth["front_within"]
    fish = np.nan_to_num(rec.truth["fish_density"])
    latent = np.stack([front - front.mean(), fish - fish.mean()], axis=1)
    mix = rng.normal(size=(2, 16))
    signal = latent @ mix + 0.3 * rng.normal(size=(n, 16))
    layers = {"signal": signal.astype(np.float32), "noise": rng.normal(size=(n, 16)).astype(np.float32)}
    return Recording(rec.obs, layers, dict(rec.truth), rec.world, rec.slot, rec.tick, rec.action, rec.meta)


def test_recording_lines_up_and_labels_are_defined_where_they_should_be(scripted_recording):
    rec = scripted_recording
    assert rec.layers == {}  # a scripted fisher has no network
    assert set(rec.truth) == set(TARGETS)
    assert all(v.shape == (rec.n,) for v in rec.truth.values())
    assert rec.obs.shape[0] == rec.world.shape[0] == rec.n > 500
    line = np.isfinite(rec.truth["line_age"])
    assert 0 < line.sum() < rec.n  # the expert fishes, but not all the time
    assert np.array_equal(np.isfinite(rec.truth["fish_density"]), line)
    assert not np.isfinite(rec.truth["bite_coming"][~line]).any()
    assert set(np.unique(rec.truth["front_within"])) <= {0.0, 1.0}
    assert 0 < rec.truth["front_within"].mean() < 0.5
    assert set(np.unique(rec.world)) == set(range(SMALL["n_worlds"]))
    assert set(rec.state) == {"front_in", "fish_ahead", "sheltered"}
    assert all(v.shape == (rec.n,) for v in rec.state.values())
    assert set(np.unique(rec.state["sheltered"])) <= {0.0, 1.0}
    assert (rec.state["front_in"] >= 0).mean() > 0  # fronts come in 160 ticks of 6 worlds
    # the control task's state types repeat (in these 960 samples: most samples share their type with 9
    # more, or about half of them since the storm and wary rules), where distinct observations, the
    # types of old, almost never do (< 0.05)
    types = type_summary(state_types(rec.truth, rec.state))
    assert types["mean_per_type"] > 5 and types["share_in_types_of_10_or_more"] > 0.5, types  # 0.595 today
    assert type_summary(types_of(np.round(rec.obs, 2)))["share_in_types_of_10_or_more"] < 0.05


def test_probe_recovers_a_planted_signal_and_not_noise(scripted_recording):
    rec = planted(scripted_recording)
    res = probe_recording(rec, targets=["front_within", "fish_density"], seed=0, n_resamples=300)
    front = res["targets"]["front_within"]
    sig, noise = front["layers"]["signal"], front["layers"]["noise"]
    assert sig["score"]["low"] > 0.9
    assert sig["selectivity"]["low"] > 0.3
    assert noise["score"]["low"] <= 0.5 + 0.05 and noise["score"]["high"] >= 0.5 - 0.05
    assert sig["score"]["low"] > noise["score"]["high"]
    # the barometer announces fronts only 10-20 ticks ahead: the raw observation reads them less well
    assert sig["over_raw"]["low"] > 0
    fish = res["targets"]["fish_density"]
    assert fish["layers"]["signal"]["score"]["low"] > 0.8
    assert fish["layers"]["noise"]["score"]["value"] < 0.05
    json.dumps(res, allow_nan=False)


def test_a_copy_of_the_observation_is_not_computed_by_a_pass_through_or_random_network(scripted_recording):
    """hunger and bite_showing are senses in the observation: a layer that passes the observation
    through, or an untrained random layer over it, must not be credited with computing them."""
    rec = scripted_recording
    rng = np.random.default_rng(0)
    d = rec.obs.shape[1]
    w = rng.normal(size=(d, 64)) / np.sqrt(d)
    layers = {"identity": rec.obs.copy(), "untrained": np.tanh(rec.obs @ w + 0.1 * rng.normal(size=64))}
    rec = Recording(rec.obs, {k: v.astype(np.float32) for k, v in layers.items()}, dict(rec.truth), rec.world,
                    rec.slot, rec.tick, rec.action, rec.meta, rec.state)
    res = probe_recording(rec, targets=["hunger", "bite_showing"], seed=0, n_resamples=300)
    for target in ("hunger", "bite_showing"):
        e = res["targets"][target]
        assert e["verdict"] == FROM_OBS != COMPUTED, (target, e["verdict_why"])
        assert e["layers"]["identity"]["over_raw"]["value"] == 0  # the same probe on the same input
        assert e["layers"]["untrained"]["over_raw_familywise"]["low"] <= 0
    json.dumps(res, allow_nan=False)


def test_shuffled_labels_score_at_chance(scripted_recording):
    rec = planted(scripted_recording)
    shuffled = dict(rec.truth)
    front = rec.truth["front_within"]
    shuffled["front_within"] = control_labels(front, rec.obs, rec.world, "shuffle", seed=5)
    rec = Recording(rec.obs, rec.layers, shuffled, rec.world, rec.slot, rec.tick, rec.action, rec.meta)
    res = probe_recording(rec, targets=["front_within"], layers=["signal"], seed=0, n_resamples=300)
    score = res["targets"]["front_within"]["layers"]["signal"]["score"]
    assert abs(score["value"] - 0.5) < 0.05
    assert score["low"] <= 0.5 <= score["high"]


def test_control_tasks_keep_the_label_distribution():
    rng = np.random.default_rng(1)
    y = (rng.random(400) < 0.2).astype(float)
    obs = np.repeat(rng.random((40, 5)), 10, axis=0)  # 40 observation types, 10 samples each
    groups = np.repeat(np.arange(8), 50)
    typed = control_labels(y, obs, groups, "types", seed=0)
    assert all(np.unique(typed[i * 10:(i + 1) * 10]).size == 1 for i in range(40))  # one label per type
    shuffled = control_labels(y, obs, groups, "shuffle", seed=0)
    for g in range(8):  # permuted within each world: the same labels, in another order
        assert sorted(shuffled[groups == g]) == sorted(y[groups == g])
    with pytest.raises(ValueError, match="control"):
        control_labels(y, obs, groups, "nonsense", seed=0)


def untrained_policy_file(tmp_path, algo: str = "ppo"):
    """An untrained SB3 policy exported through agents.policies (the code path of trained ones)."""
    from agents.vec_env import make_vec_env

    env = make_vec_env("lake", n_worlds=1, n_fishers=1, seed=0)
    if algo == "ppo":
        from stable_baselines3 import PPO

        model = PPO("MlpPolicy", env, seed=0, device="cpu", policy_kwargs={"net_arch": [16, 16]})
    else:
        from sb3_contrib import RecurrentPPO

        model = RecurrentPPO("MlpLstmPolicy", env, seed=0, device="cpu",
                             policy_kwargs={"net_arch": [16], "lstm_hidden_size": 8,
                                            "enable_critic_lstm": False})
    _, json_path = export_policy(model, tmp_path / algo)
    return json_path


@pytest.mark.parametrize("algo, layers", [("ppo", {"pi.0", "pi.1", "vf.0", "vf.1"}),
                                          ("recurrent_ppo", {"lstm.h", "lstm.c", "pi.0"})])
def test_real_policy_file_end_to_end_and_deterministic(tmp_path, algo, layers):
    import torch

    torch.set_num_threads(1)
    path = untrained_policy_file(tmp_path, algo)
    kw = {"n_worlds": 4, "n_fishers": 2, "ticks": 80, "stride": 2}
    a = record_activations(load_policy(path, deterministic=False), "lake", seed=2, **kw)
    b = record_activations(load_policy(path, deterministic=False), "lake", seed=2, **kw)
    assert set(a.layers) == layers
    assert all(np.array_equal(a.layers[k], b.layers[k]) for k in layers)
    assert np.array_equal(a.obs, b.obs) and np.array_equal(a.action, b.action)
    assert all(np.array_equal(a.truth[k], b.truth[k], equal_nan=True) for k in TARGETS)
    res = probe_representation(str(path), "lake", seed=2, targets=["hunger", "front_within"], **kw)
    again = probe_representation(str(path), "lake", seed=2, targets=["hunger", "front_within"], **kw)
    assert res == again
    assert set(res["targets"]["hunger"]["layers"]) == layers
    # hunger is one of the observation's senses: the raw observation reads it almost perfectly
    assert res["targets"]["hunger"]["raw_obs"]["value"] > 0.95
    assert res["targets"]["hunger"]["verdict"] == FROM_OBS  # an untrained network computes nothing new
    json.dumps(res, allow_nan=False)


def test_policy_file_with_other_spaces_is_refused(tmp_path):
    path = untrained_policy_file(tmp_path)
    meta = json.loads(path.read_text())
    meta["observation_space"]["shape"] = [4]
    path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=r"observations of shape \(4,\)"):  # a UsageError naming the file
        probe_representation(str(path), "lake")


def test_a_fisher_without_a_network_is_refused(scripted_recording):
    with pytest.raises(ValueError, match="no policy network"):
        probe_representation(load_policy("scripted:expert"), "lake")
    with pytest.raises(ValueError, match="no hidden layers"):
        probe_recording(scripted_recording)
    with pytest.raises(ValueError, match="scale"):
        probe_representation("scripted:expert", scale="huge")


@pytest.mark.parametrize("argv, flag", [(["scripted:expert"], "RUN_OR_POLICY"),
                                        (["/nonexistent/run"], "RUN_OR_POLICY"),
                                        (["scripted:expert", "--world", "atlantis"], "--world"),
                                        (["scripted:expert", "--scale", "huge"], "--scale")])
def test_command_line_bad_input_exits_2_with_one_line(capsys, argv, flag):
    from analysis.representation import main

    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {flag}") and "\n" not in err, err


@pytest.mark.slow  # trains a tiny run and probes three checkpoints (about a minute on a busy 2-core machine)
def test_probes_rerun_on_every_checkpoint(tmp_path):
    from agents import train as T
    from analysis.representation import probe_checkpoints

    tiny = {"n_worlds": 4, "n_fishers": 2, "n_steps": 32, "batch_size": 128, "eval_worlds": 2,
            "eval_ticks": 20}
    run = T.train(world="lake", steps=512, seed=0, out=tmp_path / "run", overrides=tiny, progress=False,
                  checkpoint_every=256, eval_every=0)
    res = probe_checkpoints(run, "lake", seed=1, targets=["hunger", "front_within"], n_worlds=4, n_fishers=2,
                            ticks=60, stride=2)
    assert res["timesteps"] == [0, 256, 512]
    assert all(len(res["curves"][t]["score"]) == 3 for t in ("hunger", "front_within"))
    json.dumps(res, allow_nan=False)
    with pytest.raises(ValueError, match="not a training run folder"):
        probe_checkpoints(tmp_path, "lake")
