"""Set-up scenes: world states a probe builds with the core, then runs a policy from.

A scene is one world of a `Simulation` with one fisher slot whose state the probe sets:
where the fisher stands and faces, whether a line is out, its hunger and catch, the time
of day and the weather (the hidden state, and the cues the fisher reads). From there the
policy acts and the real step function moves the world; nothing here re-implements a rule.

Two controls the probes need and the world itself does not offer:

- **bite time**: a scene world can be made with `fishing.p_bite = 0` (a world override, so
  no random bite ever comes) and a bite planted by setting `state.bite` at a chosen line
  age (`plant_bites`); the fisher then sees the bobber dip exactly when the probe says.
- **cues apart from the weather**: `run_scenes(..., cue_source=...)` copies the weather
  cues (barometer, its trend, cloud, rain, storm: `WEATHER_CUES`) from a second simulation
  whose weather is set to another condition. The hidden world (bites, storms, hunger) stays
  the same in every arm, so a change in behaviour is caused by the cues alone.

Weather conditions (`set_weather`): "neutral" (cloudy, no front for the whole scene),
"calm" (clear, steady high barometer), "front" (a storm announced: the cues have been
falling for `FRONT_WARMUP` ticks, the storm itself comes only after the scene),
"storm" (a storm is on) and "onset" (a real front: its cues begin now and the storm
breaks `onset_ticks` later, the world's mean warning lead, so that when a fisher
leaves can be timed against the front's arrival).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from agents.world_reading import read_worlds
from sim import terrain as T
from sim import weather as W
from sim.core import Simulation, resolve_worlds
from sim.fishers import N_ACTIONS, WAIT
from sim.observe import LAYOUT
from sim.policy import bind_policy, reset_policy
from sim.step import StepResult
from worlds.loader import World, override_world

try:  # tides are part of the core from the tidal worlds on; a core without them has a fixed map
    from sim.tide import terrain_now as _tide_terrain
except ImportError:  # pragma: no cover - an older core
    _tide_terrain = None

WEATHER_CUES: tuple[str, ...] = ("barometer", "barometer_trend", "cloud", "raining", "storm")
CUE_INDEX = np.array([LAYOUT[name] for name in WEATHER_CUES])
CONDITIONS: tuple[str, ...] = ("neutral", "calm", "front", "storm", "onset")
FAR = 10**6  # ticks: a weather change that never comes within a scene
FRONT_WARMUP = 6  # ticks the front's cues have shown when a scene starts: with a 12-tick scene the cues stay
# within the shipped worlds' warning lead (10 to 20 ticks), and the storm is due (mean lead 15) mid-scene
DAY_PHASES = (0.05, 0.6)  # scenes start in daylight, at a phase of the day drawn from this range
RICH_QUANTILE = 0.9  # a "rich" spot's water holds at least this quantile of the fish of all spots
RICHNESS_BAND = 0.1  # a spot of richness r: its fish rank among all spots lies within r +- this


@dataclass(frozen=True)
class Spots:
    """Every (cell, facing) from which a cast lands on water, and where the line lands: arrays (n,)."""

    row: np.ndarray
    col: np.ndarray
    facing: np.ndarray
    line_row: np.ndarray
    line_col: np.ndarray

    def __len__(self) -> int:
        return int(self.row.size)

    def take(self, idx: np.ndarray) -> Spots:
        return Spots(*(getattr(self, f)[idx] for f in ("row", "col", "facing", "line_row", "line_col")))


def fishing_spots(terrain: np.ndarray, cast_reach: int) -> Spots:
    """All fishing spots of a map (terrain codes (H, W)), with the cell a cast from each lands on.

    The cast rule of `sim.fishers`: from a cell fishing is allowed from, the line lands on the
    farthest cell, up to cast_reach, of unbroken water ahead.
    """
    terrain = np.asarray(terrain)
    h, w = terrain.shape
    water = T.water_mask(terrain)
    fishable = np.isin(terrain, T.FISHABLE_FROM)
    out: list[tuple[int, int, int, int, int]] = []
    for r, c in zip(*np.nonzero(fishable), strict=True):
        for k, (dr, dc) in enumerate(T.MOVES):
            land = 0
            while land < cast_reach:
                rr, cc = r + (land + 1) * dr, c + (land + 1) * dc
                if not (0 <= rr < h and 0 <= cc < w and water[rr, cc]):
                    break
                land += 1
            if land:
                out.append((r, c, k, r + land * dr, c + land * dc))
    a = np.array(out, dtype=np.int64).reshape(-1, 5)
    return Spots(*(a[:, i].copy() for i in range(5)))


def reachable_water(terrain: np.ndarray, cast_reach: int) -> np.ndarray:
    """(H, W) bool: the water cells a cast can land on: the chance level of "where fish are fished"."""
    terrain = np.asarray(terrain)
    spots = fishing_spots(terrain, cast_reach)
    mask = np.zeros(terrain.shape, dtype=bool)
    mask[spots.line_row, spots.line_col] = True
    return mask


def terrain_now(sim: Simulation, world: int) -> np.ndarray:
    """The terrain of one world of a simulation as it is now: the map as drawn, or, in a tidal
    world at low tide, with its flats dry (`sim.tide.terrain_now` where the core has tides)."""
    if _tide_terrain is None or not getattr(sim.batch, "tidal", False):
        return sim.batch.terrain[world]
    return _tide_terrain(sim.state, sim.batch, world)


@lru_cache(maxsize=64)
def _spots_cached(key: bytes, shape: tuple[int, int], cast_reach: int) -> Spots:
    return fishing_spots(np.frombuffer(key, dtype=np.int8).reshape(shape), cast_reach)


def spots_of(terrain: np.ndarray, cast_reach: int) -> Spots:
    """`fishing_spots`, cached per map (probes ask for the same few maps at every cast)."""
    terrain = np.ascontiguousarray(terrain, dtype=np.int8)
    return _spots_cached(terrain.tobytes(), terrain.shape, int(cast_reach))


def spots_now(sim: Simulation, world: int) -> Spots:
    """The fishing spots of one world of a simulation at its current tide."""
    return spots_of(terrain_now(sim, world), int(sim.batch.p.fishing_cast_reach[world]))


@lru_cache(maxsize=64)
def _shelter_cached(key: bytes, shape: tuple[int, int]) -> np.ndarray:
    return T.shelter_field(np.frombuffer(key, dtype=np.int8).reshape(shape))[1]


def shelter_distance_now(sim: Simulation, world: int) -> np.ndarray:
    """(H, W) walking distance to the nearest shelter in one world at its current tide (-1: none)."""
    terrain = np.ascontiguousarray(terrain_now(sim, world), dtype=np.int8)
    return _shelter_cached(terrain.tobytes(), terrain.shape)


def scene_world(world: str | World, overrides: dict[str, object] | None = None) -> World:
    """A world by name, path or object, with some constants replaced (validated by the loader)."""
    base = resolve_worlds(world)[0]
    return override_world(base, dict(overrides or {}))


@dataclass
class Scenes:
    """n scenes of one world: a Simulation with one fisher per scene, and the spot each fisher holds."""

    sim: Simulation
    spots: Spots
    start: object = field(repr=False, default=None)  # the state the scenes were set to (a State copy)

    @property
    def n(self) -> int:
        return self.sim.n_worlds

    def restart(self) -> None:
        """Put every scene back to the state it was set to (for the next arm of a probe)."""
        self.sim.state = self.start.copy()

    def shelter_distance(self) -> np.ndarray:
        """(n,) walking distance of each fisher to the nearest shelter at its tide (-1: none reachable)."""
        s = self.sim.state
        return np.array([shelter_distance_now(self.sim, i)[s.row[i, 0], s.col[i, 0]] for i in range(self.n)],
                        dtype=np.int64)


def _choose_spots(sim: Simulation, rng: np.random.Generator, rich: bool,
                  near_shelter: int | None, richness: np.ndarray | None = None) -> Spots:
    """One spot per scene, drawn from the spots of the scene's world at its tide, filtered."""
    chosen = []
    for i in range(sim.n_worlds):
        spots = spots_now(sim, i)
        keep = np.ones(len(spots), dtype=bool)
        if near_shelter is not None:
            dist = shelter_distance_now(sim, i)[spots.row, spots.col]
            keep &= (dist >= 1) & (dist <= near_shelter)
        if rich and keep.any():  # spots where leaving for richer water is not the sensible choice
            fish = sim.state.fish[i, spots.line_row, spots.line_col]
            keep &= fish >= np.quantile(fish[keep], RICH_QUANTILE)
        if richness is not None and keep.any():  # fish rank (0 poorest, 1 richest) near richness[i]
            idx = np.flatnonzero(keep)
            rank = np.argsort(np.argsort(sim.state.fish[i, spots.line_row[idx], spots.line_col[idx]],
                                         kind="stable"), kind="stable") / max(idx.size - 1, 1)
            near = np.abs(rank - richness[i])
            keep[:] = False
            keep[idx[near <= max(RICHNESS_BAND, near.min())]] = True
        if not keep.any():
            keep[:] = True
        chosen.append(spots.take(np.array([rng.choice(np.flatnonzero(keep))])))
    return Spots(*(np.concatenate([getattr(c, f) for c in chosen])
                   for f in ("row", "col", "facing", "line_row", "line_col")))


def make_scenes(world: str | World, n: int, seed: int = 0, *, hunger: float = 0.25, inventory: int = 0,
                line_out: bool = False, weather: str = "neutral", rich: bool = False,
                near_shelter: int | None = None, overrides: dict[str, object] | None = None,
                richness: np.ndarray | None = None) -> Scenes:
    """n scenes of a world: a fisher at a fishing spot facing the water, in daylight.

    Args:
        world: a world name, path or World.
        n: how many scenes (one world of the batch each; scene i has seed `seed * 7919 + i`).
        seed: scenes, spots and the time of day follow from it.
        hunger, inventory: the fisher's, at the start.
        line_out: a line is out (just cast, age 0) on the spot's water.
        weather: one of CONDITIONS (see the module docstring).
        rich: only spots whose water holds at least the RICH_QUANTILE of the fish of all spots.
        near_shelter: only spots within this walking distance of a shelter (and not in one).
        overrides: world constants to replace, e.g. {"fishing.p_bite": 0.0} for controlled bites.
        richness: (n,) per scene, how rich its spot is among the world's spots, as a fish rank in
            [0, 1] (0 the poorest, 1 the richest; a spot within RICHNESS_BAND of it is drawn).
    """
    if n < 1:
        raise ValueError(f"n: expected at least one scene, got {n}")
    w = scene_world(world, overrides)
    rng = np.random.default_rng([int(seed), 0x5CE7E])
    sim = Simulation([w] * n, n_fishers=1, seeds=[int(seed) * 7919 + i for i in range(n)], respawn=False)
    s = sim.state
    day = int(w.params.time.day_length)
    s.tick[:] = (rng.uniform(*DAY_PHASES, size=n) * day).astype(np.int64)
    if richness is not None and np.shape(richness) != (n,):
        raise ValueError(f"richness: expected one rank in [0, 1] per scene ({n}), "
                         f"got shape {np.shape(richness)}")
    spots = _choose_spots(sim, rng, rich, near_shelter, None if richness is None else np.asarray(richness))
    s.row[:, 0], s.col[:, 0], s.facing[:, 0] = spots.row, spots.col, spots.facing
    s.alive[:, 0] = True
    s.hunger[:, 0] = hunger
    s.inventory[:, 0] = inventory
    s.bite[:, 0] = 0
    s.line[:, 0] = line_out
    s.line_row[:, 0], s.line_col[:, 0] = spots.line_row, spots.line_col
    s.line_age[:, 0] = 0
    set_weather(sim, weather)
    scenes = Scenes(sim, spots)
    scenes.start = sim.state.copy()
    return scenes


def set_weather(sim: Simulation, condition: str, idx: np.ndarray | None = None) -> None:
    """Set the weather of worlds idx (all by default) to a condition of CONDITIONS, in place.

    The hidden state, the schedule of the next change, the barometer with its history and
    the clouds are set together, as the core would have them; "front" then runs the core
    for FRONT_WARMUP ticks (fishers waiting) so that its cues are the core's own.
    """
    if condition not in CONDITIONS:
        raise ValueError(f"condition: expected one of {CONDITIONS}, got {condition!r}")
    s, p = sim.state, sim.batch.p
    idx = np.arange(sim.n_worlds) if idx is None else np.asarray(idx, dtype=np.int64)
    now = s.tick[idx]
    state, after = {"neutral": (W.CLOUDY, W.CLEAR), "calm": (W.CLEAR, W.CLOUDY),
                    "front": (W.CLOUDY, W.STORM), "storm": (W.STORM, W.CLOUDY),
                    "onset": (W.CLOUDY, W.STORM)}[condition]
    s.weather[idx], s.next_weather[idx] = state, after
    if condition == "front":  # announced now; the storm itself comes after warm-up and any scene
        s.cue_at[idx] = now
        s.change_at[idx] = now + FAR
    elif condition == "onset":  # announced now; the storm breaks after the world's mean lead
        s.cue_at[idx] = now
        s.change_at[idx] = now + onset_ticks(sim)[idx]
    else:
        s.change_at[idx] = now + FAR
        s.cue_at[idx] = now + FAR - 1
    s.barometer[idx] = p.weather_barometer[idx, state]
    s.baro_hist[idx] = s.barometer[idx, None]
    s.cloud[idx] = p.weather_cloud[idx, state]
    if condition == "front":
        for _ in range(FRONT_WARMUP):
            sim.step(np.full((sim.n_worlds, sim.n_fishers), WAIT, dtype=np.int64))
        s.change_at[idx] = s.tick[idx] + FAR // 2  # still announced, never arriving within a scene


def onset_ticks(sim: Simulation) -> np.ndarray:
    """(B,) ticks from an "onset" front's first cue to its storm: each world's mean warning lead, the
    lead a forecaster reading that world expects (agents.world_reading.storm_eta)."""
    return np.rint(sim.batch.p.weather_lead.astype(np.float64).mean(axis=1)).astype(np.int64)


def plant_bites(sim: Simulation, mask: np.ndarray) -> None:
    """Make the bobber dip now (a bite showing for the world's bite_window) where mask (B, F) is set
    and a line is out: the controlled bite of a patience scene."""
    s = sim.state
    m = np.asarray(mask, dtype=bool) & s.line & s.alive
    window = sim.batch.p.fishing_bite_window.astype(np.int64)
    s.bite[m] = np.broadcast_to(window[:, None], m.shape)[m]




@dataclass
class Trace:
    """What happened in the scenes, tick by tick: arrays (ticks, n) of the one fisher per scene."""

    actions: np.ndarray
    events: np.ndarray
    line: np.ndarray        # a line is out after the tick
    line_age: np.ndarray    # the line's age the fisher saw before acting (-1 without a line)
    bite_seen: np.ndarray   # a bite showed when the fisher acted
    shelter_dist: np.ndarray  # walking distance to a shelter after the tick
    alive: np.ndarray


def run_scenes(policy: object, scenes: Scenes, ticks: int, seed: int = 0,
               cue_source: Simulation | None = None,
               before_act: Callable[[Simulation, int], None] | None = None,
               told_world: World | None = None) -> Trace:
    """Run a policy from the scenes' current state for `ticks` ticks and trace the one fisher of each.

    cue_source: a simulation of the same scenes whose weather cues replace the fisher's own in
        every observation (it is stepped alongside, its fishers waiting).
    before_act: called with (sim, t) before each observation (to plant bites).
    told_world: the world whose rules a scripted fisher reads (default: the scenes' own, overrides
        included); a probe that withholds something by a rule change (patience: no bite ever
        comes) tells it the real world's rules, as a learner, which reads no rules, would act.
    """
    sim = scenes.sim
    policy = bind_policy(policy, sim)  # a scripted fisher reads the scenes' world (overrides included)
    if told_world is not None and getattr(policy, "reading", None) is not None:
        policy.reading = read_worlds([told_world] * sim.n_worlds, sim.n_fishers)
    reset_policy(policy, seed)  # its random generator and any memory start afresh for each arm
    act = policy.act
    n = scenes.n
    out = {k: np.zeros((ticks, n), dtype=d) for k, d in (
        ("actions", np.int64), ("events", np.int64), ("line", bool), ("line_age", np.int64),
        ("bite_seen", bool), ("shelter_dist", np.int64), ("alive", bool))}
    wait = np.full((n, 1), WAIT, dtype=np.int64)
    for t in range(ticks):
        if before_act is not None:
            before_act(sim, t)
        s = sim.state
        obs = sim.observe()
        if cue_source is not None:
            obs[:, :, CUE_INDEX] = cue_source.observe()[:, :, CUE_INDEX]
        out["line_age"][t] = np.where(s.line[:, 0], s.line_age[:, 0], -1)
        out["bite_seen"][t] = s.line[:, 0] & (s.bite[:, 0] > 0)
        actions = np.asarray(act(obs.reshape(n, -1)), dtype=np.int64).reshape(n, 1)
        if actions.min() < 0 or actions.max() >= N_ACTIONS:
            raise ValueError(f"policy: expected actions in [0, {N_ACTIONS}), "
                             f"got {actions.min()}..{actions.max()}")
        res: StepResult = sim.step(actions)
        if cue_source is not None:
            cue_source.step(wait)
        policy.new_lives(s.lives)
        out["actions"][t] = actions[:, 0]
        out["events"][t] = res.events[:, 0]
        out["line"][t] = s.line[:, 0]
        out["shelter_dist"][t] = scenes.shelter_distance()
        out["alive"][t] = s.alive[:, 0]
    return Trace(**out)


def cue_simulation(scenes: Scenes, condition: str) -> Simulation:
    """A copy of the scenes' simulation (same worlds, seeds and fishers) with its weather set to a
    condition: the source of the cues for a cue-swapped arm."""
    sim = copy.copy(scenes.sim)  # shares the static batch (and its kernel tables), not the state
    sim.seeds = list(scenes.sim.seeds)
    sim.state = scenes.start.copy()
    set_weather(sim, condition)
    return sim
