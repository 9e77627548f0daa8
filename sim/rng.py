"""Counter-based random numbers: the same draws for a world alone or inside any batch.

Each world has a 64-bit key (from its seed). A draw is a hash of (key, stream, tick,
index), so it does not depend on which other worlds share the batch, on the batch
order, or on how many draws other subsystems made. Streams keep subsystems
independent: changing how many bites are drawn never shifts the weather.

`uniform` draws one stream; `uniform_streams` draws several streams of one tick in a
single pass (the step function's hot path) and gives bit-identical values.
"""

from __future__ import annotations

import numpy as np

STREAM_WEATHER, STREAM_BITE, STREAM_SPAWN, STREAM_STORM, STREAM_RESET, STREAM_BAROMETER = range(1, 7)

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijective scramble of 64-bit integers (wrapping arithmetic)."""
    x = x ^ (x >> _S30)
    x = x * _M1
    x = x ^ (x >> _S27)
    x = x * _M2
    return x ^ (x >> _S31)


def _mix_inplace(x: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """`_mix` computed in place in x (uint64), with tmp (same shape) as scratch."""
    np.right_shift(x, _S30, out=tmp)
    np.bitwise_xor(x, tmp, out=x)
    np.multiply(x, _M1, out=x)
    np.right_shift(x, _S27, out=tmp)
    np.bitwise_xor(x, tmp, out=x)
    np.multiply(x, _M2, out=x)
    np.right_shift(x, _S31, out=tmp)
    np.bitwise_xor(x, tmp, out=x)
    return x


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
    return (bits >> _S11).astype(np.float64) * _TO_UNIT


class StreamDraws:
    """The draws of several streams at one tick, for every world, in one pass.

    `layout` is a sequence of (stream, n); `draw(keys, tick)` returns (B, sum of n) uniforms
    whose columns `columns(stream)` equal `uniform(keys, stream, tick, n)` bit for bit.
    Scratch buffers are kept between calls (the batch size is fixed).
    """

    def __init__(self, n_worlds: int, layout: list[tuple[int, int]]):
        self.layout = list(layout)
        streams = np.array([s for s, _ in layout], dtype=np.uint64)
        self.stream_term = streams * _M1  # (S,) wraps like uniform's
        self._col_index = np.concatenate([np.arange(1, n + 1, dtype=np.uint64) * _M2 for _, n in layout])
        self._start = {}
        at = 0
        for s, n in layout:
            self._start[s] = (at, at + n)
            at += n
        self._segments = [(i, slice(*self._start[s])) for i, (s, _) in enumerate(layout)]
        b, s, c = n_worlds, len(layout), at
        self._base = np.empty((b, s), np.uint64)
        self._base_tmp = np.empty((b, s), np.uint64)
        self._bits = np.empty((b, c), np.uint64)
        self._bits_tmp = np.empty((b, c), np.uint64)
        self._out = np.empty((b, c), np.float64)

    def columns(self, stream: int) -> slice:
        return slice(*self._start[stream])

    def draw(self, keys: np.ndarray, tick: np.ndarray) -> np.ndarray:
        base, tmp = self._base, self._base_tmp
        with np.errstate(over="ignore"):
            np.multiply(tick.astype(np.uint64)[:, None], _GOLD, out=base)
            np.add(base, self.stream_term, out=base)
            _mix_inplace(base, tmp)
            np.bitwise_xor(base, keys[:, None], out=base)
            _mix_inplace(base, tmp)
            bits = self._bits
            for i, cols in self._segments:
                np.bitwise_xor(base[:, i:i + 1], self._col_index[cols], out=bits[:, cols])
            _mix_inplace(bits, self._bits_tmp)
            np.right_shift(bits, _S11, out=bits)
        out = self._out
        np.multiply(bits, _TO_UNIT, out=out)  # uint64 < 2**53 converts exactly, as astype does
        return out
