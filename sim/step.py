"""The one step function: every view of the world (PettingZoo, Gymnasium, the SB3 VecEnv,
the Mesa model, the recorder, playback) advances the world only through `step`.

Order of phases in a tick, and why:
1. weather: the sky of this tick is what fishers act under;
2. actions: moves, casts, reeling in, eating (eating is the only source of reward);
3. bites: lines age, showing bites count down (missed), new bites are drawn;
4. storm: exposed fishers may lose their line or a fish; sheltered ones are safe;
5. fish: movement and regrowth (after catches, so a catch is felt at once);
6. hunger: rises, faster in a storm outside; at 1 the fisher starves, and in
   respawning worlds a new fisher takes the slot;
7. tide (tidal worlds only, `sim.tide`): when the new tick turns the tide, the flats
   flood or fall dry, and what stood or lay on them moves or is lost.

The rules of each phase are described in `sim.weather`, `sim.fishers` and `sim.fish`; the
tick runs compiled in `kernels.step`, one world after the other (a world never reads
another's data). A random draw depends only on (world key, stream, tick, index)
(`sim.rng`), so it is drawn where it is needed: which draws go unused changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import fish as FI
from sim import fishers as FS
from sim import kernels as K
from sim import rng, tide
from sim import weather as W
from sim.batch import WorldBatch
from sim.events import BIT
from sim.state import State
from sim.terrain import MOVES


@dataclass
class StepResult:
    reward: np.ndarray      # (B, F) float32: meal_reward per meal, 0 otherwise
    events: np.ndarray      # (B, F) int64 bit masks (sim.events)
    starved: np.ndarray     # (B, F) bool: a life ended this tick
    final_meals: np.ndarray     # (B, F) meals of the life that ended (0 elsewhere)
    final_catches: np.ndarray   # (B, F)
    final_lifetime: np.ndarray  # (B, F)


def kernel_codes() -> np.ndarray:
    """The rule modules' codes (streams, weather states, actions, event bits) as the kernels
    read them: int64, positions kernels.C_*."""
    codes = np.zeros(K.N_CODES, dtype=np.int64)
    for at, value in (
        (K.C_STREAM_WEATHER, rng.STREAM_WEATHER), (K.C_STREAM_BITE, rng.STREAM_BITE),
        (K.C_STREAM_STORM, rng.STREAM_STORM), (K.C_STREAM_SPAWN, rng.STREAM_SPAWN),
        (K.C_RAIN, W.RAIN), (K.C_STORM, W.STORM),
        (K.C_NORTH, FS.NORTH), (K.C_WEST, FS.WEST), (K.C_CAST, FS.CAST), (K.C_REEL, FS.REEL),
        (K.C_EAT, FS.EAT), (K.C_N_ACTIONS, FS.N_ACTIONS),
    ):
        codes[at] = value
    kernel_events = {name[5:].lower() for name in dir(K) if name.startswith("C_EV_")}
    if kernel_events != set(BIT):
        raise AssertionError(f"kernels and sim.events disagree on the events: {kernel_events ^ set(BIT)}")
    for name in BIT:
        codes[getattr(K, f"C_EV_{name.upper()}")] = BIT[name]
    return codes


# the moves are the actions NORTH..WEST in the order of terrain.MOVES (direction = action - NORTH)
if (FS.SOUTH, FS.EAST, FS.WEST) != (FS.NORTH + 1, FS.NORTH + 2, FS.NORTH + 3) or len(MOVES) != 4:
    raise AssertionError("sim.step: the move actions and terrain.MOVES disagree")
_CODES = kernel_codes()


class _StepTables:
    """A batch's tables and scratch for `kernels.step` (built on first use, then cached)."""

    def __init__(self, batch: WorldBatch):
        lay = FI._layout(batch)
        self.static = (_CODES, MOVES, batch.kind, W.kernel_table(batch), FS.kernel_table(batch), lay.world,
                       lay.fields, lay.box, FS.padded_map(batch), *FS.spawn_tables(batch), lay.scratch)
        self.senses = np.zeros((batch.n, K.N_K))


def _tables(batch: WorldBatch) -> _StepTables:
    tables = batch.cache.get("step")
    if tables is None:
        tables = batch.cache["step"] = _StepTables(batch)
    return tables


def step(state: State, batch: WorldBatch, actions: np.ndarray) -> StepResult:
    """Advance every world of the batch one tick, in place. actions: (B, F) ints in [0, 8)."""
    b, f = state.n_worlds, state.n_fishers
    act = np.asarray(actions)
    if act.dtype.kind not in "iu":
        raise ValueError(f"actions: expected integers in [0, {FS.N_ACTIONS}), got {act.dtype}")
    act = np.ascontiguousarray(act.reshape(b, f), dtype=np.int64)
    t = _tables(batch)
    s = state
    tide.sync(s, batch)
    shape = (b, f)
    result = StepResult(reward=np.empty(shape, np.float32), events=np.empty(shape, np.int64),
                        starved=np.empty(shape, bool), final_meals=np.empty(shape, np.int64),
                        final_catches=np.empty(shape, np.int64), final_lifetime=np.empty(shape, np.int64))
    err = K.step(act, *t.static, s.keys, s.tick, s.respawn, s.weather, s.next_weather, s.change_at, s.cue_at,
                 s.barometer, s.baro_hist, s.cloud, s.fish, s.row, s.col, s.facing, s.alive, s.hunger,
                 s.inventory, s.line, s.line_row, s.line_col, s.line_age, s.bite, s.lives, s.lifetime,
                 s.meals, s.catches, t.senses, result.reward, result.events, result.starved,
                 result.final_meals, result.final_catches, result.final_lifetime)
    if err:
        if act.size and (act.min() < 0 or act.max() >= FS.N_ACTIONS):
            raise ValueError(f"actions: expected integers in [0, {FS.N_ACTIONS}), got {act.dtype} "
                             f"in [{act.min()}, {act.max()}]")
        raise ValueError("state: a fisher stands off the map (row, col outside the world)")
    turned = tide.sync(s, batch)
    if turned is not None and turned.any():
        tide.turn(s, batch, turned, result.events)
    return result
