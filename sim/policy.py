"""What a fisher's policy is: the one interface every runner calls (`Policy`), and `as_policy`.

A policy maps a batch of observations to actions. Runners (agents.rollout.run_policy, the Mesa
model, the probes' scenes, the main job) own the loop, so they, not their callers, make the
calls a policy with memory needs: `reset(seed)` before a rollout and `new_lives(lives)` after
every step, so that a newcomer in a slot never inherits its predecessor's memory (a caller that
forgot gave a new LSTM fisher the dead one's state). Before its first step a runner also hands
the policy the `Simulation` it will act in, through `bind_policy` (the one place that calls
`bind(sim)`): a policy that reads its world's rules (a scripted fisher: the cast reach, whether
ripples show, the weather cues, its tuned parameters; the oracle: the hidden state) reads them
there, for every observation row (ordered world, fisher). `BasePolicy` does nothing for
`reset`, `new_lives` and `bind`, so a memoryless policy implements `act` only; `as_policy`
wraps a bare callable or an object lacking any of them in the same interface.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Policy(Protocol):
    """A fisher: `act` (N, OBS_SIZE) float32 observations -> (N,) actions; `bind`, `reset` and
    `new_lives` are called by the runner (module docstring)."""

    def act(self, obs: np.ndarray) -> np.ndarray: ...

    def reset(self, seed: int | None = None) -> None: ...

    def new_lives(self, lives: np.ndarray) -> None: ...

    def bind(self, sim: Any) -> None: ...


class BasePolicy:
    """A policy without memory that reads nothing of its world: `reset`, `new_lives` and `bind` do
    nothing; subclasses implement `act`."""

    name = "policy"

    def act(self, obs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def reset(self, seed: int | None = None) -> None:
        """Start afresh (a policy with a random generator reseeds it here)."""

    def new_lives(self, lives: np.ndarray) -> None:
        """Each slot's count of lives after a step (sim.state.lives); a memoryless policy ignores it."""

    def bind(self, sim: Any) -> None:
        """The Simulation it is about to act in (sim.core.Simulation); a policy that reads nothing of
        its world ignores it."""


class _Adapted(BasePolicy):
    """An object with `act` (or a callable) that lacks `reset`, `new_lives` or `bind`, given them
    (the inner object's own methods are called where it has them)."""

    def __init__(self, inner: Any, act: Callable[[np.ndarray], np.ndarray]):
        self.inner, self._act = inner, act
        self.name = str(getattr(inner, "name", getattr(inner, "__name__", type(inner).__name__)))

    def act(self, obs: np.ndarray) -> np.ndarray:
        return self._act(obs)

    def reset(self, seed: int | None = None) -> None:
        if callable(getattr(self.inner, "reset", None)):
            reset_policy(self.inner, seed)

    def new_lives(self, lives: np.ndarray) -> None:
        if callable(getattr(self.inner, "new_lives", None)):
            self.inner.new_lives(lives)

    def bind(self, sim: Any) -> None:
        if callable(getattr(self.inner, "bind", None)):
            self.inner.bind(sim)

    def __repr__(self) -> str:
        return f"as_policy({self.inner!r})"


def accepts_seed(fn: object) -> bool:
    """Whether a reset (or any callable) takes a `seed` keyword."""
    if not callable(fn):
        return False
    try:
        return "seed" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def as_policy(policy: object) -> Policy:
    """`policy` itself when it has act, reset, new_lives and bind; else wrapped so that it does.

    Raises TypeError for something that cannot act (neither `.act` nor callable)."""
    act = getattr(policy, "act", None)
    if callable(act):
        if all(callable(getattr(policy, m, None)) for m in ("reset", "new_lives", "bind")):
            return policy  # type: ignore[return-value]
        return _Adapted(policy, act)
    if callable(policy):
        return _Adapted(policy, policy)  # type: ignore[arg-type]
    raise TypeError(f"policy: expected an object with .act(obs) or a callable obs -> actions, "
                    f"got {type(policy).__name__}")


def reset_policy(policy: Policy, seed: int | None) -> None:
    """`policy.reset(seed=seed)`, or `reset()` for a reset that takes no seed."""
    if accepts_seed(policy.reset):
        policy.reset(seed=seed)
    else:
        policy.reset()


def bind_policy(policy: object, sim: Any) -> Policy:
    """`as_policy(policy)`, told of the Simulation it is about to act in (`bind(sim)`): what every
    runner calls once before its first step (module docstring). Binding reads rules and sizes
    per-row memory; it leaves the random generator alone (`reset_policy` seeds it)."""
    policy = as_policy(policy)
    policy.bind(sim)
    return policy
