"""The state of B worlds with F fisher slots each, as numpy arrays with a batch axis.

Everything that changes lives here; everything static lives in `WorldBatch`.
Copying a `State` (`copy()`) gives an independent snapshot, which set-up scenes and
determinism tests use.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from sim import fishers as FS
from sim import kernels as K
from sim import rng, tide
from sim import weather as W
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


def new_state(batch: WorldBatch, n_fishers: int, seeds: list[int] | np.ndarray,
              respawn: bool | np.ndarray = True) -> State:
    """A fresh state for every world in the batch, each reset with its own seed."""
    b, h, w = batch.n, batch.height, batch.width
    f = n_fishers
    if n_fishers < 1:
        raise ValueError(f"n_fishers: expected an integer >= 1, got {n_fishers}")
    if len(seeds) != b:
        raise ValueError(f"seeds: expected one seed per world ({b}), got {len(seeds)}")
    zi = lambda *s: np.zeros(s, dtype=np.int64)  # noqa: E731
    state = State(
        keys=np.zeros(b, np.uint64), tick=zi(b), respawn=np.broadcast_to(respawn, (b,)).copy(),
        weather=zi(b), next_weather=zi(b), change_at=zi(b), cue_at=zi(b),
        barometer=np.zeros(b), baro_hist=np.zeros((b, TREND_TICKS)), cloud=np.zeros(b),
        fish=np.zeros((b, h, w)),
        row=zi(b, f), col=zi(b, f), facing=zi(b, f), alive=np.zeros((b, f), bool),
        hunger=np.zeros((b, f)), inventory=zi(b, f), line=np.zeros((b, f), bool),
        line_row=zi(b, f), line_col=zi(b, f), line_age=zi(b, f), bite=zi(b, f),
        lives=zi(b, f), lifetime=zi(b, f), meals=zi(b, f), catches=zi(b, f),
    )
    reset_worlds(state, batch, np.arange(b), seeds)
    return state


def reset_worlds(state: State, batch: WorldBatch, idx: np.ndarray, seeds: list[int] | np.ndarray) -> None:
    """Reset the worlds `idx` in place from their seeds; other worlds are untouched."""
    idx = np.asarray(idx, dtype=np.int64)
    if idx.size == 0:
        return
    state.keys[idx] = rng.world_keys(seeds)
    state.tick[idx] = 0
    tide.sync(state, batch)  # an episode starts at high tide
    state.fish[idx] = batch.capacity[idx]
    W.reset_weather(state, batch, idx)
    everyone = np.zeros((state.n_worlds, state.n_fishers), bool)
    everyone[idx] = True
    state.lives[idx] = 0
    spawn_fishers(state, batch, everyone, rng.STREAM_RESET)


def spawn_fishers(state: State, batch: WorldBatch, mask: np.ndarray, stream: int) -> None:
    """Start a new life in every slot where mask (B, F) is set: a spawn cell, some hunger, a fish."""
    slots = np.flatnonzero(mask)
    if slots.size == 0:
        return
    f = state.n_fishers
    u = rng.uniform(state.keys, stream, state.tick, 3 * f).reshape(-1, 3)
    spawn_slots(state, batch, slots, u[slots])


def spawn_slots(state: State, batch: WorldBatch, slots: np.ndarray, u: np.ndarray) -> None:
    """Start a new life in the flat slots (indices into B * F) with their three uniforms u (n, 3).

    Slot f of a world uses the draws 3f, 3f + 1, 3f + 2 of its stream and tick: the spawn
    cell (uniform over the world's spawn cells), the hunger (uniform in hunger.spawn) and the
    facing. The new fisher carries fishing.spawn_inventory fish; its line, bite and the
    life's counters start at 0, and the slot's count of lives goes up by one
    (`kernels._spawn`, which the step function also uses for respawns).
    """
    slots = np.ascontiguousarray(slots, dtype=np.int64)
    tide.sync(state, batch)
    cells, counts = FS.spawn_tables(batch)
    K.spawn_slots(slots, np.ascontiguousarray(u, dtype=np.float64), batch.kind, FS.kernel_table(batch), cells,
                  counts, batch.width, state.row, state.col, state.facing, state.hunger,
                  state.inventory, state.alive, state.lives, state.line, state.line_age, state.bite,
                  state.lifetime, state.meals, state.catches, state.line_row, state.line_col)
