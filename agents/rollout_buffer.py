"""`FlatRolloutBuffer`: SB3's PPO RolloutBuffer without its copies of the observations.

SB3's `RolloutBuffer` allocates fresh zeroed arrays at every rollout and, before the update,
copies every array into env-major order (`swap_and_flatten`); each minibatch is then gathered
and copied once more by `th.tensor`. With 417 float32 values per observation, these copies and
the page faults of the fresh arrays cost about as much as a whole epoch of the network's update
at 65k samples a rollout (benchmarks/README.md, "Training throughput").

This buffer is a drop-in `rollout_buffer_class` for SB3's PPO (the algorithm is unchanged):

- its arrays are allocated once and reused (add() writes every position of a rollout and
  compute_returns_and_advantage() every advantage, so no zeroing is needed);
- the update reads flat views of the (n_steps, n_envs) arrays: a minibatch is a random
  permutation's slice either way, so the order of the flattened samples does not matter
  (SB3's env-major order exists for its recurrent buffers' sequences, which this is not);
- a minibatch is gathered once (numpy fancy indexing) and handed to torch without a copy.

It draws the permutation from numpy's global RNG as SB3's does, so a seeded run is reproducible
and a resumed run continues exactly (agents.checkpoints saves that RNG). Samples are the same
set in a different order than SB3's buffer gives, so weights differ from a run with SB3's buffer.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import torch as th
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.type_aliases import RolloutBufferSamples
from stable_baselines3.common.vec_env import VecNormalize

_FIELDS = ("observations", "actions", "values", "log_probs", "advantages", "returns")


class FlatRolloutBuffer(RolloutBuffer):
    """A RolloutBuffer that reuses its arrays and never reorders them (see the module docstring)."""

    def reset(self) -> None:
        if getattr(self, "_allocated", False):
            self.pos, self.full, self.generator_ready = 0, False, False
            return
        super().reset()  # the first time: SB3's arrays, with SB3's dtypes
        self._allocated = True

    def add(self, obs: np.ndarray, action: np.ndarray, reward: np.ndarray, episode_start: np.ndarray,
            value: th.Tensor, log_prob: th.Tensor) -> None:
        """As SB3's add, writing straight into the arrays (SB3 makes a temporary copy of each)."""
        self.observations[self.pos] = obs
        self.actions[self.pos] = action.reshape((self.n_envs, self.action_dim))
        self.rewards[self.pos] = reward
        self.episode_starts[self.pos] = episode_start
        self.values[self.pos] = value.detach().reshape(-1).numpy()
        self.log_probs[self.pos] = log_prob.detach().reshape(-1).numpy()
        self.pos += 1
        if self.pos == self.buffer_size:
            self.full = True

    def _flat(self, name: str) -> np.ndarray:
        arr = self.__dict__[name]
        return arr.reshape(self.buffer_size * self.n_envs, *arr.shape[2:])  # a view: arrays are contiguous

    def get(self, batch_size: int | None = None) -> Generator[RolloutBufferSamples, None, None]:
        assert self.full, "the rollout is not complete"
        total = self.buffer_size * self.n_envs
        indices = np.random.permutation(total)  # noqa: NPY002  (SB3's RNG: seeded and checkpointed)
        self._views = {name: self._flat(name) for name in _FIELDS}
        self.generator_ready = True
        batch_size = batch_size or total
        for start in range(0, total, batch_size):
            yield self._get_samples(indices[start:start + batch_size])

    def _get_samples(self, batch_inds: np.ndarray, env: VecNormalize | None = None) -> RolloutBufferSamples:
        v = self._views
        data = (v["observations"][batch_inds], v["actions"][batch_inds].astype(np.float32),
                v["values"][batch_inds], v["log_probs"][batch_inds], v["advantages"][batch_inds],
                v["returns"][batch_inds])
        if self.device.type != "cpu":
            return RolloutBufferSamples(*(self.to_torch(d) for d in data))
        return RolloutBufferSamples(*(th.from_numpy(d) for d in data))  # fresh gathers: no copy needed
