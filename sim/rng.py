"""Counter-based random numbers: the same draws for a world alone or inside any batch.

Each world has a 64-bit key (from its seed). A draw is a hash of (key, stream, tick,
index), so it does not depend on which other worlds share the batch, on the batch
order, or on how many draws other subsystems made. Streams keep subsystems
independent: changing how many bites are drawn never shifts the weather.
"""

from __future__ import annotations

import numpy as np

STREAM_WEATHER, STREAM_BITE, STREAM_SPAWN, STREAM_STORM, STREAM_RESET, STREAM_BAROMETER = range(1, 7)

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijective scramble of 64-bit integers (wrapping arithmetic)."""
    x = x ^ (x >> _S30)
    x = x * _M1
    x = x ^ (x >> _S27)
    x = x * _M2
    return x ^ (x >> _S31)


def world_keys(seeds: np.ndarray | list[int]) -> np.ndarray:
    """One 64-bit key per world, from its integer seed (via numpy's SeedSequence)."""
    return np.array([np.random.SeedSequence(int(s)).generate_state(1, np.uint64)[0] for s in seeds],
                    dtype=np.uint64)


def uniform(keys: np.ndarray, stream: int, tick: np.ndarray, n: int) -> np.ndarray:
    """Uniform [0, 1) draws of shape (B, n): world b's draws depend on keys[b] and tick[b] only."""
    with np.errstate(over="ignore"):
        base = _mix(keys ^ _mix(tick.astype(np.uint64) * _GOLD + np.uint64(stream) * _M1))
        idx = np.arange(1, n + 1, dtype=np.uint64) * _M2
        bits = _mix(base[:, None] ^ idx[None, :])
    return (bits >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
