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

The rules of each phase are described in `sim.weather`, `sim.fishers` and `sim.fish`.
Phases 1-6 run compiled in `kernels.step`, one helper per phase, each over every world in
turn: `_sky` (1), `_actions` (2), `_bites` (3), `_storm` (4), `_fish` (5), `_hunger` (6);
a world never reads another's data, so this computes what world by world would. The tide
(7) runs here, in numpy. A random draw depends only on (world key, stream, tick, index)
(`sim.rng`), so it is drawn where it is needed: which draws go unused changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from sim import fish as FI
from sim import fishers as FS
from sim import kernels as K
from sim import rng, tide
from sim import weather as W
from sim.batch import WorldBatch, records
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


if tuple(f.name for f in fields(StepResult)) != K.StepOut._fields:
    raise AssertionError("sim.step: StepResult and kernels.StepOut must list the same fields in one order")


def kernel_codes() -> np.ndarray:
    """The rule modules' codes (streams, weather states, actions, event bits ``ev_<event>``) as
    the kernels read them: one record of int64 fields."""
    codes = {
        "stream_weather": rng.STREAM_WEATHER, "stream_bite": rng.STREAM_BITE,
        "stream_storm": rng.STREAM_STORM, "stream_spawn": rng.STREAM_SPAWN,
        "rain": W.RAIN, "storm": W.STORM,
        "north": FS.NORTH, "west": FS.WEST, "cast": FS.CAST, "reel": FS.REEL, "eat": FS.EAT,
        "n_actions": FS.N_ACTIONS,
        **{f"ev_{name}": bit for name, bit in BIT.items()},
    }
    return records({name: np.array([value], dtype=np.int64) for name, value in codes.items()})


# the moves are the actions NORTH..WEST in the order of terrain.MOVES (direction = action - NORTH)
if (FS.SOUTH, FS.EAST, FS.WEST) != (FS.NORTH + 1, FS.NORTH + 2, FS.NORTH + 3) or len(MOVES) != 4:
    raise AssertionError("sim.step: the move actions and terrain.MOVES disagree")
_CODES = kernel_codes()


def _tables(batch: WorldBatch) -> tuple[np.ndarray, ...]:
    """A batch's `kernels.StepTables`, as the plain tuple the kernel takes (built on first use)."""
    tables = batch.cache.get("step")
    if tables is None:
        box = FI.water_box(batch)
        cells, counts = FS.spawn_tables(batch)
        tables = batch.cache["step"] = tuple(K.StepTables(
            codes=_CODES, moves=MOVES, kind=batch.kind, weather=W.kernel_table(batch),
            fishers=FS.kernel_table(batch), fish=FI.kernel_table(batch), fish_cells=FI.cell_table(batch),
            box=box.corner,
            pmap=FS.padded_map(batch), spawn_cells=cells, spawn_count=counts, scratch=box.scratch,
            senses=np.zeros(batch.n, dtype=K.SENSES)))
    return tables


def step(state: State, batch: WorldBatch, actions: np.ndarray) -> StepResult:
    """Advance every world of the batch one tick, in place. actions: (B, F) ints in [0, 8)."""
    b, f = state.n_worlds, state.n_fishers
    act = np.asarray(actions)
    if act.dtype.kind not in "iu":
        raise ValueError(f"actions: expected integers in [0, {FS.N_ACTIONS}), got {act.dtype}")
    act = np.ascontiguousarray(act.reshape(b, f), dtype=np.int64)
    tables = _tables(batch)
    tide.sync(state, batch)
    shape = (b, f)
    out = (np.empty(shape, np.float32), np.empty(shape, np.int64), np.empty(shape, bool),
           np.empty(shape, np.int64), np.empty(shape, np.int64), np.empty(shape, np.int64))
    if K.step(act, tables, state.arrays(), out):
        if act.size and (act.min() < 0 or act.max() >= FS.N_ACTIONS):
            raise ValueError(f"actions: expected integers in [0, {FS.N_ACTIONS}), got {act.dtype} "
                             f"in [{act.min()}, {act.max()}]")
        raise ValueError("state: a fisher stands off the map (row, col outside the world)")
    result = StepResult(*out)
    turned = tide.sync(state, batch)
    if turned is not None and turned.any():
        tide.turn(state, batch, turned, result.events)
    return result
