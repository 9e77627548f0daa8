"""FisherVecEnv honours SB3's VecEnv contract, tested the way SB3 tests its own VecEnvs:
an instrumented world whose observation reveals the step counter (the time-of-day sense,
with a day longer than an episode)."""

from __future__ import annotations

import numpy as np
import pytest
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

from agents.vec_env import INFO_KEYWORDS, FisherVecEnv, make_vec_env, resolve_pool
from sim.observe import LAYOUT, OBS_SIZE
from worlds.loader import load_world, override_world

DAY = 4096
HORIZON = 30


def instrumented(**overrides) -> object:
    return override_world(load_world("lake"), {"time.day_length": DAY, "time.horizon": HORIZON, **overrides})


def tick_of(obs: np.ndarray) -> np.ndarray:
    """The tick an observation was taken at, read back from the day-phase sense."""
    phase = np.arctan2(obs[..., LAYOUT["day_sin"]], obs[..., LAYOUT["day_cos"]]) % (2 * np.pi)
    return np.rint(phase / (2 * np.pi) * DAY).astype(int)


def test_reset_and_step_shapes_and_types():
    env = FisherVecEnv([instrumented()], n_worlds=3, n_fishers=2, seed=0)
    assert isinstance(env, VecEnv) and env.num_envs == 6
    obs = env.reset()
    assert obs.shape == (6, OBS_SIZE) and obs.dtype == np.float32
    assert env.observation_space.contains(obs[0])
    obs, rewards, dones, infos = env.step(np.zeros(6, dtype=np.int64))
    assert rewards.shape == (6,) and rewards.dtype == np.float32
    assert dones.shape == (6,) and dones.dtype == bool and len(infos) == 6
    assert (tick_of(obs) == 1).all()


def test_time_limit_ends_every_slot_with_terminal_observation_and_auto_reset():
    env = FisherVecEnv([instrumented()], n_worlds=2, n_fishers=2, seed=0)
    obs = env.reset()
    assert (tick_of(obs) == 0).all()
    for t in range(1, HORIZON + 1):
        obs, _, dones, infos = env.step(np.zeros(4, dtype=np.int64))
        if t < HORIZON:
            assert not dones.any() and (tick_of(obs) == t).all()
    assert dones.all()
    for info in infos:
        assert info["TimeLimit.truncated"] is True
        assert tick_of(info["terminal_observation"]) == HORIZON
        assert set(INFO_KEYWORDS) <= set(info)
    assert (tick_of(obs) == 0).all()  # auto-reset: the next episode starts at tick 0


def test_starvation_ends_only_that_slot_and_a_new_fisher_takes_it():
    env = FisherVecEnv([instrumented(**{"hunger.rate": 0.2, "hunger.spawn": [0.5, 0.5]})], n_worlds=1,
                       n_fishers=3, seed=0)
    env.reset()
    obs, _, dones, infos = env.step(np.zeros(3, dtype=np.int64))
    obs, _, dones, infos = env.step(np.zeros(3, dtype=np.int64))
    obs, _, dones, infos = env.step(np.zeros(3, dtype=np.int64))  # 0.5 + 3 x 0.2 >= 1
    assert dones.all()
    for i, info in enumerate(infos):
        assert info["TimeLimit.truncated"] is False
        assert info["terminal_observation"][LAYOUT["hunger"]] == pytest.approx(1.0)
        assert info["lifetime"] == 3
        assert obs[i, LAYOUT["hunger"]] == pytest.approx(0.5)  # a newcomer
    assert (tick_of(obs) == 3).all()  # the world goes on


def test_seed_is_applied_at_the_next_reset_and_is_deterministic():
    def run(seed: int) -> np.ndarray:
        env = make_vec_env(n_worlds=2, n_fishers=2)
        env.seed(seed)
        trace = [env.reset()]
        rng = np.random.default_rng(0)
        for _ in range(60):
            trace.append(env.step(rng.integers(0, 8, env.num_envs))[0])
        return np.stack(trace)

    assert np.array_equal(run(3), run(3))
    assert not np.array_equal(run(3), run(4))


def test_vecmonitor_counts_one_episode_per_done():
    env = VecMonitor(FisherVecEnv([instrumented(**{"hunger.rate": 0.05})], n_worlds=2, n_fishers=2, seed=1),
                     info_keywords=INFO_KEYWORDS)
    env.reset()
    episodes = dones_seen = 0
    rng = np.random.default_rng(1)
    for _ in range(2 * HORIZON + 5):
        _, _, dones, infos = env.step(rng.integers(0, 8, 4))
        dones_seen += int(dones.sum())
        episodes += sum("episode" in info for info in infos)
    assert dones_seen > 4 and episodes == dones_seen


def test_attribute_and_method_access():
    env = make_vec_env(n_worlds=2, n_fishers=1)
    env.reset()
    assert env.get_attr("n_fishers") == [1, 1]
    assert env.has_attr("horizon") and not env.has_attr("no_such_attribute")
    env.set_attr("reward_name", "eat")
    assert env.env_method("_epoch_worlds", 0, indices=[0]) == [["lake", "lake"]]
    assert env.env_is_wrapped(VecMonitor) == [False, False]
    images = env.get_images()
    assert len(images) == 2 and images[0].dtype == np.uint8 and images[0].ndim == 3


def test_world_pools():
    assert resolve_pool("lake") == ["lake"]
    assert resolve_pool(worlds="generated:0..2") == ["generated:0", "generated:1", "generated:2"]
    assert resolve_pool(worlds="generated:3") == ["generated:3"]  # one world: the same spelling as --world
    assert "mirror" in resolve_pool(worlds="suite:held_out")
    env = make_vec_env(worlds="generated:0..2", n_worlds=2, n_fishers=1, horizon=5)
    env.reset()
    first = [w.name for w in env.sim.worlds]
    for _ in range(5):
        env.step(np.zeros(2, dtype=np.int64))
    assert [w.name for w in env.sim.worlds] != first  # the next epoch draws the next worlds
    with pytest.raises(ValueError, match="suite"):
        resolve_pool(worlds="suite:nope")
    with pytest.raises(ValueError, match="reward"):
        make_vec_env(reward="hunger")


@pytest.mark.parametrize("policy", ["random", "expert"])
def test_reward_purity_only_meals_pay(policy):
    """reward="eat": every non-zero reward is exactly one meal's reward on a step with an "ate" event."""
    from agents.scripted import make_scripted
    from sim.events import has

    env = make_vec_env(n_worlds=4, n_fishers=2, seed=2)
    obs = env.reset()
    fisher = make_scripted(policy, seed=0)
    meal = env.sim.worlds[0].params.fishing.meal_reward
    paid = 0
    for _ in range(400):
        obs, rewards, _, _ = env.step(fisher.act(obs))
        ate = has(env.last_result.events, "ate").reshape(-1)
        assert np.all(rewards[~ate] == 0.0)
        assert np.all(rewards[ate] == meal)
        paid += int(ate.sum())
    assert policy == "random" or paid > 0


def test_taught_reward_adds_shaping_and_eat_never_does():
    from agents.scripted import make_scripted

    totals = {}
    for reward in ("eat", "taught"):
        env = make_vec_env(n_worlds=2, n_fishers=2, seed=5, reward=reward)
        obs = env.reset()
        fisher = make_scripted("expert", seed=0)
        steps = []
        for _ in range(200):
            obs, rewards, _, _ = env.step(fisher.act(obs))
            steps.append(rewards)
        totals[reward] = np.concatenate(steps)
    assert set(np.unique(totals["eat"])) <= {0.0, 1.0}
    assert totals["taught"].sum() > totals["eat"].sum()


def test_returned_observations_are_not_overwritten_by_later_steps():
    """SB3 keeps the last observation (reset's too) while it steps again, then stores it."""
    env = FisherVecEnv([instrumented()], n_worlds=2, n_fishers=2, seed=0)
    first = env.reset()
    after_one, *_ = env.step(np.zeros(4, dtype=np.int64))
    kept = first.copy(), after_one.copy()
    env.step(np.zeros(4, dtype=np.int64))
    assert (tick_of(first) == 0).all() and (tick_of(after_one) == 1).all()
    np.testing.assert_array_equal(first, kept[0])
    np.testing.assert_array_equal(after_one, kept[1])


def _rollout(reward: str, steps: int, kill_at: int | None = None):
    """Rewards, start and end potentials of the expert's rollout (2 worlds x 2 fishers, respawning)."""
    from agents.rewards import PotentialReward
    from agents.scripted import make_scripted

    env = make_vec_env(n_worlds=2, n_fishers=2, seed=5, reward=reward)
    obs = env.reset()
    fisher = make_scripted("expert", seed=0)
    phi = PotentialReward(1.0)
    start = phi.potential(env.sim).reshape(-1)
    out = []
    for t in range(steps):
        if t == kill_at:
            env.sim.state.hunger[0, 0] = 1.0  # slot 0 starves this tick
        obs, rewards, dones, _ = env.step(fisher.act(obs))
        out.append(rewards)
    return np.array(out), start, phi.potential(env.sim).reshape(-1), env


def test_potential_shaping_telescopes_and_leaves_the_best_policy_alone():
    """Ng, Harada and Russell (1999): the discounted shaping over a trajectory is gamma^T Phi_T - Phi_0,
    whatever the fisher did, so it cannot change which policy is best; it does pay (the expert carries
    fish and fishes rich water), and shaped:2 pays twice as much."""
    from agents.rewards import SHAPING_GAMMA

    steps = 150
    eat, _, _, _ = _rollout("eat", steps)
    shaped, start, end, _ = _rollout("shaped", steps)
    double, _, _, _ = _rollout("shaped:2", steps)
    shaping = shaped - eat
    discount = SHAPING_GAMMA ** np.arange(steps)
    np.testing.assert_allclose(discount @ shaping, SHAPING_GAMMA ** steps * end - start, atol=1e-4)
    assert np.abs(shaping).sum() > 1.0
    np.testing.assert_allclose(double - eat, 2 * shaping, atol=1e-5)


def test_a_life_that_ends_has_no_potential_after_and_a_new_one_starts_from_its_own():
    from agents.rewards import PotentialReward

    shaped, _, _, env = _rollout("shaped", 31, kill_at=30)
    eat, _, _, _ = _rollout("eat", 31, kill_at=30)
    assert env.sim.state.lifetime[0, 0] == 0  # slot 0's fisher starved on the last tick; a new one is there
    before = shaped[:30, 0] - eat[:30, 0]
    assert shaped[30, 0] - eat[30, 0] <= 0 and np.abs(before).sum() > 0  # -Phi(s): nothing after the end
    # the slot's next shaping is measured from the new life's potential (it carries its spawn fish)
    new_life = PotentialReward().potential(env.sim)[0, 0]
    assert new_life > 0 and env._reward.phi[0, 0] == pytest.approx(new_life)


@pytest.mark.parametrize("spelling", ["shaped:-1", "shaped:x", "eat:2", "praise"])
def test_a_bad_reward_spelling_names_what_is_expected(spelling):
    with pytest.raises(ValueError, match="eat, taught, shaped or shaped:SCALE"):
        make_vec_env(n_worlds=1, n_fishers=1, reward=spelling)


def test_the_shaping_discount_is_the_learners_gamma():
    from agents.hyperparams import load_hyperparams
    from agents.rewards import SHAPING_GAMMA

    for algo, keys in (("ppo", ()), ("ppo", ("lake",)), ("ppo", ("generated",)),
                       ("recurrent_ppo", ("lake",))):
        assert load_hyperparams(algo, keys)[0]["gamma"] == SHAPING_GAMMA
