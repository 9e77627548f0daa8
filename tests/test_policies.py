"""agents.policies: the weights-only policy file, load_policy's specs, and what it refuses.

Tiny PPO and RecurrentPPO models (a few hundred steps) are trained once per module; an
exported and reloaded policy must act exactly as the model's own `predict`. A model .zip
is never unpickled unless trusted: a planted pickle payload (as in API_NOTES section 3)
must not run, which the tests check by the marker file it would create.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch

import base64
import contextlib
import hashlib
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch as th
from sb3_contrib import RecurrentPPO
from stable_baselines3 import PPO

from agents.policies import PolicyFileError, load_policy
from agents.policy_network import export_policy
from agents.vec_env import make_vec_env
from sim.env import observation_bounds
from sim.fishers import N_ACTIONS
from sim.observe import OBS_SIZE

# --- tiny models and run folders (also used by test_evaluate) ----------------------------------------------

def tiny_env():
    return make_vec_env(n_worlds=2, n_fishers=2)


def train_tiny_ppo(seed: int = 0) -> PPO:
    model = PPO("MlpPolicy", tiny_env(), n_steps=32, batch_size=64, n_epochs=1, seed=seed, device="cpu",
                policy_kwargs={"net_arch": [32, 32]})
    return model.learn(256)


def train_tiny_rppo(seed: int = 0) -> RecurrentPPO:
    model = RecurrentPPO("MlpLstmPolicy", tiny_env(), n_steps=32, batch_size=64, n_epochs=1, seed=seed,
                         device="cpu", policy_kwargs={"lstm_hidden_size": 16, "net_arch": [16]})
    return model.learn(256)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(run_dir: Path, paths: list[Path], form: str = "list") -> None:
    """A manifest.json listing `paths` (relative to run_dir) with their sha256."""
    rel = {p.relative_to(run_dir).as_posix(): sha256(p) for p in paths}
    if form == "list":
        data = {"files": [{"path": k, "sha256": v, "bytes": 0} for k, v in rel.items()]}
    else:
        data = {"files": {k: {"sha256": v} for k, v in rel.items()}}
    (run_dir / "manifest.json").write_text(json.dumps(data))


def make_run_folder(run_dir: Path, model, earlier=None, form: str = "list") -> Path:
    """A training run folder as agents.train writes it: config, checkpoints, final.zip, manifest."""
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps({"algo": "test"}))
    (earlier or model).save(run_dir / "checkpoints" / "model_128_steps.zip")
    model.save(run_dir / "checkpoints" / "model_256_steps.zip")
    model.save(run_dir / "final.zip")
    files = [run_dir / "config.json", *sorted((run_dir / "checkpoints").glob("*.zip")), run_dir / "final.zip"]
    write_manifest(run_dir, files, form)
    return run_dir


def observation_batch(n_random: int = 40, seed: int = 0) -> np.ndarray:
    """Real observations of a few ticks plus random ones within the observation bounds."""
    env = make_vec_env(n_worlds=2, n_fishers=4, seed=seed)
    rng = np.random.default_rng(seed)
    rows = [env.reset()]
    for _ in range(3):
        obs, *_ = env.step(rng.integers(0, N_ACTIONS, env.num_envs))
        rows.append(obs)
    low, high = observation_bounds()
    rows.append(rng.uniform(low, high, (n_random, OBS_SIZE)).astype(np.float32))
    return np.concatenate(rows).astype(np.float32)


def evil_copy(src: Path, dst: Path, marker: Path) -> Path:
    """src with an extra cloudpickled key in `data` whose unpickling creates `marker` (the PoC)."""

    class Payload:
        def __reduce__(self):  # runs at unpickle time: open(marker, "w") creates the file
            return (open, (str(marker), "w"))

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            buf = zin.read(name)
            if name == "data":
                data = json.loads(buf)
                payload = base64.b64encode(pickle.dumps(Payload())).decode()
                data["innocent_looking_key"] = {":type:": "<class 'x'>", ":serialized:": payload}
                buf = json.dumps(data).encode()
            zout.writestr(name, buf)
    return dst


@pytest.fixture(scope="module")
def ppo() -> PPO:
    return train_tiny_ppo()


@pytest.fixture(scope="module")
def rppo() -> RecurrentPPO:
    return train_tiny_rppo()


@pytest.fixture(scope="module")
def obs() -> np.ndarray:
    return observation_batch()


def probs_of(model, obs: np.ndarray) -> np.ndarray:
    with th.no_grad():
        return model.policy.get_distribution(th.as_tensor(obs)).distribution.probs.numpy()


# --- export and round trip ---------------------------------------------------------------------------------

def test_export_writes_weights_and_description(ppo, tmp_path):
    npz, js = export_policy(ppo, tmp_path / "run" / "policy")
    assert (npz, js) == (tmp_path / "run" / "policy.npz", tmp_path / "run" / "policy.json")
    meta = json.loads(js.read_text())
    assert meta["format"] == "hungry-fisher-policy" and meta["version"] == 1
    assert meta["algo"] == "ppo" and meta["policy_class"] == "ActorCriticPolicy"
    assert meta["net_arch"] == {"pi": [32, 32], "vf": [32, 32]} and meta["activation_fn"] == "Tanh"
    assert meta["lstm"] is None
    assert meta["observation_space"]["shape"] == [OBS_SIZE]
    assert meta["observation_space"]["dtype"] == "float32"
    assert meta["action_space"] == {"type": "Discrete", "n": N_ACTIONS}
    assert meta["weights"]["file"] == "policy.npz" and meta["weights"]["sha256"] == sha256(npz)
    with np.load(npz, allow_pickle=False) as z:  # plain arrays, no pickle
        assert set(z.files) == set(ppo.policy.state_dict())
        np.testing.assert_array_equal(z["action_net.weight"], ppo.policy.action_net.weight.detach().numpy())
    assert not list((tmp_path / "run").glob(".*")), "temporary files left behind"
    # the other spellings of the same target
    assert export_policy(ppo, tmp_path / "b.json")[0] == tmp_path / "b.npz"
    (tmp_path / "folder").mkdir()
    assert export_policy(ppo.policy, tmp_path / "folder")[1] == tmp_path / "folder" / "policy.json"


def test_exported_ppo_acts_as_the_model(ppo, obs, tmp_path):
    npz, js = export_policy(ppo, tmp_path / "policy")
    expected, _ = ppo.predict(obs, deterministic=True)
    for spec in (js, npz, str(js)):
        policy = load_policy(spec)
        actions = policy.act(obs)
        assert actions.dtype == np.int64 and actions.shape == (len(obs),)
        np.testing.assert_array_equal(actions, expected)
        np.testing.assert_allclose(probs_of(policy, obs), probs_of(ppo, obs), rtol=0, atol=1e-7)
    assert policy.name.startswith("ppo:") and policy.info["kind"] == "policy-file"


def test_exported_recurrent_ppo_acts_as_the_model(rppo, obs, tmp_path):
    _, js = export_policy(rppo, tmp_path / "policy")
    meta = json.loads(js.read_text())
    assert meta["algo"] == "recurrent_ppo" and meta["policy_class"] == "RecurrentActorCriticPolicy"
    assert meta["lstm"] == {"hidden_size": 16, "n_layers": 1, "shared_lstm": False,
                            "enable_critic_lstm": True, "bias": True}
    policy = load_policy(js)
    rng = np.random.default_rng(1)
    n = len(obs)
    state, starts = None, np.ones(n, dtype=bool)
    batch = obs
    for t in range(6):
        mask = starts if t == 0 else (rng.random(n) < 0.2 if t == 3 else np.zeros(n, dtype=bool))
        expected, state = rppo.predict(batch, state=state, episode_start=mask, deterministic=True)
        np.testing.assert_array_equal(policy.act(batch, episode_start=mask if t == 3 else None), expected)
        batch = rng.permutation(obs)  # new observations each tick, the same slots
    # reset() forgets the memory: the next call acts as a fresh start
    policy.reset()
    expected, _ = rppo.predict(obs, state=None, episode_start=np.ones(n, dtype=bool), deterministic=True)
    np.testing.assert_array_equal(policy.act(obs), expected)


def test_new_lives_clear_the_memory_of_respawned_slots(rppo, obs, tmp_path):
    _, js = export_policy(rppo, tmp_path / "policy")
    policy = load_policy(js)
    n = len(obs)
    _, state = rppo.predict(obs, state=None, episode_start=np.ones(n, dtype=bool), deterministic=True)
    policy.act(obs)
    lives = np.ones(n, dtype=np.int64)
    lives[[0, 5]] = 2  # two slots began a new life
    policy.new_lives(lives.reshape(2, -1))
    starts = lives > 1
    with th.no_grad():
        dist, _ = rppo.policy.get_distribution(th.as_tensor(obs[::-1].copy()),
                                               tuple(th.as_tensor(s) for s in state),
                                               th.as_tensor(starts.astype(np.float32)))
    expected = dist.get_actions(deterministic=True).numpy()
    np.testing.assert_array_equal(policy.act(obs[::-1].copy()), expected)


def test_stochastic_policies_sample_reproducibly(ppo, obs, tmp_path):
    _, js = export_policy(ppo, tmp_path / "policy")
    a = load_policy(js, deterministic=False, seed=3)
    b = load_policy(js, deterministic=False, seed=3)
    first = a.act(obs)
    np.testing.assert_array_equal(first, b.act(obs))
    assert len(np.unique(first)) > 2  # a near-uniform tiny policy: samples differ from the argmax
    assert ((first >= 0) & (first < N_ACTIONS)).all()
    a.reset(seed=3)
    np.testing.assert_array_equal(a.act(obs), first)


def test_scripted_specs():
    policy = load_policy("scripted:expert", seed=1)
    assert policy.name == "expert"
    assert policy.act(observation_batch(0)).shape == (32,)
    with pytest.raises(PolicyFileError, match="unknown scripted fisher"):
        load_policy("scripted:clairvoyant")
    with pytest.raises(PolicyFileError, match="no such file or folder"):
        load_policy("ppo:latest")


# --- run folders, manifests and untrusted zips -------------------------------------------------------------

@pytest.mark.parametrize("form", ["list", "dict"])
def test_a_run_folder_loads_its_newest_listed_checkpoint_weights_only(ppo, obs, tmp_path, form):
    earlier = PPO("MlpPolicy", tiny_env(), n_steps=32, batch_size=64, seed=9, device="cpu",
                  policy_kwargs={"net_arch": [32, 32]})
    run = make_run_folder(tmp_path / "run", ppo, earlier=earlier, form=form)
    policy = load_policy(run)
    assert policy.info["kind"] == "checkpoint-weights" and policy.info["source"] == str(run / "final.zip")
    assert policy.name == f"ppo:{run}"
    np.testing.assert_array_equal(policy.act(obs), ppo.predict(obs, deterministic=True)[0])
    # without final.zip, the checkpoint with the most steps
    (run / "final.zip").unlink()
    write_manifest(run, sorted((run / "checkpoints").glob("*.zip")), form)
    assert load_policy(run).info["source"] == str(run / "checkpoints" / "model_256_steps.zip")
    # an exported policy.json is preferred over any checkpoint
    export_policy(ppo, run / "policy")
    policy = load_policy(run)
    assert policy.info["kind"] == "policy-file" and policy.info["source"] == str(run / "policy.json")
    np.testing.assert_array_equal(policy.act(obs), ppo.predict(obs, deterministic=True)[0])


def test_a_recurrent_run_folder_loads_weights_only(rppo, obs, tmp_path):
    run = make_run_folder(tmp_path / "run", rppo)
    policy = load_policy(run)
    assert policy.info["algo"] == "recurrent_ppo" and policy.recurrent
    n = len(obs)
    expected, _ = rppo.predict(obs, state=None, episode_start=np.ones(n, dtype=bool), deterministic=True)
    np.testing.assert_array_equal(policy.act(obs), expected)
    # a listed zip given directly is read the same way
    assert load_policy(run / "final.zip").info["kind"] == "checkpoint-weights"


def test_an_unlisted_zip_is_refused_unless_trusted(ppo, obs, tmp_path):
    path = tmp_path / "model.zip"
    ppo.save(path)
    with pytest.raises(PolicyFileError, match="not listed") as err:
        load_policy(path)
    assert str(path) in str(err.value) and "--trust-zip" in str(err.value)
    trusted = load_policy(path, trust_zip=True)
    assert trusted.info["kind"] == "trusted-zip"
    np.testing.assert_array_equal(trusted.act(obs), ppo.predict(obs, deterministic=True)[0])


def test_a_pickle_payload_never_runs_without_trust(ppo, obs, tmp_path):
    marker = tmp_path / "PWNED"
    run = make_run_folder(tmp_path / "run", ppo)
    # 1. an evil zip nobody listed
    evil = evil_copy(run / "final.zip", tmp_path / "evil.zip", marker)
    with pytest.raises(PolicyFileError, match="not listed"):
        load_policy(evil)
    # 2. a run folder whose final.zip was swapped for the evil one: its sha256 no longer matches
    evil_copy(run / "checkpoints" / "model_256_steps.zip", run / "final.zip", marker)
    for spec in (run, run / "final.zip"):
        with pytest.raises(PolicyFileError, match="does not match"):
            load_policy(spec)
    # 3. even a manifest rewritten to vouch for it only gets a weights-only read: no unpickling
    write_manifest(run, [run / "final.zip"])
    policy = load_policy(run / "final.zip")
    np.testing.assert_array_equal(policy.act(obs), ppo.predict(obs, deterministic=True)[0])
    assert not marker.exists(), "the payload ran"
    # the PoC itself: the full (trusted) load does run it, which is why it needs trust_zip
    with contextlib.suppress(PolicyFileError):
        load_policy(evil, trust_zip=True)
    assert marker.exists()


def test_a_zip_with_changed_bytes_is_refused(ppo, tmp_path):
    run = make_run_folder(tmp_path / "run", ppo)
    blob = bytearray((run / "final.zip").read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (run / "final.zip").write_bytes(bytes(blob))
    with pytest.raises(PolicyFileError, match="does not match") as err:
        load_policy(run)
    assert str(run / "final.zip") in str(err.value)


# --- files that do not fit, or are broken ------------------------------------------------------------------

def test_other_spaces_are_refused_naming_the_file(ppo, tmp_path):
    from gymnasium import spaces
    from stable_baselines3.common.policies import ActorCriticPolicy

    cartpole = ActorCriticPolicy(spaces.Box(-1, 1, (4,), np.float32), spaces.Discrete(2), lambda _: 0.0)
    _, js = export_policy(cartpole, tmp_path / "cartpole")
    with pytest.raises(PolicyFileError, match=r"shape \(4,\)") as err:
        load_policy(js)
    assert str(js) in str(err.value)
    _, js = export_policy(ppo, tmp_path / "policy")
    for key, value, message in (("action_space", {"type": "Discrete", "n": 5}, "Discrete\\(5\\)"),
                                ("observation_space", {**json.loads(js.read_text())["observation_space"],
                                                       "high": [2.0] * OBS_SIZE}, "other bounds")):
        meta = json.loads(js.read_text())
        meta[key] = value
        bad = tmp_path / f"bad_{key}.json"
        bad.write_text(json.dumps(meta))
        with pytest.raises(PolicyFileError, match=message) as err:
            load_policy(bad)
        assert str(bad) in str(err.value)


def test_corrupt_files_are_refused_naming_the_file(ppo, tmp_path):
    npz, js = export_policy(ppo, tmp_path / "policy")
    good = npz.read_bytes()
    npz.write_bytes(good[: len(good) // 2])  # truncated: the sha256 no longer matches
    with pytest.raises(PolicyFileError, match="does not match") as err:
        load_policy(js)
    assert str(npz) in str(err.value)
    meta = json.loads(js.read_text())  # truncated and the JSON updated to match: np.load fails
    meta["weights"]["sha256"] = sha256(npz)
    js.write_text(json.dumps(meta))
    with pytest.raises(PolicyFileError, match="not a readable weights file") as err:
        load_policy(js)
    assert str(npz) in str(err.value)
    js.write_text(js.read_text()[:50])
    with pytest.raises(PolicyFileError, match="not a readable JSON") as err:
        load_policy(js)
    assert str(js) in str(err.value)
    # a truncated model zip, listed with its own (truncated) sha256
    run = make_run_folder(tmp_path / "run", ppo)
    (run / "final.zip").write_bytes((run / "final.zip").read_bytes()[:300])
    write_manifest(run, [run / "final.zip"])
    with pytest.raises(PolicyFileError, match="not a readable SB3 model zip") as err:
        load_policy(run)
    assert str(run / "final.zip") in str(err.value)


def test_weights_that_do_not_fit_the_description_are_refused(ppo, tmp_path):
    npz, js = export_policy(ppo, tmp_path / "policy")
    meta = json.loads(js.read_text())
    meta["net_arch"] = {"pi": [64], "vf": [64]}
    js.write_text(json.dumps(meta))
    with pytest.raises(PolicyFileError, match="do not fit") as err:
        load_policy(js)
    assert str(npz) in str(err.value) and "\n" not in str(err.value)


# --- the views that take a policy spec ---------------------------------------------------------------------

def test_sim_run_takes_an_exported_policy(ppo, tmp_path, capsys):
    from app.run import main

    _, js = export_policy(ppo, tmp_path / "policy")
    out_dir = tmp_path / "out"
    code = main(["--policy", str(js), "--ticks", "30", "--episodes", "2", "--fishers", "2",
                 "--out", str(out_dir), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    summary = json.loads(out)
    assert summary["policy"] == str(js) and summary["meals_per_day"]["mean"] >= 0
    assert (out_dir / "episodes" / "episode_001.npz").is_file()
    # an unlisted zip: one line, exit 2, before the run folder is made
    ppo.save(tmp_path / "model.zip")
    code = main(["--policy", str(tmp_path / "model.zip"), "--ticks", "5", "--out", str(tmp_path / "no")])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith("error: --policy: ") and "--trust-zip" in err
    assert not (tmp_path / "no").exists()
    code = main(["--policy", str(tmp_path / "model.zip"), "--trust-zip", "--ticks", "5", "--episodes", "1",
                 "--record", "0", "--out", str(tmp_path / "yes"), "--quiet"])
    assert code == 0


def test_fisher_model_takes_policy_paths(ppo, rppo, tmp_path):
    from sim.model import FisherModel

    _, js = export_policy(ppo, tmp_path / "ppo" / "policy")
    run = make_run_folder(tmp_path / "run", rppo)
    for spec in (str(js), js, run):
        model = FisherModel(world="lake", n_fishers=2, policy=spec, seed=0)
        for _ in range(5):
            model.step()
        assert model.steps == 5 and model.last_actions.shape == (2,)
    with pytest.raises(ValueError, match="policy: "):
        FisherModel(policy=str(tmp_path / "missing.json"))
