"""Fishers: scripted fishers with known skills, the batched SB3 VecEnv, training and evaluation."""

from __future__ import annotations

import os
from typing import Any

# The one place torch's OpenMP waits are set: before any import of torch, which is reached only
# through this package (analysis, experiments, app and benchmarks import it first); spawned study
# workers inherit them. With libgomp's default (a worker spins about 3 ms after each parallel op)
# or ACTIVE, torch's spinning workers starved the numpy simulation (PPO fell from 35k to 3.9k
# samples/s, PROTOTYPE.md). With PASSIVE alone the worker sleeps after every op and waking it costs
# more than a small op gains: two threads trained slower than one. GOMP_SPINCOUNT (libgomp, which
# torch's Linux wheels use) bounds the spin to about 0.1-1 ms: long enough to bridge the update's
# back-to-back ops, short enough to sleep through the simulation's step (benchmarks/README.md,
# "Training throughput"). libgomp throttles the spin further when it runs more threads than CPUs.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GOMP_SPINCOUNT", "100000")

__all__ = ["make_vec_env", "make_scripted"]


def __getattr__(name: str) -> Any:
    if name == "make_vec_env":
        from agents.vec_env import make_vec_env

        return make_vec_env
    if name == "make_scripted":
        from agents.scripted import make_scripted

        return make_scripted
    raise AttributeError(f"module 'agents' has no attribute {name!r}")
