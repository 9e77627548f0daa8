"""The parts training swaps in for speed (agents.activations.Tanh, agents.rollout_buffer.FlatRolloutBuffer)
compute what SB3's own parts compute: the same function and gradient, the same samples and advantages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer

from agents.activations import Tanh
from agents.rollout_buffer import FlatRolloutBuffer


def test_tanh_is_torchs_tanh_in_value_and_gradient():
    x = th.linspace(-12, 12, 4001, dtype=th.float32).reshape(-1, 1) * th.tensor([1.0, 1e-3])
    x = x.reshape(-1).clone().requires_grad_(True)
    ours, theirs = Tanh()(x), th.nn.Tanh()(x)
    assert th.allclose(ours, theirs, atol=3e-7, rtol=0)
    assert ours.abs().max() <= 1.0
    g = th.randn(x.shape, generator=th.Generator().manual_seed(0))
    (got,) = th.autograd.grad(ours, x, g)
    (want,) = th.autograd.grad(theirs, x, g)
    # g (1 - y^2) from outputs that differ by 2e-7: the gradients differ by up to about 4e-7 |g|
    assert ((got - want).abs() <= 1e-6 * g.abs()).all()
    with th.no_grad():
        assert th.allclose(Tanh()(x), th.tanh(x), atol=3e-7, rtol=0)


def test_tanh_reads_back_as_tanh():
    """SB3 records the activation by class; the project reads it back by its name."""
    from agents.policy_network import activation_name

    assert Tanh.__name__ == "Tanh"
    assert activation_name(str(Tanh), Path("policy")) == "Tanh"


def _fill(buffer: RolloutBuffer, data: dict[str, np.ndarray]) -> None:
    buffer.reset()
    for t in range(buffer.buffer_size):
        buffer.add(data["obs"][t], data["actions"][t], data["rewards"][t], data["starts"][t],
                   th.from_numpy(data["values"][t]), th.from_numpy(data["log_probs"][t]))
    buffer.compute_returns_and_advantage(th.from_numpy(data["last_values"]), data["dones"])


def _rollout(rng: np.random.Generator, n_steps: int, n_envs: int, obs_dim: int) -> dict[str, np.ndarray]:
    return {"obs": rng.standard_normal((n_steps, n_envs, obs_dim)).astype(np.float32),
            "actions": rng.integers(0, 5, (n_steps, n_envs)),
            "rewards": rng.standard_normal((n_steps, n_envs)).astype(np.float32),
            "starts": rng.random((n_steps, n_envs)) < 0.2,
            "values": rng.standard_normal((n_steps, n_envs)).astype(np.float32),
            "log_probs": -rng.random((n_steps, n_envs)).astype(np.float32),
            "last_values": rng.standard_normal(n_envs).astype(np.float32),
            "dones": rng.random(n_envs) < 0.2}


def _rows(batches) -> np.ndarray:
    """Every sample of the minibatches as one row (obs, action, value, log_prob, advantage, return),
    sorted: the set of samples, whatever their order."""
    rows = np.concatenate([np.column_stack([b.observations.numpy(), b.actions.numpy(), b.old_values.numpy(),
                                            b.old_log_prob.numpy(), b.advantages.numpy(), b.returns.numpy()])
                           for b in batches])
    return rows[np.lexsort(rows.T[::-1])]


@pytest.mark.parametrize("batch_size", [None, 6, 7])
def test_flat_buffer_gives_sb3s_samples_and_advantages(batch_size):
    n_steps, n_envs, obs_dim = 5, 4, 3
    obs_space = spaces.Box(-10, 10, (obs_dim,), np.float32)
    kwargs = dict(device="cpu", gae_lambda=0.95, gamma=0.99, n_envs=n_envs)
    sb3 = RolloutBuffer(n_steps, obs_space, spaces.Discrete(5), **kwargs)
    flat = FlatRolloutBuffer(n_steps, obs_space, spaces.Discrete(5), **kwargs)
    rng = np.random.default_rng(0)
    for _ in range(3):  # several rollouts: the flat buffer reuses its arrays
        data = _rollout(rng, n_steps, n_envs, obs_dim)
        _fill(sb3, data)
        _fill(flat, data)
        np.testing.assert_allclose(flat.advantages, sb3.advantages, rtol=1e-6)
        ours = list(flat.get(batch_size))
        theirs = list(sb3.get(batch_size))
        assert [len(b.observations) for b in ours] == [len(b.observations) for b in theirs]
        assert ours[0].observations.dtype == th.float32 and ours[0].actions.dtype == th.float32
        np.testing.assert_allclose(_rows(ours), _rows(theirs), rtol=1e-6)


def test_flat_buffer_allocates_once_and_draws_from_numpys_global_rng():
    obs_space = spaces.Box(-10, 10, (3,), np.float32)
    flat = FlatRolloutBuffer(4, obs_space, spaces.Discrete(5), device="cpu", n_envs=2)
    data = _rollout(np.random.default_rng(1), 4, 2, 3)
    _fill(flat, data)
    first = flat.observations
    np.random.seed(7)  # noqa: NPY002  (SB3's buffers draw from the global RNG, which checkpoints save)
    a = [b.observations.numpy().copy() for b in flat.get(3)]
    _fill(flat, data)
    assert flat.observations is first
    np.random.seed(7)  # noqa: NPY002
    b = [b.observations.numpy().copy() for b in flat.get(3)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_training_benchmark_runs_today_beside_the_new_network():
    """benchmarks.training --quick: the configurations built as training builds them, timed in turn."""
    from benchmarks.training import run, table

    results = run(quick=True, progress=False)
    rows = {(r["config"], r["threads"]): r for r in results["configs"]}
    assert set(rows) == {("sb3", 1), ("today", 1), ("trunk", 1), ("trunk1024", 1), ("trunk1024b", 1)}
    assert rows[("trunk1024", 1)]["overrides"] == {"shared_layers": 1, "n_worlds": 256, "n_steps": 32}
    assert rows[("trunk1024b", 1)]["overrides"] == {**rows[("trunk1024", 1)]["overrides"], "batch_size": 4096}
    assert rows[("sb3", 1)]["sb3_parts"] and not rows[("today", 1)]["sb3_parts"]
    assert rows[("sb3", 1)]["hyperparams"] == rows[("today", 1)]["hyperparams"]
    assert rows[("today", 1)]["hyperparams"] == rows[("trunk", 1)]["hyperparams"]
    assert rows[("today", 1)]["hyperparams_sections"] == ["ppo.default", "ppo.lake"]
    assert (rows[("today", 1)]["shared_layers"], rows[("trunk", 1)]["shared_layers"]) == (0, 1)
    assert rows[("today", 1)]["x_main_job"] == 1.0 and rows[("trunk", 1)]["x_main_job"] > 0
    assert "| trunk | ppo |" in table(results) and "64x64, first 1 shared" in table(results)


def test_the_learning_benchmark_trains_today_and_the_trunk_as_documented(tmp_path):
    """benchmarks.learning's runs are agents.train command lines: today's on one thread, the trunk on two."""
    from benchmarks.learning import train_command

    today = train_command("today", 1, 1000, tmp_path / "a")
    trunk = train_command("trunk", 1, 1000, tmp_path / "b")
    assert today[1:4] == ["-m", "agents.train", "--world"] and "--set" not in today
    assert today[today.index("--threads") + 1] == "1" and trunk[trunk.index("--threads") + 1] == "2"
    assert trunk[trunk.index("--set") + 1] == "shared_layers=1"
    assert today[today.index("--steps") + 1] == "1000" and today[today.index("--seed") + 1] == "1"
    wide = train_command("trunk1024", 1, 1000, tmp_path / "c")
    sets = [wide[i + 1] for i, a in enumerate(wide) if a == "--set"]
    assert sets == ["shared_layers=1", "n_worlds=256", "n_steps=32"]
    assert wide[wide.index("--threads") + 1] == "2"
    big = train_command("trunk1024b", 1, 1000, tmp_path / "d")
    assert [big[i + 1] for i, a in enumerate(big) if a == "--set"] == [*sets, "batch_size=4096"]


@pytest.mark.slow
def test_the_learning_benchmark_runs_end_to_end_and_keeps_finished_runs(tmp_path, capsys):
    from benchmarks.learning import main

    args = ["--seeds", "0", "--steps", "40000", "--no-throughput", "--out", str(tmp_path), "--json"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    rows = {name: res["runs"][0] for name, res in first["learning"].items()}
    assert set(rows) == {"today", "trunk", "trunk1024", "trunk1024b"}
    assert all(r["end"]["samples"] >= 40000 and r["samples_per_second"] > 0 for r in rows.values())
    config = json.loads((tmp_path / "trunk_s0" / "config.json").read_text())
    assert config["hyperparams"]["shared_layers"] == 1 and config["threads"] == 2
    wide = json.loads((tmp_path / "trunk1024_s0" / "config.json").read_text())["hyperparams"]
    assert (wide["n_worlds"], wide["n_steps"], wide["shared_layers"]) == (256, 32, 1)
    assert main(args) == 0  # the second time nothing is trained again
    assert "trained already, kept" in capsys.readouterr().err
    assert main([*args, "--configs", "today", "trunk1024b"]) == 0  # some of them: kept too, and in that order
    assert list(json.loads(capsys.readouterr().out)["learning"]) == ["today", "trunk1024b"]
