"""The hungry fisher's simulation core and its views.

`sim.core.Simulation` steps a batch of worlds (numpy only). `make_env` and
`make_gym_env` are the PettingZoo and Gymnasium views; `FisherModel` is the Mesa view.
They are imported lazily so the core never pulls in a framework.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Simulation", "make_env", "make_gym_env", "FisherModel"]


def __getattr__(name: str) -> Any:
    if name == "Simulation":
        from sim.core import Simulation

        return Simulation
    if name in ("make_env", "make_gym_env"):
        from sim import env

        return getattr(env, name)
    if name == "FisherModel":
        from sim.model import FisherModel

        return FisherModel
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
