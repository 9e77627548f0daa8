"""Counter-based random numbers: the same draws for a world alone or inside any batch.

Each world has a 64-bit key (from its seed). A draw is a hash of (key, stream, tick,
index), so it does not depend on which other worlds share the batch, on the batch
order, or on how many draws other subsystems made. Streams keep subsystems
independent: changing how many bites are drawn never shifts the weather.

The hash (splitmix64) is `kernels.stream_base` and `kernels.draw`: `uniform` below and the
compiled step function draw through the same code. Draw i of a stream at a tick is
mix(base ^ ((i + 1) * M2)) >> 11, scaled to [0, 1) by 2**-53, with
base = mix(key ^ mix(tick * GOLD + stream * M1)) (wrapping 64-bit arithmetic).
"""

from __future__ import annotations

import numpy as np

from sim import kernels as K

STREAM_WEATHER, STREAM_BITE, STREAM_SPAWN, STREAM_STORM, STREAM_RESET, STREAM_BAROMETER = range(1, 7)


def world_keys(seeds: np.ndarray | list[int]) -> np.ndarray:
    """One 64-bit key per world, from its integer seed (via numpy's SeedSequence)."""
    return np.array([np.random.SeedSequence(int(s)).generate_state(1, np.uint64)[0] for s in seeds],
                    dtype=np.uint64)


def uniform(keys: np.ndarray, stream: int, tick: np.ndarray, n: int) -> np.ndarray:
    """Uniform [0, 1) draws of shape (B, n): world b's draws depend on keys[b] and tick[b] only."""
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    tick = np.ascontiguousarray(np.broadcast_to(tick, keys.shape), dtype=np.int64)
    out = np.empty((keys.shape[0], n))
    K.uniform(keys, int(stream), tick, out)
    return out
