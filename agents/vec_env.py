"""`FisherVecEnv`: a stable-baselines3 VecEnv where every slot is one fisher of a batched world.

One shared policy acts for all fishers of all worlds (parameter sharing), and all worlds
advance in one call of the core's step function. A slot's episode is one fisher's life:
starvation ends it (terminated) and a new fisher takes the slot; every `horizon` ticks
all worlds end together (truncated, `TimeLimit.truncated`) and restart with fresh seeds,
drawn from the world pool (the breadth knob: one world, or 10, 100, 1000 generated).

Seeds follow SB3's contract: `seed(s)` is applied at the next `reset()`, world slot i of
epoch k gets seed `s + i + k * n_worlds`, so the same seed gives the same trajectories.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnv

from agents.rewards import Reward, make_reward
from sim.core import Simulation, resolve_worlds
from sim.env import observation_bounds
from sim.fishers import N_ACTIONS
from sim.observe import observe
from sim.render import render_rgb
from worlds.loader import World
from worlds.registry import expand

INFO_KEYWORDS = ("meals", "catches", "lifetime")  # in every done step's info, for VecMonitor


class FisherVecEnv(VecEnv):
    """n_worlds x n_fishers slots over a pool of worlds; see the module docstring."""

    def __init__(self, pool: Sequence[str | World], n_worlds: int = 64, n_fishers: int = 4, seed: int = 0,
                 reward: str = "eat", horizon: int | None = None, render_mode: str | None = None):
        if n_worlds < 1 or n_fishers < 1:
            raise ValueError(f"n_worlds, n_fishers: expected integers >= 1, got {n_worlds}, {n_fishers}")
        self.pool = list(pool)
        if not self.pool:
            raise ValueError("worlds: expected at least one world")
        self.n_worlds, self.n_fishers = n_worlds, n_fishers
        self.render_mode = render_mode  # before VecEnv.__init__, which reads it through get_attr
        self.reward_name = reward
        self._reward: Reward = make_reward(reward)
        self.base_seed = int(seed)
        self.epoch = 0
        self.sim = self._build_sim(self.base_seed)
        self.horizon = int(horizon or self.sim.worlds[0].params.time.horizon)
        low, high = observation_bounds()
        observation_space = spaces.Box(low, high, dtype=np.float32)
        super().__init__(n_worlds * n_fishers, observation_space, spaces.Discrete(N_ACTIONS))
        self._actions = np.zeros(self.num_envs, dtype=np.int64)
        self._obs = np.zeros((n_worlds, n_fishers, *self.observation_space.shape), dtype=np.float32)
        self.last_result = None

    # --- worlds and seeds --------------------------------------------------------------
    def _epoch_worlds(self, epoch: int) -> list[str | World]:
        start = epoch * self.n_worlds
        return [self.pool[(start + i) % len(self.pool)] for i in range(self.n_worlds)]

    def _build_sim(self, base_seed: int) -> Simulation:
        seeds = [base_seed + i + self.epoch * self.n_worlds for i in range(self.n_worlds)]
        worlds = self._epoch_worlds(self.epoch)
        current = getattr(self, "sim", None)
        if current is not None and len(self.pool) <= self.n_worlds:  # the same worlds every epoch
            current.reset(seeds=seeds)
            return current
        return Simulation(resolve_worlds(worlds), self.n_fishers, seeds=seeds, respawn=False)

    # --- the VecEnv contract -----------------------------------------------------------
    def reset(self) -> np.ndarray:
        if self._seeds and self._seeds[0] is not None:
            self.base_seed = int(self._seeds[0])
        self.epoch = 0
        self.sim = self._build_sim(self.base_seed)
        self._reward.reset(self.sim)
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return self._observe().copy()  # a copy: SB3 keeps it as _last_obs while the next step writes

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions, dtype=np.int64).reshape(self.num_envs)

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        sim = self.sim
        result = sim.step(self._actions.reshape(sim.n_worlds, sim.n_fishers))
        self.last_result = result  # the core's events and ground truth of this step, for analysis and tests
        rewards = self._reward(sim, result).reshape(-1).astype(np.float32)
        starved = result.starved.reshape(-1)
        truncated = np.zeros(self.num_envs, dtype=bool)
        if sim.state.tick[0] >= self.horizon:  # all worlds share the clock: they end together
            truncated[:] = ~starved
        dones = starved | truncated
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if dones.any():
            terminal = self._observe().copy()
            meals = np.where(starved, result.final_meals.reshape(-1), sim.state.meals.reshape(-1))
            catches = np.where(starved, result.final_catches.reshape(-1), sim.state.catches.reshape(-1))
            lifetime = np.where(starved, result.final_lifetime.reshape(-1), sim.state.lifetime.reshape(-1))
            for i in np.flatnonzero(dones):
                infos[i] = {"terminal_observation": terminal[i],
                            "TimeLimit.truncated": bool(truncated[i]),
                            "meals": int(meals[i]), "catches": int(catches[i]), "lifetime": int(lifetime[i])}
            if truncated.any():
                self.epoch += 1
                self.sim = self._build_sim(self.base_seed)
                self._reward.reset(self.sim)
            else:
                sim.respawn_slots(result.starved)
                self._reward.respawned(sim, result.starved)
        return self._observe().copy(), rewards, dones, infos

    def _observe(self) -> np.ndarray:
        """(num_envs, OBS_SIZE) observations, written in place (one array for the life of the env)."""
        return observe(self.sim.state, self.sim.batch, out=self._obs).reshape(self.num_envs, -1)

    def close(self) -> None:
        pass

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        value = getattr(self, attr_name)  # raises AttributeError, as SB3's has_attr expects
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        setattr(self, attr_name, value)

    def env_method(self, method_name: str, *args, indices=None, **kwargs) -> list[Any]:
        return [getattr(self, method_name)(*args, **kwargs) for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type, indices=None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        """One image per slot: the world it lives in (slots of one world share it)."""
        frames = [render_rgb(self.sim, world=w) for w in range(self.sim.n_worlds)]
        return [frames[i // self.n_fishers] for i in range(self.num_envs)]


def resolve_pool(world: str | World = "lake", worlds: str | Sequence[str | World] | None = None) -> list:
    """The world pool: `worlds` as any spec of worlds.registry (names, paths, "suite:NAME",
    "generated:A..B" for the generated worlds of seeds A to B, a list), else just `world`."""
    if worlds is None:
        return [world]
    if isinstance(worlds, str):
        return expand(worlds)
    return [one for w in worlds for one in ([w] if isinstance(w, World) else expand(str(w)))]


def make_vec_env(world: str | World = "lake", n_worlds: int = 64, n_fishers: int = 4, seed: int = 0,
                 reward: str = "eat", worlds: str | Sequence[str | World] | None = None,
                 horizon: int | None = None) -> FisherVecEnv:
    """A batched SB3 VecEnv of n_worlds x n_fishers fisher slots (one shared policy).

    Args:
        world: the world when `worlds` is not given.
        worlds: a pool to train on many worlds at once: a list of names/specs, "suite:NAME",
            or "generated:A..B" (the generated worlds of seeds A to B). Slots cycle through the pool
            each epoch.
        reward: "eat" (the only signal: meal_reward per meal); for the teach-vs-incentivize
            comparison only, "taught" (additive skill rewards) or "shaped[:SCALE]" (potential-based).
    """
    make_reward(reward)  # a bad spelling fails here, naming what is expected
    return FisherVecEnv(resolve_pool(world, worlds), n_worlds=n_worlds, n_fishers=n_fishers, seed=seed,
                        reward=reward, horizon=horizon)
