"""Fishers: scripted fishers with known skills, the batched SB3 VecEnv, training and evaluation."""

from __future__ import annotations

import os
from typing import Any

# The one place OMP_WAIT_POLICY is set: before any import of torch, which is reached only through
# this package (analysis, experiments, app and benchmarks import it first). With the default
# policy torch's spinning OpenMP workers starve the numpy simulation on 2 threads (PPO fell from
# 35k to 3.9k samples/s, PROTOTYPE.md); spawned study workers inherit it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__all__ = ["make_vec_env", "make_scripted"]


def __getattr__(name: str) -> Any:
    if name == "make_vec_env":
        from agents.vec_env import make_vec_env

        return make_vec_env
    if name == "make_scripted":
        from agents.scripted import make_scripted

        return make_scripted
    raise AttributeError(f"module 'agents' has no attribute {name!r}")
