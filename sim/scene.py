"""What one picture of one world at one moment depends on (`Scene`), taken from a live Simulation
(`scene_of`) or from a recorded episode's frame (`scene_of_episode`), with the short-lived marks of
the events around it (`event_marks`). sim.render draws a Scene; nothing here draws pixels."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim import weather as W
from sim.observe import ripple_level
from sim.tide import terrain_now
from sim.tiles import MARK_TICKS, MARKS, NO_MARKS


def world_shape(sim, world: int) -> tuple[int, int]:
    """The map shape of world `world` of a Simulation, after checking the index."""
    if not 0 <= int(world) < sim.n_worlds:
        raise ValueError(f"world: expected an index in [0, {sim.n_worlds}), got {world}")
    return sim.batch.worlds[int(world)].shape


@dataclass(frozen=True)
class Scene:
    """Everything a picture of one world at one moment depends on (one world, F fisher slots).

    A live `Simulation` (`scene_of`) and a recorded episode frame (`scene_of_episode`) both
    become a Scene, so the env's rgb_array, the live view, playback and export draw through
    the one function `draw_scene`. `ripples`, `marks` and the front are optional: a live
    state has no events of past ticks, so the env's picture shows no event marks.
    """

    terrain: np.ndarray   # (H, W) terrain codes (the world's own map, no batch padding)
    tick: int
    weather: int          # hidden weather state (sim.weather CLEAR..STORM)
    cloud: float          # cloud cover in [0, 1]
    night: bool
    row: np.ndarray       # (F,) fisher cell
    col: np.ndarray
    facing: np.ndarray    # (F,) 0 north, 1 south, 2 east, 3 west
    alive: np.ndarray     # (F,) bool
    line: np.ndarray      # (F,) bool: a line is out
    line_row: np.ndarray  # (F,) where it lies
    line_col: np.ndarray
    bite: np.ndarray      # (F,) ticks left of a showing bite
    ripples: np.ndarray | None = None  # (H, W) ripple level 0..RIPPLE_LEVELS of each cell
    marks: np.ndarray = field(default_factory=lambda: NO_MARKS)  # (M, 4): kind, row, col, age
    front_in: int = -1    # ticks until the next front (rain or storm); -1: none coming
    front_to: int = -1    # the weather it brings (-1: not known)


_FISHER_FIELDS = ("row", "col", "facing", "alive", "line", "line_row", "line_col", "bite")


def scene_of(sim, world: int = 0) -> Scene:
    """The Scene of one world of a live `Simulation` (copies, so later steps do not change it)."""
    h, w = world_shape(sim, world)
    world = int(world)
    s = sim.state
    front = int(W.front_in(s)[world])
    return Scene(
        terrain=np.asarray(terrain_now(s, sim.batch, world)[:h, :w]).copy(), tick=int(s.tick[world]),
        weather=int(s.weather[world]), cloud=float(s.cloud[world]),
        night=bool(W.is_night(s, sim.batch)[world]),
        **{k: getattr(s, k)[world].copy() for k in _FISHER_FIELDS},
        ripples=ripple_level(np.asarray(s.fish[world, :h, :w], np.float32),
                             np.float32(sim.batch.p.fish_density_ref[world])),
        front_in=front, front_to=int(s.next_weather[world]) if front >= 0 else -1,
    )


def night_at(tick: int, day_length: int, night_fraction: float) -> bool:
    """Night by the step function's rule: the day's last `night_fraction` (sim.kernels._world_senses)."""
    day = (int(tick) % float(day_length)) / float(day_length)
    return bool(day >= 1.0 - float(night_fraction))


def event_marks(events: np.ndarray, row: np.ndarray, col: np.ndarray, line_row: np.ndarray,
                line_col: np.ndarray, names: list[str] | tuple[str, ...]) -> np.ndarray:
    """The marks of the last ticks' events: (M, 4) int32 rows (kind, row, col, age).

    Row a of each (A, F) argument is a ticks ago (0: the step into the frame drawn):
    `events` of that step (bits in the order of `names`, the episode's meta["events"]), and
    the fishers' place and line *before* it (where the event happened: a starved fisher's
    slot may already hold a newcomer elsewhere). A kind is kept for its MARKS ticks; a missed
    bite is marked at the bobber, the others at the fisher.
    """
    out = []
    ages = np.arange(events.shape[0])[:, None] + np.zeros(events.shape, dtype=np.int64)
    for kind, (name, _, ticks) in enumerate(MARKS):
        hit = ((np.asarray(events, np.int64) >> names.index(name)) & 1).astype(bool)
        hit[ticks:] = False
        r, c = (line_row, line_col) if name == "missed" else (row, col)
        a, f = np.nonzero(hit)
        if a.size:
            out.append(np.stack([np.full(a.size, kind), r[a, f], c[a, f], ages[a, f]], axis=1))
    return np.concatenate(out).astype(np.int32) if out else NO_MARKS


def scene_of_episode(episode, frame: int, marks: bool = True) -> Scene:
    """The Scene of frame `frame` of a recorded episode (`sim.record.Episode` or anything with its
    arrays and meta["params"]), with its ripples (from the latest fish snapshot at or before
    the frame) and, if `marks`, the marks of the events of the frames up to it."""
    n = int(episode.tick.shape[0])
    if not -n <= int(frame) < n:
        raise IndexError(f"frame: expected an index in [0, {n}), got {frame}")
    i = int(frame) % n
    tick = int(episode.tick[i])
    params = episode.meta["params"]
    time = params["time"]
    lo = max(1, i - MARK_TICKS + 1)
    back = slice(i, lo - 1, -1)  # frames i, i-1, ..., lo (a row per age); positions one frame earlier
    before = slice(i - 1, lo - 2 if lo >= 2 else None, -1)
    found = event_marks(episode.events[back], episode.row[before], episode.col[before],
                        episode.line_row[before], episode.line_col[before],
                        episode.meta["events"]) if marks and i >= 1 else NO_MARKS
    front = int(episode.front_in[i]) if hasattr(episode, "front_in") else -1
    return Scene(
        terrain=episode.terrain_at(i) if hasattr(episode, "terrain_at") else episode.terrain, tick=tick,
        weather=int(episode.weather[i]),
        cloud=float(episode.cloud[i]), night=night_at(tick, time["day_length"], time["night_fraction"]),
        **{k: getattr(episode, k)[i] for k in _FISHER_FIELDS},
        ripples=ripple_level(np.asarray(episode.fish_at(tick), np.float32),
                             np.float32(params["fish"]["density_ref"])),
        marks=found, front_in=front, front_to=_front_to(episode.weather, i, front),
    )


def _front_to(weather: np.ndarray, i: int, front: int) -> int:
    """The weather a front brings, if the frames reach its arrival (else -1: not known)."""
    if front < 0 or i + front + 1 >= len(weather):
        return -1
    return int(weather[i + front + 1])  # the frame after the tick of the change
