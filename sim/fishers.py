"""What fishers do in a tick: move, cast, reel in, eat; bites; storms; hunger and death.

Actions (one per fisher): 0 wait, 1 north, 2 south, 3 east, 4 west, 5 cast, 6 reel in, 7 eat.
A move toward a cell that cannot be walked on (water, rock) turns the fisher to face it
without moving; any move drops a line that is out.

The rules, phase by phase (only living fishers act, in every phase):

- cast: from a cell fishing is allowed from (not a shelter), with no line out, the line
  lands on the farthest cell, up to cast_reach, of unbroken water ahead; nothing happens
  if the cell ahead is not water.
- reel in: with a line out; a showing bite and room in the bag lands the fish (the fish of
  the line's cell goes down by one at once, never below 0); a bite and a full bag releases
  it; no bite wastes the cast. The line comes in either way.
- eat: with a fish carried; only at hunger >= eat_threshold (else refused), hunger falls
  by meal (not below 0) and the meal pays meal_reward, the only reward there is.
- bites: lines age by one tick; a showing bite counts down and is missed when it runs out
  (no new bite in that tick); a line older than settle with no bite showing gets one with
  probability p_bite * min(fish / density_ref, 2) * the world's bite factor, and it shows
  for bite_window ticks.
- storm: fishers outside a shelter lose their line (p_lose_line) and a carried fish
  (p_lose_fish); sheltered fishers are safe.
- hunger: rises by rate (times storm_multiplier when exposed to a storm), at most 1; at 1
  (within STARVE_TOLERANCE) the fisher starves: the life ends, and in respawning worlds a
  new fisher takes the slot (`sim.state.spawn_slots`).

These phases run compiled, per world and slot, in `kernels.step`; this module holds their
constants and the per-world table (`kernel_table`) the kernel reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import kernels as K
from sim.batch import WorldBatch, per_kind

if TYPE_CHECKING:
    from sim.state import State

WAIT, NORTH, SOUTH, EAST, WEST, CAST, REEL, EAT = range(8)
N_ACTIONS = 8
STARVE_TOLERANCE = 1e-9
ACTION_NAMES = ("wait", "north", "south", "east", "west", "cast", "reel", "eat")


def kernel_table(batch: WorldBatch) -> np.ndarray:
    """The fishers' constants as the kernels read them: one row per kind of world
    (`WorldBatch.kind`), (kinds, kernels.N_F) float64, columns kernels.F_*; built once per batch."""
    table = batch.cache.get("fisher_table")
    if table is None:
        table = batch.cache["fisher_table"] = per_kind(batch, _fisher_rows)
    return table


def _fisher_rows(batch: WorldBatch) -> np.ndarray:
    """The fishers' constants of every world (B, kernels.N_F)."""
    p = batch.p
    table = np.zeros((batch.n, K.N_F))
    for column, values in (
        (K.F_HUNGER_RATE, p.hunger_rate), (K.F_STORM_MULTIPLIER, p.hunger_storm_multiplier),
        (K.F_EAT_THRESHOLD, p.hunger_eat_threshold), (K.F_MEAL, p.hunger_meal),
        (K.F_SPAWN_HUNGER_LOW, p.hunger_spawn[:, 0]), (K.F_SPAWN_HUNGER_HIGH, p.hunger_spawn[:, 1]),
        (K.F_SETTLE, p.fishing_settle), (K.F_BITE_WINDOW, p.fishing_bite_window),
        (K.F_P_BITE, p.fishing_p_bite), (K.F_CAST_REACH, p.fishing_cast_reach),
        (K.F_INVENTORY_MAX, p.fishing_inventory_max), (K.F_SPAWN_INVENTORY, p.fishing_spawn_inventory),
        (K.F_MEAL_REWARD, p.fishing_meal_reward), (K.F_DENSITY_REF, p.fish_density_ref),
        (K.F_P_LOSE_LINE, p.storm_p_lose_line), (K.F_P_LOSE_FISH, p.storm_p_lose_fish),
    ):
        table[:, column] = values
    # a tolerance, so that summing an inexact rate (10 x 0.1) starves on the intended tick
    table[:, K.F_STARVE_AT] = 1.0 - STARVE_TOLERANCE
    return table


def padded_map(batch: WorldBatch) -> np.ndarray:
    """(kinds, H + 2 pad, W + 2 pad) uint8 bits kernels.M_*: walkable, water, fishable from,
    shelter, with `pad` cells of nothing around every map (pad >= the longest cast), so that no
    move or cast looks outside it."""
    grid = batch.cache.get("fisher_map")
    if grid is None:
        pad = max(1, int(batch.p.fishing_cast_reach.max()))
        grid = batch.cache["fisher_map"] = per_kind(batch, lambda b: _map_rows(b, pad))
    return grid


def _map_rows(batch: WorldBatch, pad: int) -> np.ndarray:
    h, w = batch.height, batch.width
    grid = np.zeros((batch.n, h + 2 * pad, w + 2 * pad), dtype=np.uint8)
    grid[:, pad:pad + h, pad:pad + w] = (batch.walkable * K.M_WALKABLE + batch.water * K.M_WATER
                                         + batch.fishable_from * K.M_FISHABLE_FROM
                                         + batch.is_shelter * K.M_SHELTER)
    return grid


def spawn_tables(batch: WorldBatch) -> tuple[np.ndarray, np.ndarray]:
    """Spawn cells (kinds, n) and their counts (kinds,) per kind of world (`WorldBatch.spawn_cells`)."""
    tables = batch.cache.get("spawn")
    if tables is None:
        width = max(batch.spawn_cells.shape[1],
                    0 if batch.variants is None else batch.variants.spawn_cells.shape[1])

        def cells(b: WorldBatch) -> np.ndarray:  # padded by repeating the first cell (never drawn)
            missing = width - b.spawn_cells.shape[1]
            return np.concatenate([b.spawn_cells, np.repeat(b.spawn_cells[:, :1], missing, axis=1)], axis=1)

        tables = batch.cache["spawn"] = (per_kind(batch, cells), per_kind(batch, lambda b: b.spawn_count))
    return tables


def _flat(batch: WorldBatch, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """Flat index into (B, H, W) arrays for per-fisher cells (B, F)."""
    b = np.arange(row.shape[0])[:, None]
    return (b * batch.height + row) * batch.width + col


def _inside(batch: WorldBatch, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    return (row >= 0) & (row < batch.height) & (col >= 0) & (col < batch.width)


def _cell(arr: np.ndarray, batch: WorldBatch, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """arr (B, H, W) read at per-fisher cells, False/0 outside the map."""
    ok = _inside(batch, row, col)
    flat = _flat(batch, np.where(ok, row, 0), np.where(ok, col, 0))
    return np.where(ok, arr.reshape(-1)[flat], 0)


def in_shelter(state: State, batch: WorldBatch) -> np.ndarray:
    return _cell(batch.is_shelter, batch, state.row, state.col).astype(bool)
