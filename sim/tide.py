"""Tides: the sea comes in over the flats and goes out again, so the shore moves.

A tidal world (`[tide] period` and flats in its map) is at high tide for the first
period / 2 ticks of every episode, then at low tide for as long, and so on: the tide is a
pure function of the tick, so it needs no random draws and no state of its own. At high
tide the flats are shallow water (fish live there, lines land there); at low tide they are
dry shore (fishers walk and spawn there). Fishers see the tide in their view (the flats'
terrain), as they see any shore.

When the tide turns (at the end of the tick that reaches a multiple of period / 2):
- ebb: fish left on the flats are stranded and gone; a line lying on a flat is lost
  (`line_dropped`), as is its bite;
- flood: a fisher standing on a flat wades to a neighbouring dry cell that is no flat
  (north, south, east, west: the first there is; the loader makes sure every flat has one)
  and drops its line (`line_dropped`).

The kernels read each world's map through its kind (`WorldBatch.kind`); `sync` sets the
kind of every tidal world from its tick, so it runs before anything reads the map.
"""

from __future__ import annotations

import numpy as np

from sim import terrain as T
from sim.batch import WorldBatch
from sim.events import BIT
from sim.state import State


def low_tide(tick: np.ndarray, batch: WorldBatch) -> np.ndarray:
    """(B,) bool: which worlds are at low tide at these ticks."""
    half = np.maximum(batch.tide_half, 1)
    return (batch.tide_half > 0) & ((np.asarray(tick) // half) % 2 == 1)


def sync(state: State, batch: WorldBatch) -> np.ndarray | None:
    """Point every tidal world's kind at its tide for the state's tick. Returns the worlds whose
    tide turned since the last sync (None for a batch without tides)."""
    if not batch.tidal:
        return None
    kind = np.where(low_tide(state.tick, batch), batch.kind_low, batch.kind_high)
    turned = kind != batch.kind
    batch.kind[:] = kind
    return turned


def turn(state: State, batch: WorldBatch, worlds: np.ndarray, events: np.ndarray) -> None:
    """What a turning tide does to fish, lines and fishers of `worlds` (after `sync`); events
    (B, F) gain `line_dropped` for lines it takes."""
    low = low_tide(state.tick, batch)
    dropped = BIT["line_dropped"]
    h, w = batch.height, batch.width
    for i in np.flatnonzero(worlds):
        flats = batch.flats[i]
        if low[i]:
            state.fish[i][flats] = 0.0
            on_flat = state.line[i] & flats[state.line_row[i], state.line_col[i]]
        else:
            dry = batch.walkable[i] & ~flats
            on_flat = state.alive[i] & flats[state.row[i], state.col[i]]
            for f in np.flatnonzero(on_flat):
                for dr, dc in T.MOVES:
                    r, c = state.row[i, f] + dr, state.col[i, f] + dc
                    if 0 <= r < h and 0 <= c < w and dry[r, c]:
                        state.row[i, f], state.col[i, f] = r, c
                        break
            on_flat &= state.line[i]
        state.line[i][on_flat] = False
        state.bite[i][on_flat] = 0
        state.line_age[i][on_flat] = 0
        events[i][on_flat] |= dropped


def terrain_now(state: State, batch: WorldBatch, world: int) -> np.ndarray:
    """The terrain of one world (padded to the batch's shape) at the state's tide."""
    terrain = batch.terrain[world]
    if batch.tidal and low_tide(state.tick, batch)[world]:
        terrain = np.where(batch.flats[world], np.int8(T.SHORE), terrain)
    return terrain
