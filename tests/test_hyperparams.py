"""Hyperparameters as data (agents/hyperparams.py, agents/hyperparams.toml): the shipped file
resolves, bad files name the file and key, and which [ALGO.KEY] section a world gets."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agents.hyperparams import HyperparamsError, load_hyperparams, parse_override, world_keys
from sim.cli import UsageError

WORLDS = Path(__file__).resolve().parents[1] / "worlds"


def test_shipped_hyperparams_resolve_for_every_algo_and_world():
    hp, used = load_hyperparams("ppo", world_keys("lake"))
    assert used == ["ppo.default", "ppo.lake"] and hp["n_steps"] == 64 and hp["batch_size"] == 2048
    hp, used = load_hyperparams("ppo", world_keys("lake", "generated:0..99"))
    assert used == ["ppo.default", "ppo.generated"]
    hp, used = load_hyperparams("ppo", world_keys("pond"))
    assert used == ["ppo.default"]
    hp, used = load_hyperparams("recurrent_ppo", world_keys("lake"))
    assert hp["lstm_hidden_size"] >= 1 and used[0] == "recurrent_ppo.default"


@pytest.mark.parametrize(("text", "words"), [
    ("[ppo.default]\nn_step = 128\n", ["n_step", "[ppo.default]", "unknown key"]),
    ("[ppo.lake]\nlstm_hidden_size = 8\n", ["lstm_hidden_size", "recurrent_ppo only"]),
    ("[sac.default]\ngamma = 0.9\n", ["[sac]", "unknown algorithm"]),
    ("[ppo.default]\nbatch_size = 1.5\n", ["batch_size", "integer"]),
    ("[ppo.default]\nnet_arch = 64\n", ["net_arch", "list"]),
    ("[ppo]\ngamma = 0.9\n", ["[ppo]", "sections"]),
    ("[ppo.default\n", ["not valid TOML"]),
])
def test_bad_hyperparams_files_name_the_file_and_key(tmp_path, text, words):
    path = tmp_path / "hp.toml"
    path.write_text(text)
    with pytest.raises(HyperparamsError) as err:
        load_hyperparams("ppo", ["lake"], path)
    assert str(path) in str(err.value)
    for w in words:
        assert w in str(err.value)


def test_incomplete_default_section_is_an_error(tmp_path):
    path = tmp_path / "hp.toml"
    path.write_text("[ppo.default]\nn_steps = 64\n")
    with pytest.raises(HyperparamsError, match="lacks"):
        load_hyperparams("ppo", [], path)


def test_a_registry_name_picks_its_section_and_a_path_does_not(tmp_path, monkeypatch):
    """A world named by the registry ("lake", "generated:7", "suite:train") tries its own section;
    a world given by path, even in a folder called lake, gets [ALGO.default] only, unless a key
    is given explicitly."""
    assert world_keys("lake") == ["lake"]
    assert world_keys("generated:7") == ["generated:7", "generated"]
    assert world_keys("lake", "suite:train") == ["suite:train", "suite"]
    assert world_keys("lake", ["lake", "ice"]) == []
    mine = tmp_path / "lake"
    shutil.copytree(WORLDS / "lake", mine)
    for spec in (str(mine), str(mine / "world.toml"), str(WORLDS / "lake")):
        assert world_keys(spec) == [], spec
        assert world_keys("lake", spec) == [], spec
    assert world_keys(str(mine), key="lake") == ["lake"]
    assert load_hyperparams("ppo", world_keys(str(mine)))[1] == ["ppo.default"]
    assert load_hyperparams("ppo", world_keys(str(mine), key="lake"))[1] == ["ppo.default", "ppo.lake"]
    # a relative "lake" that is a folder here is a path, as worlds.loader.load_world reads it
    monkeypatch.chdir(tmp_path)
    assert world_keys("lake") == []


def test_overrides_parse_as_toml_values():
    assert parse_override("net_arch=[8, 8]") == ("net_arch", [8, 8])
    assert parse_override("activation=relu") == ("activation", "relu")
    with pytest.raises(UsageError, match="KEY=VALUE"):
        parse_override("gamma")
