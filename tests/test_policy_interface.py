"""The policy interface (sim.policy) and the one resolver (agents.policy_spec): runners make the
calls a policy with memory needs, and every command takes any run folder the project writes."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from test_train import tiny_train

from agents.policy_spec import policy_folder, resolve_policy
from agents.rollout import run_policy, world_seeds
from sim.cli import UsageError
from sim.policy import BasePolicy, Policy, as_policy


class Counting(BasePolicy):
    """Waits; remembers every lives array it was told of."""

    name = "counting"

    def __init__(self):
        self.told: list[np.ndarray] = []
        self.resets = 0

    def act(self, obs):
        return np.zeros(len(obs), dtype=np.int64)

    def reset(self, seed=None):
        self.resets += 1

    def new_lives(self, lives):
        self.told.append(np.array(lives, copy=True))


def test_base_policy_and_adapters_have_the_whole_interface():
    assert isinstance(Counting(), Policy)
    bare = as_policy(lambda obs: np.zeros(len(obs), dtype=np.int64))
    assert isinstance(bare, Policy)
    bare.reset(seed=3)
    bare.new_lives(np.ones((1, 2)))  # no-ops, never AttributeError
    assert bare.act(np.zeros((2, 5))).tolist() == [0, 0]
    c = Counting()
    assert as_policy(c) is c
    with pytest.raises(TypeError, match="expected an object with .act"):
        as_policy(42)


def test_run_policy_tells_the_policy_of_new_lives_itself():
    """A waiting fisher starves; with respawn the slot's count of lives rises, and run_policy (not its
    caller) reports it after every step."""
    c = Counting()
    roll = run_policy(c, "lake", n_worlds=2, n_fishers=2, ticks=400, seed=0, respawn=True, respawn_delay=1)
    assert len(c.told) == 400 and c.told[0].shape == (2, 2)
    assert roll.deaths.sum() > 0 and c.told[-1].max() > 1  # newcomers were announced


def test_the_mesa_model_tells_the_policy_of_new_lives():
    from sim.model import FisherModel

    c = Counting()
    model = FisherModel(world="lake", n_fishers=2, policy=c, seed=0)
    for _ in range(5):
        model.step()
    assert len(c.told) == 5 and c.told[-1].shape == (2,)


class Binding(BasePolicy):
    """Waits; remembers the simulations it was bound to."""

    def __init__(self):
        self.bound: list[object] = []

    def act(self, obs):
        return np.zeros(len(obs), dtype=np.int64)

    def bind(self, sim):
        self.bound.append(sim)


def test_every_runner_binds_the_policy_to_its_simulation():
    """bind(sim) reaches the policy from every runner (sim.policy.bind_policy), wrapped or not, so a
    scripted fisher reads the rules of the worlds it acts in."""
    from analysis.activations import record_activations
    from analysis.scenes import make_scenes, run_scenes
    from sim.model import FisherModel

    p = Binding()
    run_policy(p, "pond", n_worlds=2, n_fishers=1, ticks=3, seed=0)
    assert len(p.bound) == 1 and p.bound[0].n_worlds == 2 and p.bound[0].worlds[0].name == "pond"
    model = FisherModel(world="lake", n_fishers=2, policy=p, seed=0)
    assert p.bound[-1] is model.sim
    scenes = make_scenes("lake", 2, seed=0)
    run_scenes(p, scenes, ticks=2)
    assert p.bound[-1] is scenes.sim
    record_activations(p, "lake", n_worlds=1, n_fishers=1, ticks=2, warmup=0, bite_horizon=1)
    assert len(p.bound) == 4
    inner = Binding()
    wrapped = as_policy(type("ActOnly", (), {"act": inner.act, "bind": inner.bind})())
    wrapped.bind("sim")
    assert inner.bound == ["sim"]


def test_the_oracle_acts_wherever_a_runner_binds_it():
    """The oracle reads the hidden state of the simulation it is bound to: the Mesa model and the
    probes' scenes bind it as run_policy does."""
    from agents.scripted import make_scripted
    from analysis.scenes import make_scenes, run_scenes
    from sim.model import FisherModel

    model = FisherModel(world="lake", n_fishers=2, policy="scripted:oracle", seed=0)
    model.step()
    trace = run_scenes(make_scripted("oracle"), make_scenes("pond", 2, seed=0), ticks=3)
    assert trace.actions.shape == (3, 2)


def test_world_seeds_is_the_rollouts_rule():
    assert world_seeds(2, 3) == [200_006, 200_007, 200_008]


@pytest.fixture(scope="module")
def main_job_folder(tmp_path_factory):
    """What `python -m sim.run` writes when it trains: the training run is RUN/training."""
    root = tmp_path_factory.mktemp("mainjob")
    tiny_train(root / "run" / "training", steps=512)
    (root / "run" / "metrics.json").write_text("{}")
    return root / "run"


def test_every_command_takes_the_main_jobs_folder(main_job_folder, capsys):
    from analysis.probe import main as probe_main
    from analysis.transfer import train_world_of
    from app.evaluate import main as evaluate_main

    assert policy_folder(main_job_folder) == main_job_folder / "training"
    assert policy_folder(main_job_folder / "training") == main_job_folder / "training"
    assert resolve_policy(str(main_job_folder)).info["algo"] == "ppo"
    assert train_world_of(main_job_folder) == "lake"
    assert probe_main([str(main_job_folder), "--world", "pond", "--scale", "smoke", "--json", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["world"] == "pond"
    out = main_job_folder.parent / "eval"
    assert evaluate_main([str(main_job_folder), "--ticks", "20", "--episodes", "1", "--fishers", "1",
                          "--out", str(out), "--quiet"]) == 0
    assert (out / "metrics.json").exists()


def test_bad_specs_name_the_flag(tmp_path):
    with pytest.raises(UsageError, match=r"^--policy: .*did you mean scripted:expert"):
        resolve_policy("expert")
    with pytest.raises(UsageError, match=r"^POLICY: unknown scripted fisher 'nobody'"):
        resolve_policy("scripted:nobody", flag="POLICY")
    with pytest.raises(UsageError, match="KEY=INTEGER"):
        resolve_policy("scripted:patient:patience_ticks=x")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UsageError, match=r"^--policy: "):
        resolve_policy(str(empty))
    shutil.rmtree(empty)


def test_untrained_seed_is_the_network_build_model_makes_before_any_training():
    import torch

    from agents.hyperparams import load_hyperparams
    from agents.models import build_model
    from agents.vec_env import make_vec_env

    hp, _ = load_hyperparams("ppo", ["lake"])
    model = build_model("ppo", make_vec_env("lake", n_worlds=1, n_fishers=1, seed=0),
                        {**hp, "batch_size": 64, "n_steps": 64}, seed=3, tensorboard_log=None)
    before = torch.random.get_rng_state()
    fisher = resolve_policy("untrained:3")
    assert torch.equal(before, torch.random.get_rng_state())  # torch's own generator is left alone
    mine, theirs = fisher.policy.state_dict(), model.policy.state_dict()
    assert set(mine) == set(theirs) and all(torch.equal(mine[k], theirs[k]) for k in mine)
    obs = np.random.default_rng(0).uniform(0, 1, (5, fisher.policy.observation_space.shape[0]))
    assert (fisher.act(obs) == resolve_policy("untrained:3").act(obs)).all() and fisher.name == "untrained:3"
    for bad in ("untrained:", "untrained:-1", "untrained:x", f"untrained:{2**32}"):
        with pytest.raises(UsageError, match=r"^POLICY: .*untrained:SEED"):
            resolve_policy(bad, flag="POLICY")
