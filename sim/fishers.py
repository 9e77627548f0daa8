"""What fishers do in a tick: move, cast, reel in, eat; bites; storms; hunger and death.

Actions (one per fisher): 0 wait, 1 north, 2 south, 3 east, 4 west, 5 cast, 6 reel in, 7 eat.
A move toward a cell that cannot be walked on (water, rock) turns the fisher to face it
without moving; any move drops a line that is out.

The phases work on flat (B * F,) views of the state and only on the slots concerned
(`np.flatnonzero` subsets): with F fishers per world, a tick costs a few dozen small numpy
calls whatever the batch size. Per-world constants come repeated per slot from
`WorldBatch.slots` (see `sim.batch.SlotIndex`).
"""

from __future__ import annotations

import numpy as np

from sim import weather as W
from sim.batch import WorldBatch
from sim.events import BIT
from sim.state import State, flat_view, spawn_slots
from sim.terrain import MOVES

WAIT, NORTH, SOUTH, EAST, WEST, CAST, REEL, EAT = range(8)
N_ACTIONS = 8
STARVE_TOLERANCE = 1e-9
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



# reel outcome by (hooked, room): no bite -> reeled_empty; bite and a full bag -> released
_REEL_EVENT = np.array([BIT["reeled_empty"], BIT["reeled_empty"], BIT["released"], BIT["catch"]], np.int64)
_SLOT_FIELDS = ("row", "col", "facing", "alive", "hunger", "inventory", "line", "line_row", "line_col",
                "line_age", "bite", "lifetime", "meals", "catches")


class Slots:
    """One tick's flat (B * F,) views of a state's per-slot fields (writes go to the state),
    the batch's `SlotIndex` (`ix`), the tick's events `ev` and every slot's padded map cell."""

    def __init__(self, state: State, batch: WorldBatch, ev: np.ndarray):
        for name in _SLOT_FIELDS:
            setattr(self, name, flat_view(state, name))
        self.state, self.batch = state, batch
        self.ix = ix = batch.slots(state.n_fishers)
        self.ev = ev.reshape(-1)
        self.cell = ix.pbase + self.row * ix.pwidth + self.col


def move(v: Slots, act: np.ndarray) -> None:
    """act: flat (B * F,) actions."""
    slots = np.flatnonzero((act >= NORTH) & (act <= WEST) & v.alive)
    if slots.size == 0:
        return
    direction = act[slots] - NORTH
    v.facing[slots] = direction
    v.ev[slots] |= v.line[slots] * BIT["line_dropped"]
    v.line[slots] = False
    v.bite[slots] = 0
    step_ = v.ix.delta[direction]
    target = v.cell[slots] + step_
    ok = v.ix.walkable[target]
    slots, direction = slots[ok], direction[ok]
    v.row[slots] += MOVES[direction, 0]
    v.col[slots] += MOVES[direction, 1]
    v.cell[slots] = target[ok]


def cast(v: Slots, act: np.ndarray) -> None:
    """The line lands on the farthest cell, up to cast_reach, of unbroken water ahead."""
    slots = np.flatnonzero((act == CAST) & v.alive & ~v.line)
    slots = slots[v.ix.fishable_from[v.cell[slots]]]
    if slots.size == 0:
        return
    ix = v.ix
    direction = v.facing[slots]
    here, step_, reach = v.cell[slots], ix.delta[direction], ix.cast_reach[slots]
    land = np.zeros(slots.size, dtype=np.int64)
    still = np.ones(slots.size, dtype=bool)
    for k in range(1, ix.pad + 1):
        here = here + step_
        still &= ix.water[here] & (k <= reach)
        land[still] = k
    ok = land > 0
    slots, land, direction = slots[ok], land[ok], direction[ok]
    v.line[slots] = True
    v.line_row[slots] = v.row[slots] + land * MOVES[direction, 0]
    v.line_col[slots] = v.col[slots] + land * MOVES[direction, 1]
    v.line_age[slots] = 0
    v.bite[slots] = 0
    v.ev[slots] |= BIT["cast"]


def reel(v: Slots, act: np.ndarray) -> None:
    slots = np.flatnonzero((act == REEL) & v.alive & v.line)
    if slots.size == 0:
        return
    hooked = v.bite[slots] > 0
    room = v.inventory[slots] < v.ix.inventory_max[slots]
    v.ev[slots] |= _REEL_EVENT[hooked * 2 + room]
    landed = slots[hooked & room]
    if landed.size:
        v.inventory[landed] += 1
        v.catches[landed] += 1
        fish = v.state.fish
        cells = (v.ix.world[landed], v.line_row[landed], v.line_col[landed])
        np.subtract.at(fish, cells, 1.0)
        fish[cells] = np.maximum(fish[cells], 0.0)  # only these cells can have gone below 0
    v.line[slots] = False
    v.bite[slots] = 0


def eat(v: Slots, act: np.ndarray) -> np.ndarray:
    """Returns the flat slots that ate this tick; only these meals are ever rewarded."""
    slots = np.flatnonzero((act == EAT) & v.alive & (v.inventory > 0))
    if slots.size == 0:
        return slots
    hungry = v.hunger[slots] >= v.ix.eat_threshold[slots]
    v.ev[slots] |= np.where(hungry, BIT["ate"], BIT["refused"])
    ate = slots[hungry]
    v.inventory[ate] -= 1
    v.meals[ate] += 1
    v.hunger[ate] = np.maximum(v.hunger[ate] - v.ix.meal[ate], 0.0)
    return ate


def bites(v: Slots, u: np.ndarray, factor: np.ndarray) -> None:
    """Age lines, count down showing bites (missed when they run out), draw new bites.

    u: this tick's STREAM_BITE draws (B, F); factor: the bite factor (B,) (`W.bite_factor`).
    """
    line, bite, ev, ix = v.line, v.bite, v.ev, v.ix
    np.add(v.line_age, line, out=v.line_age)
    no_bite = bite == 0
    # ready for a bite: a line out past its settle time and no bite showing before this tick
    # (a bite that runs out now is missed, and no new one comes in the same tick)
    ready = np.flatnonzero(line & no_bite & (v.line_age > ix.settle))
    showing = np.flatnonzero(line > no_bite)
    if showing.size:
        bite[showing] -= 1
        ev[showing[bite[showing] == 0]] |= BIT["missed"]
    if ready.size == 0:
        return
    width = v.batch.width
    fish = v.state.fish.reshape(-1)[ix.fbase[ready] + v.line_row[ready] * width + v.line_col[ready]]
    density = fish / ix.density_ref[ready]
    chance = ix.p_bite[ready] * np.minimum(density, 2.0) * factor[ix.world[ready]]
    new = ready[u.reshape(-1)[ready] < chance]
    bite[new] = ix.bite_window[new]
    ev[new] |= BIT["bite"]


def in_shelter(state: State, batch: WorldBatch) -> np.ndarray:
    return _cell(batch.is_shelter, batch, state.row, state.col).astype(bool)


def storm(v: Slots, u: np.ndarray) -> np.ndarray:
    """Storms sweep lines and fish from exposed fishers. Returns the exposed flat slots.

    u: this tick's STREAM_STORM draws (B, 2F).
    """
    stormy = v.state.weather == W.STORM
    if not stormy.any():
        return np.zeros(0, dtype=np.int64)
    ix = v.ix
    slots = np.flatnonzero(stormy[ix.world] & v.alive)
    sheltered = ix.is_shelter[v.cell[slots]]
    v.ev[slots[sheltered]] |= BIT["sheltered"]
    exposed = slots[~sheltered]
    if exposed.size:
        u = u.reshape(-1, 2)[exposed]
        lose_line = exposed[v.line[exposed] & (u[:, 0] < ix.p_lose_line[exposed])]
        lose_fish = exposed[(v.inventory[exposed] > 0) & (u[:, 1] < ix.p_lose_fish[exposed])]
        v.line[lose_line] = False
        v.bite[lose_line] = 0
        v.inventory[lose_fish] -= 1
        v.ev[lose_line] |= BIT["line_swept"]
        v.ev[lose_fish] |= BIT["fish_swept"]
    return exposed


def hunger(v: Slots, exposed: np.ndarray) -> np.ndarray:
    """Hunger rises (faster when exposed to a storm); at 1 the fisher starves.

    exposed: flat slots exposed to a storm. Returns the flat slots that starved.
    """
    ix, hunger_, alive = v.ix, v.hunger, v.alive
    risen = hunger_ + ix.hunger_rate
    if exposed.size:
        risen[exposed] = hunger_[exposed] + ix.hunger_rate[exposed] * ix.storm_multiplier[exposed]
    np.minimum(risen, 1.0, out=risen)
    np.copyto(hunger_, risen, where=alive)
    np.add(v.lifetime, alive, out=v.lifetime)
    # a tolerance, so that summing an inexact rate (10 x 0.1) starves on the intended tick
    starved = np.flatnonzero(alive & (hunger_ >= 1.0 - STARVE_TOLERANCE))
    if starved.size:
        hunger_[starved] = 1.0
        v.ev[starved] |= BIT["starved"]
        alive[starved] = False
        v.line[starved] = False
        v.bite[starved] = 0
    return starved


def respawn(v: Slots, starved: np.ndarray, u: np.ndarray) -> None:
    """A new fisher takes each starved slot (flat slots) of the worlds that respawn.

    u: this tick's STREAM_SPAWN draws (B, 3F).
    """
    reborn = starved[v.state.respawn[v.ix.world[starved]]]
    if reborn.size:
        spawn_slots(v.state, v.batch, reborn, u.reshape(-1, 3)[reborn])
        v.ev[reborn] |= BIT["spawned"]
