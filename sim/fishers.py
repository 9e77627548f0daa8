"""What fishers do in a tick: move, cast, reel in, eat; bites; storms; hunger and death.

Actions (one per fisher): 0 wait, 1 north, 2 south, 3 east, 4 west, 5 cast, 6 reel in, 7 eat.
A move toward a cell that cannot be walked on (water, rock) turns the fisher to face it
without moving; any move drops a line that is out.
"""

from __future__ import annotations

import numpy as np

from sim import rng
from sim import weather as W
from sim.batch import WorldBatch
from sim.events import BIT
from sim.state import State, spawn_fishers
from sim.terrain import MOVES

WAIT, NORTH, SOUTH, EAST, WEST, CAST, REEL, EAT = range(8)
N_ACTIONS = 8
ACTION_NAMES = ("wait", "north", "south", "east", "west", "cast", "reel", "eat")


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


def move(state: State, batch: WorldBatch, act: np.ndarray, ev: np.ndarray) -> None:
    moving = state.alive & (act >= NORTH) & (act <= WEST)
    if not moving.any():
        return
    direction = np.where(moving, act - NORTH, state.facing)
    state.facing[:] = direction
    ev |= np.where(moving & state.line, BIT["line_dropped"], 0)
    state.line &= ~moving
    state.bite[moving] = 0
    new_row, new_col = state.row + MOVES[direction, 0], state.col + MOVES[direction, 1]
    ok = moving & _cell(batch.walkable, batch, new_row, new_col).astype(bool)
    state.row[:] = np.where(ok, new_row, state.row)
    state.col[:] = np.where(ok, new_col, state.col)


def cast(state: State, batch: WorldBatch, act: np.ndarray, ev: np.ndarray) -> None:
    """The line lands on the farthest cell, up to cast_reach, of unbroken water ahead."""
    trying = state.alive & (act == CAST) & ~state.line
    trying &= _cell(batch.fishable_from, batch, state.row, state.col).astype(bool)
    if not trying.any():
        return
    dr, dc = MOVES[state.facing, 0], MOVES[state.facing, 1]
    land_row, land_col = state.row.copy(), state.col.copy()
    still = trying.copy()
    for k in range(1, int(batch.p.fishing_cast_reach.max()) + 1):
        r, c = state.row + k * dr, state.col + k * dc
        still &= _cell(batch.water, batch, r, c).astype(bool) & (k <= batch.p.fishing_cast_reach[:, None])
        land_row = np.where(still, r, land_row)
        land_col = np.where(still, c, land_col)
    ok = trying & ((land_row != state.row) | (land_col != state.col))
    state.line |= ok
    state.line_row[:] = np.where(ok, land_row, state.line_row)
    state.line_col[:] = np.where(ok, land_col, state.line_col)
    state.line_age[ok] = 0
    state.bite[ok] = 0
    ev |= np.where(ok, BIT["cast"], 0)


def reel(state: State, batch: WorldBatch, act: np.ndarray, ev: np.ndarray) -> None:
    reeling = state.alive & (act == REEL) & state.line
    if not reeling.any():
        return
    hooked = reeling & (state.bite > 0)
    room = state.inventory < batch.p.fishing_inventory_max[:, None]
    landed = hooked & room
    ev |= np.where(landed, BIT["catch"], 0) | np.where(hooked & ~room, BIT["released"], 0)
    ev |= np.where(reeling & ~hooked, BIT["reeled_empty"], 0)
    state.inventory += landed
    state.catches += landed
    if landed.any():
        flat = _flat(batch, state.line_row, state.line_col)[landed]
        np.subtract.at(state.fish.reshape(-1), flat, 1.0)
        np.maximum(state.fish, 0.0, out=state.fish)
    state.line &= ~reeling
    state.bite[reeling] = 0


def eat(state: State, batch: WorldBatch, act: np.ndarray, ev: np.ndarray) -> np.ndarray:
    """Returns the meals eaten this tick (B, F) bool; only these are ever rewarded."""
    trying = state.alive & (act == EAT) & (state.inventory > 0)
    hungry = state.hunger >= batch.p.hunger_eat_threshold[:, None]
    ate = trying & hungry
    ev |= np.where(ate, BIT["ate"], 0) | np.where(trying & ~hungry, BIT["refused"], 0)
    state.inventory -= ate
    state.meals += ate
    state.hunger[:] = np.where(ate, np.maximum(state.hunger - batch.p.hunger_meal[:, None], 0.0), state.hunger)
    return ate


def bites(state: State, batch: WorldBatch, ev: np.ndarray) -> None:
    """Age lines, count down showing bites (missed when they run out), draw new bites."""
    state.line_age += state.line
    showing = state.line & (state.bite > 0)
    state.bite[showing] -= 1
    missed = showing & (state.bite == 0)
    ev |= np.where(missed, BIT["missed"], 0)
    ready = state.line & (state.bite == 0) & ~missed & (state.line_age > batch.p.fishing_settle[:, None])
    density = _cell(state.fish, batch, state.line_row, state.line_col) / batch.p.fish_density_ref[:, None]
    chance = batch.p.fishing_p_bite[:, None] * np.minimum(density, 2.0) * W.bite_factor(state, batch)[:, None]
    u = rng.uniform(state.keys, rng.STREAM_BITE, state.tick, state.n_fishers)
    new = ready & (u < chance)
    state.bite[new] = batch.p.fishing_bite_window[np.nonzero(new)[0]].astype(np.int64)
    ev |= np.where(new, BIT["bite"], 0)


def in_shelter(state: State, batch: WorldBatch) -> np.ndarray:
    return _cell(batch.is_shelter, batch, state.row, state.col).astype(bool)


def storm(state: State, batch: WorldBatch, ev: np.ndarray) -> np.ndarray:
    """Storms sweep lines and fish from exposed fishers. Returns the exposed mask (B, F)."""
    stormy = (state.weather == W.STORM)[:, None] & state.alive
    sheltered = stormy & in_shelter(state, batch)
    exposed = stormy & ~sheltered
    ev |= np.where(sheltered, BIT["sheltered"], 0)
    if exposed.any():
        u = rng.uniform(state.keys, rng.STREAM_STORM, state.tick, 2 * state.n_fishers).reshape(-1, state.n_fishers, 2)
        lose_line = exposed & state.line & (u[..., 0] < batch.p.storm_p_lose_line[:, None])
        lose_fish = exposed & (state.inventory > 0) & (u[..., 1] < batch.p.storm_p_lose_fish[:, None])
        state.line &= ~lose_line
        state.bite[lose_line] = 0
        state.inventory -= lose_fish
        ev |= np.where(lose_line, BIT["line_swept"], 0) | np.where(lose_fish, BIT["fish_swept"], 0)
    return exposed


def hunger(state: State, batch: WorldBatch, exposed: np.ndarray, ev: np.ndarray) -> np.ndarray:
    """Hunger rises (faster when exposed to a storm); at 1 the fisher starves. Returns starved (B, F)."""
    rate = batch.p.hunger_rate[:, None] * np.where(exposed, batch.p.hunger_storm_multiplier[:, None], 1.0)
    state.hunger[:] = np.where(state.alive, np.minimum(state.hunger + rate, 1.0), state.hunger)
    state.lifetime += state.alive
    starved = state.alive & (state.hunger >= 1.0)
    ev |= np.where(starved, BIT["starved"], 0)
    state.alive &= ~starved
    state.line &= ~starved
    state.bite[starved] = 0
    return starved


def respawn(state: State, batch: WorldBatch, starved: np.ndarray, ev: np.ndarray) -> None:
    """A new fisher takes each starved slot of the worlds that respawn."""
    reborn = starved & state.respawn[:, None]
    if reborn.any():
        spawn_fishers(state, batch, reborn, rng.STREAM_SPAWN)
        ev |= np.where(reborn, BIT["spawned"], 0)
