"""agents.trunk: `shared_layers = K` makes the first K layers of net_arch one trunk that the actor and
the critic share, computed once; training builds it, policy files and checkpoints keep it without
pickles, and every reader of a network (architecture, activations, --init) sees it."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch

import json
from pathlib import Path

import numpy as np
import pytest
import torch as th
from test_policies import make_run_folder, observation_batch, probs_of

from agents.hyperparams import HyperparamsError, load_hyperparams, world_keys
from agents.models import architecture, build_model, untrained_policy
from agents.policies import PolicyFileError, load_policy
from agents.policy_network import export_policy
from agents.trunk import Trunk, split_arch
from agents.vec_env import make_vec_env

TINY = {"n_worlds": 2, "n_fishers": 2, "n_steps": 32, "batch_size": 64, "n_epochs": 1}


def tiny_model(shared_layers: int, seed: int = 0):
    hp, _ = load_hyperparams("ppo", world_keys("lake"), overrides={**TINY, "shared_layers": shared_layers})
    return build_model("ppo", make_vec_env(n_worlds=2, n_fishers=2, seed=seed), hp, seed, None)


@pytest.fixture(scope="module")
def trunk_model():
    return tiny_model(1).learn(256)


@pytest.fixture(scope="module")
def obs() -> np.ndarray:
    return observation_batch()


def test_the_trunk_is_one_first_layer_that_both_heads_read(trunk_model):
    policy = trunk_model.policy
    assert isinstance(policy.features_extractor, Trunk)
    assert policy.pi_features_extractor is policy.vf_features_extractor is policy.features_extractor
    first = [m for m in policy.modules() if isinstance(m, th.nn.Linear) and m.in_features == 417]
    assert len(first) == 1 and first[0].out_features == 64  # computed once, not once per head
    separate = tiny_model(0).policy
    n = sum(p.numel() for p in policy.parameters())
    assert n < sum(p.numel() for p in separate.parameters()) - 417 * 64  # one 417 x 64 layer fewer
    # the update trains the trunk from both losses: it moved from its initialisation
    fresh = tiny_model(1).policy
    assert not th.equal(policy.features_extractor.layers[0].weight, fresh.features_extractor.layers[0].weight)
    assert architecture(type("L", (), {"policy": policy})()) == {
        "net_arch": [64, 64], "activation": "tanh", "shared_layers": 1}


def test_a_policy_file_keeps_the_trunk_and_acts_as_the_model(trunk_model, obs, tmp_path):
    _, js = export_policy(trunk_model, tmp_path / "policy")
    meta = json.loads(js.read_text())
    assert meta["features_extractor"] == "Trunk" and meta["trunk"] == [64]
    assert meta["net_arch"] == {"pi": [64], "vf": [64]}
    loaded = load_policy(js)
    np.testing.assert_array_equal(loaded.act(obs), trunk_model.predict(obs, deterministic=True)[0])
    np.testing.assert_allclose(probs_of(loaded, obs), probs_of(trunk_model, obs), rtol=0, atol=1e-7)
    assert architecture(loaded) == {"net_arch": [64, 64], "activation": "tanh", "shared_layers": 1}


def test_a_run_folders_checkpoint_with_a_trunk_loads_weights_only(trunk_model, obs, tmp_path):
    run = make_run_folder(tmp_path / "run", trunk_model)
    loaded = load_policy(run)
    assert loaded.info["kind"] == "checkpoint-weights"
    np.testing.assert_array_equal(loaded.act(obs), trunk_model.predict(obs, deterministic=True)[0])


def test_a_policy_file_without_a_trunk_still_reads_as_before(obs, tmp_path):
    model = tiny_model(0).learn(64)
    _, js = export_policy(model, tmp_path / "policy")
    meta = json.loads(js.read_text())
    assert meta["features_extractor"] == "FlattenExtractor" and meta["trunk"] == []
    del meta["trunk"]  # files written before the trunk existed
    js.write_text(json.dumps(meta))
    np.testing.assert_array_equal(load_policy(js).act(obs), model.predict(obs, deterministic=True)[0])


@pytest.mark.parametrize("trunk, message", [([], "expected its layer sizes"),
                                            ([100_000], "layer sizes, each an integer"),
                                            ("64", "layer sizes")])
def test_a_bad_trunk_in_a_policy_file_is_refused_naming_the_file(trunk_model, tmp_path, trunk, message):
    _, js = export_policy(trunk_model, tmp_path / "policy")
    meta = json.loads(js.read_text())
    meta["trunk"] = trunk
    js.write_text(json.dumps(meta))
    with pytest.raises(PolicyFileError, match=message) as err:
        load_policy(js)
    assert str(js) in str(err.value)


def test_shared_layers_is_checked_against_net_arch_and_the_algorithm():
    with pytest.raises(HyperparamsError, match="shared_layers = 3 is more than the 2 layers"):
        load_hyperparams("ppo", [], overrides={"shared_layers": 3})
    with pytest.raises(HyperparamsError, match="ppo only"):
        load_hyperparams("recurrent_ppo", [], overrides={"shared_layers": 1})
    with pytest.raises(HyperparamsError, match="shared_layers"):
        load_hyperparams("ppo", [], overrides={"shared_layers": -1})
    assert split_arch([64, 32], 1) == ([64], [32]) and split_arch([64], 0) == ([], [64])


def test_a_hyperparameter_file_from_before_the_trunk_loads_with_separate_nets(tmp_path):
    from agents.hyperparams import HYPERPARAMS_FILE

    text = Path(HYPERPARAMS_FILE).read_text().replace("shared_layers = 0\n", "")
    assert "shared_layers =" not in text.split("[ppo.lake]")[0]
    old = tmp_path / "old.toml"
    old.write_text(text)
    hp, _ = load_hyperparams("ppo", [], path=old)
    assert hp["shared_layers"] == 0


def test_activations_and_the_untrained_network_name_the_trunk():
    from analysis.activations import layer_modules

    assert list(layer_modules(tiny_model(1).policy)) == ["trunk.0", "pi.0", "vf.0"]
    assert list(layer_modules(tiny_model(0).policy)) == ["pi.0", "pi.1", "vf.0", "vf.1"]
    untrained = untrained_policy(0)  # the lake's own network: a trunk only where its section asks for one
    assert architecture(untrained)["shared_layers"] == load_hyperparams("ppo", ["lake"])[0]["shared_layers"]
