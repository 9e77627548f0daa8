"""The Mesa view (`sim.model.FisherModel`) and the benchmark's smoke run.

Most tests drive the model with a stand-in policy defined here (stateless: its actions
are a fixed function of the observation), so they test the model, not the scripted
fishers; one test runs the default scripted policy when `agents.scripted` is present.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mesa import batch_run

from sim.core import Simulation
from sim.fishers import N_ACTIONS
from sim.model import Fisher, FisherModel
from worlds.schema import WEATHER_STATES

ROOT = Path(__file__).resolve().parent.parent
MODEL_COLUMNS = {"fish_stock", "weather", "mean_hunger", "meals", "total_meals", "deaths", "alive"}
AGENT_COLUMNS = {"hunger", "catches", "meals"}


class HashPolicy:
    """A stand-in policy: actions are a fixed function of each observation (no state, no randomness)."""

    def act(self, obs: np.ndarray) -> np.ndarray:
        assert obs.ndim == 2 and obs.dtype == np.float32
        weights = np.arange(1, obs.shape[1] + 1, dtype=np.float64)
        return (np.floor(obs.astype(np.float64) @ weights * 7.0).astype(np.int64)) % N_ACTIONS


def hash_policy(obs: np.ndarray) -> np.ndarray:
    return HashPolicy().act(obs)


def run(steps: int, **kwargs) -> FisherModel:
    kwargs.setdefault("policy", HashPolicy())
    model = FisherModel(**kwargs)
    for _ in range(steps):
        model.step()
    return model


def test_model_runs_and_agents_read_the_core():
    model = FisherModel(world="lake", n_fishers=3, policy=HashPolicy(), seed=5)
    assert len(model.agents) == 3 and all(isinstance(a, Fisher) for a in model.agents)
    assert [a.slot for a in model.fishers] == [0, 1, 2]
    for _ in range(60):
        model.step()
        s = model.sim.state
        assert [a.hunger for a in model.fishers] == s.hunger[0].tolist()
        assert [a.catches for a in model.fishers] == s.catches[0].tolist()
        assert [a.meals for a in model.fishers] == s.meals[0].tolist()
        assert [a.alive for a in model.fishers] == s.alive[0].tolist()
        positions = list(zip(s.row[0].tolist(), s.col[0].tolist(), strict=True))
        assert [a.position for a in model.fishers] == positions
        assert model.fish_stock == pytest.approx(s.fish[0].sum())
        assert model.weather == WEATHER_STATES[int(s.weather[0])]
    assert model.steps == 60 and model.tick == 60
    assert model.sim.n_worlds == 1
    assert model.last_actions is not None and model.fishers[0].last_action == int(model.last_actions[0])


def test_datacollector_frames():
    model = run(25, n_fishers=2, seed=1)
    mdf = model.datacollector.get_model_vars_dataframe()
    adf = model.datacollector.get_agent_vars_dataframe()
    assert set(mdf.columns) == MODEL_COLUMNS
    assert len(mdf) == 26  # the init collect plus one per step
    assert set(adf.columns) == AGENT_COLUMNS
    assert adf.index.names == ["Step", "AgentID"]
    assert len(adf) == 26 * 2
    last = mdf.iloc[-1]
    assert last["meals"] == model.total_meals == last["total_meals"]
    assert last["alive"] == int(model.sim.state.alive.sum())
    assert last["weather"] in WEATHER_STATES
    assert last["fish_stock"] == pytest.approx(model.fish_stock)
    final_agents = adf.xs(25, level="Step")
    assert final_agents["hunger"].tolist() == model.sim.state.hunger[0].tolist()


def test_meals_and_deaths_count_over_lives():
    """Totals come from the core's events; in a cohort, running stops when all are dead."""
    model = FisherModel(n_fishers=2, policy=lambda obs: np.zeros(len(obs), dtype=np.int64),  # always wait
                        seed=3, respawn=False)
    model.run_model()
    assert not model.running
    assert model.n_alive == 0 and model.deaths == 2
    assert model.total_meals == 0
    assert all(not a.alive for a in model.agents)
    mdf = model.datacollector.get_model_vars_dataframe()
    assert mdf["deaths"].iloc[-1] == 2 and mdf["alive"].iloc[-1] == 0
    assert np.isnan(mdf["mean_hunger"].iloc[-1])
    assert model.steps < model.horizon


def test_running_stops_at_the_horizon():
    model = FisherModel(n_fishers=1, policy=hash_policy, seed=0)
    model.horizon = 7  # the world's time.horizon, shortened for the test
    model.run_model()
    assert model.steps == 7 and not model.running


def test_same_seed_is_deterministic_and_seeds_differ():
    a = run(40, n_fishers=3, seed=11)
    b = run(40, n_fishers=3, seed=11)
    c = run(40, n_fishers=3, seed=12)
    frame = lambda m: m.datacollector.get_model_vars_dataframe()  # noqa: E731
    agents = lambda m: m.datacollector.get_agent_vars_dataframe()  # noqa: E731
    assert a.sim_seed == b.sim_seed != c.sim_seed
    assert frame(a).equals(frame(b)) and agents(a).equals(agents(b))
    assert not frame(a).equals(frame(c))


def test_policy_forms():
    for policy in (HashPolicy(), hash_policy):
        model = run(3, n_fishers=2, policy=policy, seed=0)
        assert model.steps == 3
    with pytest.raises(ValueError):
        FisherModel(policy="expert")
    with pytest.raises(TypeError):
        FisherModel(policy=42)
    model = FisherModel(n_fishers=2, policy=lambda obs: np.zeros(3, dtype=np.int64), seed=0)
    with pytest.raises(ValueError):
        model.step()


class SeededRandomPolicy:
    """A stand-in with a random generator and `reset(seed=...)`, like the scripted fishers."""

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)

    def reset(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)

    def act(self, obs: np.ndarray) -> np.ndarray:
        return self.rng.integers(0, N_ACTIONS, len(obs))


def test_shared_stateful_policy_is_reset_per_model():
    policy = SeededRandomPolicy()
    a = run(30, n_fishers=2, seed=4, policy=policy)
    b = run(30, n_fishers=2, seed=4, policy=policy)  # the same object, already advanced by run a
    assert a.datacollector.get_model_vars_dataframe().equals(b.datacollector.get_model_vars_dataframe())


NO_SCRIPTED = importlib.util.find_spec("agents.scripted") is None


@pytest.mark.skipif(NO_SCRIPTED, reason="agents.scripted not there yet")
def test_default_scripted_policy():
    a = run(30, seed=2, policy="scripted:expert")
    b = run(30, seed=2, policy="scripted:expert")
    assert len(a.agents) == 4
    assert a.datacollector.get_model_vars_dataframe().equals(b.datacollector.get_model_vars_dataframe())
    assert FisherModel().policy_spec == "scripted:expert"


def test_batch_run_seeds():
    params = {"world": ["lake"], "n_fishers": [2, 4], "seed": range(2), "policy": HashPolicy()}
    rows = pd.DataFrame(batch_run(FisherModel, params, iterations=2, max_steps=50, number_processes=1,
                                  data_collection_period=1, display_progress=False))
    assert rows["RunId"].nunique() == 2 * 2 * 2
    assert set(rows.columns) >= MODEL_COLUMNS | AGENT_COLUMNS
    # one row per agent per collected step; Mesa's runner stops once steps > max_steps
    per_run = rows.groupby("RunId").agg(n_fishers=("n_fishers", "first"), rows=("Step", "size"),
                                        last=("Step", "max"))
    assert (per_run["rows"] == per_run["n_fishers"] * 51).all() and (per_run["last"] == 50).all()

    cols = ["Step", "AgentID", "fish_stock", "weather", "total_meals", "deaths", "alive", "hunger", "catches"]

    def trajectory(n_fishers: int, seed: int, iteration: int) -> pd.DataFrame:
        sel = rows[(rows.n_fishers == n_fishers) & (rows.seed == seed) & (rows.iteration == iteration)]
        return sel[cols].reset_index(drop=True)

    for n in (2, 4):
        for seed in (0, 1):  # the same seed, run twice: identical
            assert trajectory(n, seed, 0).equals(trajectory(n, seed, 1))
        # distinct seeds: distinct worlds (fish and hunger differ)
        t0, t1 = trajectory(n, 0, 0), trajectory(n, 1, 0)
        assert not np.allclose(t0["fish_stock"], t1["fish_stock"])
        assert not np.allclose(t0["hunger"], t1["hunger"])


def test_batch_run_default_parameters():
    """The brief's own call: every argument has a default, including the policy."""
    if NO_SCRIPTED:
        pytest.skip("agents.scripted not there yet")
    rows = batch_run(FisherModel, {"world": ["lake"], "n_fishers": [2, 4], "seed": range(2)}, max_steps=50,
                     number_processes=1, display_progress=False)
    assert len(rows) == 2 * 2 + 2 * 4  # final step, one row per agent


def test_fisher_model_in_sim_namespace():
    import sim

    assert sim.FisherModel is FisherModel
    assert isinstance(FisherModel(n_fishers=1, policy=hash_policy, seed=0).sim, Simulation)


def test_benchmark_quick_runs():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "benchmarks.core", "--quick", "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json

    res = json.loads(proc.stdout)
    assert {"core", "crafter", "mesa_baseline", "fisher_model", "map_scaling", "fisher_scaling"} <= set(res)
    assert all(r["agent_steps_per_s"] > 0 for r in res["core"])
