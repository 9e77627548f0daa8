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
  for bite_window ticks. The chance falls by a factor e every wary_ticks the line has
  waited past settle, when wary_ticks > 0 (fish grow wary of a still line; a new cast is
  fresh). A settled line that gets no bite spooks the fish under it (spook of them swim to
  the water beside it that tick), so a spot fished without a bite goes quiet.
- storm: fishers outside a shelter lose their line (p_lose_line) and a carried fish
  (p_lose_fish); sheltered fishers are safe. In the squall ahead of a storm (its last
  squall_ticks ticks before it breaks, announced only by the cues) a fisher outside a shelter
  loses its line and every fish it carries, and its hunger rises squall_multiplier times faster.
- hunger: rises by rate (times storm_multiplier when exposed to a storm), at most 1; at 1
  (within STARVE_TOLERANCE) the fisher starves: the life ends, and in respawning worlds a
  new fisher takes the slot (`spawn_slots`).

These phases run compiled, per world and slot, in `kernels.step`; this module holds their
constants, the tables the kernel reads (`kernel_table`: named fields from the world's
parameters; the map's bits; the spawn cells) and starts new lives (`spawn_slots`).
"""

from __future__ import annotations

import numpy as np

from sim import kernels as K
from sim import rng, tide
from sim.batch import WorldBatch, kind_table, per_kind
from sim.state import State

WAIT, NORTH, SOUTH, EAST, WEST, CAST, REEL, EAT = range(8)
N_ACTIONS = 8
STARVE_TOLERANCE = 1e-9
ACTION_NAMES = ("wait", "north", "south", "east", "west", "cast", "reel", "eat")


def kernel_table(batch: WorldBatch) -> np.ndarray:
    """The fishers' constants as the kernels read them, by name: one record per kind of world
    (`WorldBatch.kind`); built once per batch."""
    return kind_table(batch, "fisher_table", _columns)


def _columns(batch: WorldBatch) -> dict[str, np.ndarray]:
    """The fisher table's fields for every world (B,), from the world's parameters."""
    p = batch.p
    return {
        "hunger_rate": p.hunger_rate, "storm_multiplier": p.hunger_storm_multiplier,
        "eat_threshold": p.hunger_eat_threshold, "meal": p.hunger_meal,
        "spawn_hunger_low": p.hunger_spawn[:, 0], "spawn_hunger_high": p.hunger_spawn[:, 1],
        "settle": p.fishing_settle, "bite_window": p.fishing_bite_window, "p_bite": p.fishing_p_bite,
        "cast_reach": p.fishing_cast_reach, "inventory_max": p.fishing_inventory_max,
        "spawn_inventory": p.fishing_spawn_inventory, "meal_reward": p.fishing_meal_reward,
        "density_ref": p.fish_density_ref, "p_lose_line": p.storm_p_lose_line,
        "p_lose_fish": p.storm_p_lose_fish, "spook": p.fishing_spook,
        "wary_ticks": p.fishing_wary_ticks, "squall_ticks": p.storm_squall_ticks,
        "squall_multiplier": p.storm_squall_multiplier,
        # a tolerance, so that summing an inexact rate (10 x 0.1) starves on the intended tick
        "starve_at": np.full(batch.n, 1.0 - STARVE_TOLERANCE),
    }


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
    cells, counts = spawn_tables(batch)
    K.spawn_slots(slots, np.ascontiguousarray(u, dtype=np.float64), batch.kind, kernel_table(batch), cells,
                  counts, batch.width, state.arrays())
