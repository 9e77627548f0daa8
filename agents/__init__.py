"""Fishers: scripted fishers with known skills, the batched SB3 VecEnv, training and evaluation."""

from __future__ import annotations

from typing import Any

__all__ = ["make_vec_env", "make_scripted"]


def __getattr__(name: str) -> Any:
    if name == "make_vec_env":
        from agents.vec_env import make_vec_env

        return make_vec_env
    if name == "make_scripted":
        from agents.scripted import make_scripted

        return make_scripted
    raise AttributeError(f"module 'agents' has no attribute {name!r}")
