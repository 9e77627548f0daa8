"""The state of B worlds with F fisher slots each, as numpy arrays with a batch axis.

Everything that changes lives here; everything static lives in `WorldBatch`.
Copying a `State` (`copy()`) gives an independent snapshot, which set-up scenes and
determinism tests use. A fresh state for a batch comes from `sim.reset.new_state`.

This module sits low in the core: it imports only the kernels (to hand them its arrays)
and the batch, so the rule modules above it (`sim.tide`, `sim.weather`, `sim.fishers`,
`sim.fish`) may take a `State` without importing one another in a circle.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from operator import attrgetter

import numpy as np

from sim import kernels as K
from sim.batch import WorldBatch

TREND_TICKS = 8  # the barometer trend compares now with this many ticks ago


@dataclass
class State:
    keys: np.ndarray        # (B,) uint64 random key per world
    tick: np.ndarray        # (B,) ticks since the world's reset
    respawn: np.ndarray     # (B,) bool: a starved fisher is replaced (else a cohort)
    weather: np.ndarray     # (B,) hidden weather state index
    next_weather: np.ndarray  # (B,) the state the current one turns into
    change_at: np.ndarray   # (B,) tick of that change
    cue_at: np.ndarray      # (B,) tick from which the cues announce it
    barometer: np.ndarray   # (B,)
    baro_hist: np.ndarray   # (B, TREND_TICKS) ring buffer for the trend
    cloud: np.ndarray       # (B,)
    fish: np.ndarray        # (B, H, W) fish per cell (0 off water)
    row: np.ndarray         # (B, F) fisher position
    col: np.ndarray
    facing: np.ndarray      # (B, F) 0..3, index into terrain.MOVES
    alive: np.ndarray       # (B, F) bool
    hunger: np.ndarray      # (B, F) in [0, 1]
    inventory: np.ndarray   # (B, F) fish carried
    line: np.ndarray        # (B, F) bool: a line is out
    line_row: np.ndarray    # (B, F) where the line lies
    line_col: np.ndarray
    line_age: np.ndarray    # (B, F) ticks since the cast
    bite: np.ndarray        # (B, F) ticks left of a showing bite (0 = none)
    lives: np.ndarray       # (B, F) lives begun in this slot since reset
    lifetime: np.ndarray    # (B, F) ticks of the current life
    meals: np.ndarray       # (B, F) meals in the current life
    catches: np.ndarray     # (B, F) catches in the current life

    @property
    def n_worlds(self) -> int:
        return self.tick.shape[0]

    @property
    def n_fishers(self) -> int:
        return self.row.shape[1]

    def copy(self) -> State:
        return State(**{f.name: getattr(self, f.name).copy() for f in dataclasses.fields(self)})

    def select(self, idx: np.ndarray | list[int]) -> State:
        """The sub-state of some worlds (a copy)."""
        return State(**{f.name: getattr(self, f.name)[idx].copy() for f in dataclasses.fields(self)})

    def arrays(self) -> tuple[np.ndarray, ...]:
        """Every array in field order: how the kernels receive a state (`kernels.StateArrays`)."""
        return _ARRAYS(self)


if tuple(f.name for f in dataclasses.fields(State)) != K.StateArrays._fields:
    raise AssertionError("sim.state: State and kernels.StateArrays must list the same fields in one order")
_ARRAYS = attrgetter(*K.StateArrays._fields)


def at_fishers(arr: np.ndarray, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """arr (B, H, W) read at per-fisher cells (B, F), 0 (False) outside the map."""
    h, w = arr.shape[1:]
    inside = (row >= 0) & (row < h) & (col >= 0) & (col < w)
    b = np.arange(row.shape[0])[:, None]
    flat = (b * h + np.where(inside, row, 0)) * w + np.where(inside, col, 0)
    return np.where(inside, arr.reshape(-1)[flat], 0)


def in_shelter(state: State, batch: WorldBatch) -> np.ndarray:
    """(B, F) bool: which fishers stand in a shelter."""
    return at_fishers(batch.is_shelter, state.row, state.col).astype(bool)
