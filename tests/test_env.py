"""The PettingZoo and Gymnasium views: API conformance, determinism, reward, infos, errors."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from gymnasium.utils.env_checker import data_equivalence
from pettingzoo.test import api_test, max_cycles_test, parallel_api_test, parallel_seed_test, render_test
from pettingzoo.utils import parallel_to_aec
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import sim.env
from sim.core import Simulation
from sim.env import GYM_ID, INFO_KEYS, FisherGymEnv, FisherParallelEnv, make_env, make_gym_env
from sim.events import EVENTS
from sim.fishers import EAT, N_ACTIONS
from sim.observe import LAYOUT, OBS_SIZE
from worlds.loader import load_world
from worlds.schema import WEATHER_STATES

LAKE = load_world("lake")
H, W = LAKE.shape


def random_actions(env: FisherParallelEnv, rng: np.random.Generator, p_eat: float = 0.0) -> dict[str, int]:
    acts = {}
    for agent in env.agents:
        a = int(rng.integers(0, N_ACTIONS))
        if p_eat and rng.random() < p_eat:
            a = EAT
        acts[agent] = a
    return acts


# ---------------------------------------------------------------- PettingZoo's own tests


def test_parallel_api_test():
    parallel_api_test(make_env(n_fishers=3, seed=0), num_cycles=300)


def test_parallel_api_test_with_respawn():
    parallel_api_test(make_env(n_fishers=2, seed=1, respawn=True, hunger__rate=0.05), num_cycles=200)


def test_aec_api_test():
    api_test(parallel_to_aec(make_env(n_fishers=3, seed=0)), num_cycles=100)


def test_render_test():
    # render_test asks for render_mode="human" first (a headless pygame window here), then every mode
    def env_fn(render_mode=None):
        return parallel_to_aec(make_env(n_fishers=2, seed=0, render_mode=render_mode))

    render_test(env_fn)


def test_max_cycles_test():
    max_cycles_test(sim.env)


def test_parallel_seed_test():
    # PettingZoo's seed test compares only one step (see API_NOTES); ours below runs 300+.
    parallel_seed_test(lambda: make_env(n_fishers=3), num_cycles=50)


# ---------------------------------------------------------------- determinism


def run_episode(env: FisherParallelEnv, seed: int, action_seed: int, steps: int) -> list:
    rng = np.random.default_rng(action_seed)
    trace = [env.reset(seed=seed)]
    for _ in range(steps):
        if not env.agents:
            break
        trace.append(env.step(random_actions(env, rng, p_eat=0.2)))
    return trace


def test_same_seed_same_trajectory_over_many_steps():
    kw = dict(n_fishers=3, respawn=True)
    a, b = make_env(**kw), make_env(**kw)
    ta, tb = run_episode(a, 7, 99, 400), run_episode(b, 7, 99, 400)
    assert len(ta) == len(tb) == 401
    for step_a, step_b in zip(ta, tb, strict=True):
        for part_a, part_b in zip(step_a, step_b, strict=True):  # obs, rewards, terms, truncs, infos
            assert data_equivalence(part_a, part_b, exact=True)
    # the run must have exercised something beyond walking
    events = {e for step in ta[1:] for info in step[4].values() for e in info["events"]}
    assert {"ate", "cast"} <= events


def test_same_seed_same_cohort_until_all_starve():
    kw = dict(n_fishers=3, hunger__rate=0.03)
    ta = run_episode(make_env(**kw), 3, 5, 1000)
    tb = run_episode(make_env(**kw), 3, 5, 1000)
    assert len(ta) == len(tb) < 1001  # the cohort died out before the horizon
    assert all(data_equivalence(x, y, exact=True) for x, y in zip(ta, tb, strict=True))


def test_different_seed_differs():
    kw = dict(n_fishers=3, respawn=True)
    ta, tb = run_episode(make_env(**kw), 7, 99, 50), run_episode(make_env(**kw), 8, 99, 50)
    assert not all(data_equivalence(x, y) for x, y in zip(ta, tb, strict=True))
    obs_a, _ = make_env(n_fishers=3).reset(seed=7)
    obs_b, _ = make_env(n_fishers=3).reset(seed=8)
    assert not data_equivalence(obs_a, obs_b)


def test_unseeded_resets_follow_the_last_seed():
    a, b = make_env(n_fishers=2), make_env(n_fishers=2)
    for env in (a, b):
        env.reset(seed=11)
    for _ in range(3):
        ra, rb = a.reset(), b.reset()
        assert data_equivalence(ra, rb, exact=True)
        assert a.episode_seed == b.episode_seed != 11
    # the constructor's seed is the first episode's seed
    assert data_equivalence(make_env(n_fishers=2, seed=11).reset(), make_env(n_fishers=2).reset(seed=11))
    # without any seed, two envs draw different fresh seeds
    assert make_env().episode_seed != make_env().episode_seed


def test_env_seed_is_the_simulation_seed():
    env = make_env(n_fishers=2)
    obs, _ = env.reset(seed=21)
    alone = Simulation("lake", 2, seeds=[21], respawn=False)
    assert np.array_equal(np.stack([obs["fisher_0"], obs["fisher_1"]]), alone.observe()[0])
    rng = np.random.default_rng(0)
    for _ in range(30):
        acts = random_actions(env, rng)
        obs, *_ = env.step(acts)
        alone.step(np.array([[acts.get("fisher_0", 0), acts.get("fisher_1", 0)]]))
        for agent, o in obs.items():
            assert np.array_equal(o, alone.observe()[0, env._slot[agent]])


# ---------------------------------------------------------------- reward, infos, lives


def test_reward_only_with_an_ate_event():
    env = make_env(n_fishers=3, seed=4, respawn=True)
    env.reset()
    meal = LAKE.params.fishing.meal_reward
    rng = np.random.default_rng(1)
    meals = 0
    for _ in range(600):
        _, rewards, _, _, infos = env.step(random_actions(env, rng, p_eat=0.3))
        for agent, r in rewards.items():
            ate = "ate" in infos[agent]["events"]
            assert (r != 0) == ate, (agent, r, infos[agent])
            assert r == (meal if ate else 0.0)
            meals += ate
    assert meals > 0


def check_info(info: dict) -> None:
    assert set(INFO_KEYS) <= set(info)
    assert isinstance(info["events"], list) and set(info["events"]) <= set(EVENTS)
    assert isinstance(info["hunger"], float) and 0.0 <= info["hunger"] <= 1.0
    assert info["weather"] in WEATHER_STATES
    assert isinstance(info["front_in"], int) and info["front_in"] >= -1
    assert isinstance(info["fish_under_line"], float) and info["fish_under_line"] >= 0.0
    row, col = info["position"]
    assert isinstance(info["position"], tuple) and type(row) is int and type(col) is int
    assert 0 <= row < H and 0 <= col < W
    for key in ("life", "meals", "catches"):
        assert type(info[key]) is int and info[key] >= 0


def test_infos_carry_every_key_at_reset_and_every_step():
    env = make_env(n_fishers=3, seed=2, respawn=True, hunger__rate=0.02)
    obs, infos = env.reset()
    assert set(infos) == set(env.agents) == set(obs)
    for info in infos.values():
        check_info(info)
        assert info["events"] == [] and info["life"] == 0 and info["meals"] == 0
    rng = np.random.default_rng(3)
    seen = set()
    for _ in range(300):
        obs, _, _, _, infos = env.step(random_actions(env, rng, p_eat=0.1))
        assert set(infos) == set(obs)
        for agent, info in infos.items():
            check_info(info)
            seen.update(info["events"])
            assert env.observation_space(agent).contains(obs[agent])
            if info["fish_under_line"] > 0:
                assert obs[agent][LAYOUT["line_out"]] == 1.0
    assert {"cast", "ate", "starved", "spawned"} <= seen


def test_respawn_keeps_every_agent_alive():
    env = make_env(n_fishers=3, seed=5, respawn=True, hunger__rate=0.05, max_cycles=500)
    env.reset()
    rng = np.random.default_rng(4)
    lives = dict.fromkeys(env.possible_agents, 0)
    for t in range(500):
        _, _, terms, truncs, infos = env.step(random_actions(env, rng))
        assert not any(terms.values())
        assert all(truncs.values()) == (t == 499)
        for agent, info in infos.items():
            if "starved" in info["events"]:
                assert "spawned" in info["events"]
                assert info["life"] == lives[agent] + 1
                assert {"final_meals", "final_catches", "final_lifetime"} <= set(info)
                assert info["hunger"] < 1.0  # the new fisher's hunger
            lives[agent] = info["life"]
        if t < 499:
            assert env.agents == env.possible_agents
    assert env.agents == []
    assert min(lives.values()) >= 3  # every slot went through several lives


def test_starved_fisher_terminates_and_leaves():
    env = make_env(n_fishers=3, seed=6, hunger__rate=0.2)
    env.reset()
    gone = set()
    for _ in range(10):
        if not env.agents:
            break
        before = list(env.agents)
        _, rewards, terms, truncs, infos = env.step(dict.fromkeys(env.agents, 0))
        assert set(terms) == set(before)
        for agent in before:
            starved = "starved" in infos[agent]["events"]
            assert terms[agent] == starved and not truncs[agent]
            assert "spawned" not in infos[agent]["events"]
            if starved:
                gone.add(agent)
                assert infos[agent]["hunger"] == 1.0 and infos[agent]["final_lifetime"] > 0
        assert set(env.agents) == set(before) - gone
    assert env.agents == [] and gone == set(env.possible_agents)
    assert env.step({}) == ({}, {}, {}, {}, {})


def test_truncation_at_max_cycles_and_world_horizon():
    env = make_env(n_fishers=2, seed=0, max_cycles=25, respawn=True)
    assert env.max_cycles == 25
    env.reset()
    for t in range(25):
        _, _, terms, truncs, _ = env.step(dict.fromkeys(env.agents, 0))
        assert all(truncs.values()) == (t == 24) and not any(terms.values())
    assert env.agents == []
    assert make_env().max_cycles == LAKE.params.time.horizon
    assert make_env(time__horizon=40).max_cycles == 40
    env.reset()  # a new episode after truncation
    assert env.agents == env.possible_agents and env.cycles == 0


def test_world_overrides_reach_the_simulation():
    env = make_env(hunger__rate=0.02, fishing__meal_reward=2.5)
    assert env.world.params.hunger.rate == 0.02
    assert env.sim.batch.p.fishing_meal_reward[0] == 2.5
    assert LAKE.params.hunger.rate != 0.02  # the shipped world is untouched


def test_spaces_are_fixed_objects():
    env = make_env(n_fishers=2)
    for agent in env.possible_agents:
        assert env.observation_space(agent) is env.observation_space(agent)
        assert env.action_space(agent) is env.action_space(agent)
        assert env.action_space(agent) == gym.spaces.Discrete(N_ACTIONS)
        space = env.observation_space(agent)
        assert space.shape == (OBS_SIZE,) and space.dtype == np.float32
        assert space.low.min() == -1.0 and space.high.max() == 1.0
    assert env.possible_agents == ["fisher_0", "fisher_1"]


def test_render_modes():
    env = make_env(n_fishers=2, seed=0, render_mode="rgb_array")
    env.reset()
    img = env.render()
    assert img.shape == (H * env.render_cell, W * env.render_cell, 3) and img.dtype == np.uint8
    env = make_env(n_fishers=2, seed=0, render_mode="ansi")
    env.reset()
    text = env.render()
    assert isinstance(text, str) and len(text.splitlines()) == H
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert make_env().render() is None


# ---------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(("kwargs", "error", "names"), [
    ({"reward": "taught"}, ValueError, ["reward", "'eat'", "taught"]),
    ({"reward": "hunger"}, ValueError, ["reward", "'eat'"]),
    ({"foo": 1}, TypeError, ["'foo'", "section__field"]),
    ({"hunger_rate": 0.1}, TypeError, ["'hunger_rate'"]),
    ({"hunger__ratee": 0.1}, ValueError, ["hunger__ratee"]),
    ({"hunger__rate": 2.0}, ValueError, ["hunger__rate", "hunger.rate"]),
    ({"n_fishers": 0}, ValueError, ["n_fishers"]),
    ({"max_cycles": 0}, ValueError, ["max_cycles"]),
    ({"max_cycles": 2.5}, ValueError, ["max_cycles"]),
    ({"respawn": "yes"}, ValueError, ["respawn"]),
    ({"render_mode": "window"}, ValueError, ["render_mode", "human", "rgb_array"]),
    ({"seed": -1}, ValueError, ["seed"]),
    ({"world": "atlantis"}, ValueError, ["atlantis"]),
    ({"world": ["lake", "lake"]}, ValueError, ["world"]),
])
def test_bad_arguments_raise_clear_errors(kwargs, error, names):
    with pytest.raises(error) as info:
        make_env(**kwargs)
    for name in names:
        assert name in str(info.value)


def test_bad_actions_raise_clear_errors():
    env = make_env(n_fishers=2, seed=0)
    env.reset()
    with pytest.raises(ValueError, match="fisher_0"):
        env.step({"fisher_0": 8, "fisher_1": 0})
    with pytest.raises(ValueError, match="fisher_0"):
        env.step({"fisher_0": 1.5, "fisher_1": 0})
    with pytest.raises(KeyError, match="fisher_9"):
        env.step({"fisher_0": 0, "fisher_1": 0, "fisher_9": 0})
    with pytest.raises(ValueError, match="fisher_1"):
        env.step({"fisher_0": 0})
    with pytest.raises(ValueError, match="seed"):
        env.reset(seed=-3)
    env.step({"fisher_0": np.int64(2), "fisher_1": np.array(7)})  # numpy integers are fine


# ---------------------------------------------------------------- Gymnasium view


def test_gym_check_env():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning either, except the documented spec one
        warnings.filterwarnings("ignore", message=".*not having a spec.*")
        gym_check_env(make_gym_env().unwrapped)
        gym_check_env(make_gym_env(respawn=True, hunger__rate=0.05, render_mode="rgb_array").unwrapped)


def test_gym_check_env_through_make_with_render_modes():
    env = gym.make(GYM_ID)
    gym_check_env(env.unwrapped)  # with a spec: also builds and renders every render mode
    env.close()


def test_sb3_check_env():
    sb3_check_env(make_gym_env(), warn=True)


def test_gym_make_and_double_registration():
    sim.env.register_gym()
    sim.env.register_gym()
    env = gym.make(GYM_ID, world="lake", max_cycles=20, respawn=True)
    assert isinstance(env.unwrapped, FisherGymEnv)
    obs, info = env.reset(seed=0)
    assert obs.shape == (OBS_SIZE,) and set(INFO_KEYS) <= set(info)
    for t in range(20):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert not terminated and truncated == (t == 19)
        check_info(info)
    env.close()


def test_gym_seeding_and_termination():
    a = make_gym_env(seed=5)
    b = make_gym_env()
    assert data_equivalence(a.reset(), b.reset(seed=5), exact=True)
    assert data_equivalence(a.reset(), b.reset(), exact=True)  # the next seeds come from np_random
    # the single-fisher view is the parallel env's fisher_0
    obs, info = make_env(n_fishers=1).reset(seed=5)
    assert data_equivalence(make_gym_env().reset(seed=5), (obs["fisher_0"], info["fisher_0"]), exact=True)
    env = make_gym_env(seed=1, hunger__rate=0.2)
    env.reset()
    for _ in range(10):
        _, reward, terminated, truncated, info = env.step(0)
        if terminated:
            break
    assert terminated and not truncated and "starved" in info["events"]
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    with pytest.raises(TypeError, match="n_fishers"):
        make_gym_env(n_fishers=2)
    with pytest.raises(ValueError, match="taught"):
        make_gym_env(reward="taught")
