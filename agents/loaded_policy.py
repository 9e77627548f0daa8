"""A trained policy network as a fisher (agents.policies.load_policy returns one)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from agents.policy_network import is_recurrent
from sim.policy import BasePolicy

if TYPE_CHECKING:
    import torch as th


# --- the loaded policy -------------------------------------------------------------------------------------

class LoadedPolicy(BasePolicy):
    """A trained SB3 policy network as a fisher: `act(obs (N, OBS_SIZE)) -> (N,) int64` actions.

    Deterministic (the most likely action) by default; with `deterministic=False` actions are
    sampled from the policy's distribution with this object's own numpy generator (seeded by
    `seed`, reseeded by `reset(seed=...)`), so runs repeat exactly and torch's global RNG is
    left alone. Recurrent policies keep (h, c) per slot; see the module docstring for
    episode starts.
    """

    def __init__(self, policy, name: str, info: dict[str, Any], deterministic: bool = True, seed: int = 0):
        self.policy = policy
        self.name = name
        self.info = info
        self.deterministic = bool(deterministic)
        self.seed = int(seed)
        self.recurrent = is_recurrent(policy)
        self.rng = np.random.default_rng(self.seed)
        self._state: tuple[th.Tensor, th.Tensor] | None = None
        self._pending: np.ndarray | None = None
        self._lives: np.ndarray | None = None

    def __repr__(self) -> str:
        mode = "deterministic" if self.deterministic else "stochastic"
        return f"LoadedPolicy({self.name!r}, {self.info.get('algo')}, {mode})"

    def reset(self, seed: int | None = None) -> None:
        """Forget every slot's LSTM state and restart the sampling generator (from `seed` if given)."""
        self._state = None
        self._pending = None
        self._lives = None
        self.rng = np.random.default_rng(self.seed if seed is None else seed)

    def new_lives(self, lives: np.ndarray) -> None:
        """Tell the policy each slot's count of lives (sim.state.lives, (B, F) or flat) after a step.

        Slots whose count changed since the last call (every slot starts with 1 life) begin a new
        episode at the next `act`: their LSTM state is cleared, as in training, where a death
        ends a slot's episode. A no-op for memoryless policies.
        """
        lives = np.asarray(lives).reshape(-1)
        prev = self._lives
        if prev is None or prev.shape != lives.shape:
            prev = np.ones_like(lives)
        changed = lives != prev
        self._lives = lives.copy()
        if changed.any():
            self._pending = changed if self._pending is None or self._pending.shape != changed.shape \
                else (self._pending | changed)

    def act(self, obs: np.ndarray, episode_start: np.ndarray | None = None) -> np.ndarray:
        """Actions for a batch of observations: (N, OBS_SIZE) float32 -> (N,) int64.

        episode_start: optional (N,) bool, slots whose fisher is new since the last call (their
        LSTM state is cleared first); ignored by memoryless policies.
        """
        import torch as th  # deferred: heavy at start-up

        obs = np.asarray(obs, dtype=np.float32)
        obs = obs.reshape(-1, obs.shape[-1]) if obs.ndim != 2 else obs
        expected = self.policy.observation_space.shape[0]
        if obs.shape[-1] != expected:
            raise ValueError(f"act: expected observations of shape (N, {expected}), got {obs.shape}")
        n = obs.shape[0]
        with th.no_grad():
            obs_t = th.as_tensor(obs)
            if self.recurrent:
                starts = np.zeros(n, dtype=bool)
                if self._state is None or self._state[0].shape[1] != n:
                    shape = (self.policy.lstm_actor.num_layers, n, self.policy.lstm_actor.hidden_size)
                    self._state = (th.zeros(shape), th.zeros(shape))
                    starts[:] = True
                if self._pending is not None and self._pending.shape == (n,):
                    starts |= self._pending
                self._pending = None
                if episode_start is not None:
                    starts |= np.asarray(episode_start, dtype=bool).reshape(n)
                dist, self._state = self.policy.get_distribution(
                    obs_t, self._state, th.as_tensor(starts.astype(np.float32)))
            else:
                dist = self.policy.get_distribution(obs_t)
            if self.deterministic:
                return dist.get_actions(deterministic=True).cpu().numpy().astype(np.int64).reshape(n)
            probs = dist.distribution.probs.cpu().numpy().astype(np.float64)
        cdf = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
        u = self.rng.random(n)
        return np.minimum((u[:, None] >= cdf).sum(axis=1), probs.shape[1] - 1).astype(np.int64)
