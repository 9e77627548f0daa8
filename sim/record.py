"""Episodes to files: one documented, safe, compact format, and one `load_episode`.

An episode file records ONE world of a `Simulation`, tick by tick, for playback and
analysis. It is a single ``.npz`` archive written with ``np.savez_compressed`` and read
with ``np.load(..., allow_pickle=False)``: plain numeric arrays and one JSON string, never
pickled objects, so opening a file from anywhere runs no code.

Frames. Frame 0 is the state when recording began (`capture_initial`, normally tick 0);
frame i > 0 is the state after the i-th recorded step (after any respawns the caller
made in that tick). ``actions[i]``, ``events[i]`` and ``reward[i]`` belong to the step
that led from frame i-1 to frame i; frame 0 has action -1, no events and reward 0.
N = number of frames = n_ticks + 1; F = fisher slots; (H, W) = the world's own map size.

Format "hungry-fisher-episode", version 2. Every key, its shape and dtype:

==============  =========  =======  ===================================================
key             shape      dtype    meaning
==============  =========  =======  ===================================================
meta            ()         unicode  JSON metadata (below)
terrain         (H, W)     int8     terrain codes, index into meta["terrain_names"] (high tide)
flats           (H, W)     bool     tidal flats: shore instead of terrain while low_tide
tick            (N,)       int32    the world's tick at each frame
actions         (N, F)     int8     action taken into the frame (meta["actions"]); -1: none
row, col        (N, F)     int16    fisher cell
facing          (N, F)     int8     0 north, 1 south, 2 east, 3 west
alive           (N, F)     bool     the slot holds a living fisher
lives           (N, F)     int16    lives begun in the slot (a change marks a newcomer)
hunger          (N, F)     float32  in [0, 1]
inventory       (N, F)     int16    fish carried
line            (N, F)     bool     a line is out
line_row/_col   (N, F)     int16    line_row, line_col: where the line lies (while line is set)
bite            (N, F)     int16    ticks left of a showing bite (0: none)
events          (N, F)     int64    bit i set: meta["events"][i] happened in that step
reward          (N, F)     float32  reward paid in that step (eating only)
weather         (N,)       int8     hidden weather state, index into meta["weather_states"]
front_in        (N,)       int32    ticks until a change to rain or storm; -1: none coming
barometer       (N,)       float32  barometer reading
cloud           (N,)       float32  cloud cover in [0, 1]
low_tide        (N,)       bool     the tide is out (flats dry); always False without tides
fish            (K, H, W)  float16  the fish field, every meta["fish_every"] ticks
fish_tick       (K,)       int32    tick of each snapshot: frame 0's, then multiples of fish_every
==============  =========  =======  ===================================================

meta (JSON object): format, version, world, world_source, world_description,
params (the world's full rule constants, ``dataclasses.asdict``), seed, world_index,
n_fishers, policy, fish_every, respawn (the simulation's own respawn flag), events,
actions, weather_states, terrain_names (names for the codes above), sim_version (the
hungry-fisher package version), created (UTC, ISO 8601), info (free-form, from the caller).

A reader rejects any file whose format name differs or whose version it does not know;
a future version bumps `FORMAT_VERSION` and says here what changed. Version 2 added
`flats` and `low_tide` (tides); version 1 files are read as worlds without tides.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import importlib.metadata
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim import tide as T
from sim import weather as W
from sim.archive import ArchiveError, Headers, read_headers, read_npz
from sim.events import EVENTS
from sim.fishers import ACTION_NAMES
from worlds.schema import TERRAIN_NAMES, WEATHER_STATES

FORMAT_NAME = "hungry-fisher-episode"
FORMAT_VERSION = 2
READS_VERSIONS = (1, 2)
NO_ACTION = -1
# The most bytes an episode file may unpack to (its arrays together): a 1,000-tick episode of 8
# fishers on the largest map (128 x 128) holds about 10 MB; 100,000 ticks about 660 MB.
MAX_EPISODE_BYTES = 1 << 30
MAX_META_BYTES = 1 << 22  # the metadata's JSON (numpy stores it as UTF-32: 4 bytes a character)

# key -> (dimensions, dtype): "N" frames, "F" fishers, "K" fish snapshots, "H"/"W" map
PER_FISHER = {
    "actions": np.int8, "row": np.int16, "col": np.int16, "facing": np.int8, "alive": np.bool_,
    "lives": np.int16, "hunger": np.float32, "inventory": np.int16, "line": np.bool_,
    "line_row": np.int16, "line_col": np.int16, "bite": np.int16, "events": np.int64,
    "reward": np.float32,
}
PER_WORLD = {"tick": np.int32, "weather": np.int8, "front_in": np.int32,
             "barometer": np.float32, "cloud": np.float32, "low_tide": np.bool_}
LAYOUT: dict[str, tuple[str, type]] = {
    "terrain": ("HW", np.int8), "flats": ("HW", np.bool_), "fish": ("KHW", np.float16),
    "fish_tick": ("K", np.int32),
    **{k: ("N", t) for k, t in PER_WORLD.items()}, **{k: ("NF", t) for k, t in PER_FISHER.items()},
}
KEYS: tuple[str, ...] = ("meta", *LAYOUT)
META_KEYS = ("format", "version", "world", "n_fishers", "fish_every", "events", "actions", "weather_states")
# state fields copied as they are, per fisher (the rest are derived or per world)
_STATE_PER_FISHER = ("row", "col", "facing", "alive", "lives", "hunger", "inventory", "line",
                     "line_row", "line_col", "bite")


class EpisodeFileError(ValueError):
    """An episode file cannot be read: names the file and what is wrong."""

    def __init__(self, path: Path | str, problem: str):
        self.path, self.problem = str(path), problem
        super().__init__(f"{path}: {problem}")


def package_version() -> str:
    """The installed hungry-fisher version, or "unknown" when running from a bare checkout."""
    try:
        return importlib.metadata.version("hungry-fisher")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@dataclass
class Episode:
    """One recorded episode: the arrays of the format (see the module docstring) and its metadata."""

    path: str
    meta: dict[str, Any]
    terrain: np.ndarray
    flats: np.ndarray
    tick: np.ndarray
    actions: np.ndarray
    row: np.ndarray
    col: np.ndarray
    facing: np.ndarray
    alive: np.ndarray
    lives: np.ndarray
    hunger: np.ndarray
    inventory: np.ndarray
    line: np.ndarray
    line_row: np.ndarray
    line_col: np.ndarray
    bite: np.ndarray
    events: np.ndarray
    reward: np.ndarray
    weather: np.ndarray
    front_in: np.ndarray
    barometer: np.ndarray
    cloud: np.ndarray
    low_tide: np.ndarray
    fish: np.ndarray
    fish_tick: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # keys this reader does not know

    @property
    def n_frames(self) -> int:
        return int(self.tick.shape[0])

    @property
    def n_ticks(self) -> int:
        """Steps recorded (frames after the initial one)."""
        return self.n_frames - 1

    @property
    def n_fishers(self) -> int:
        return int(self.row.shape[1])

    @property
    def world(self) -> str:
        return str(self.meta["world"])

    def events_of(self, fisher: int) -> list[tuple[int, str]]:
        """(tick of the frame the step led to, event name) for every event of one fisher slot, in order."""
        if not 0 <= fisher < self.n_fishers:
            raise IndexError(f"fisher: expected a slot in [0, {self.n_fishers}), got {fisher}")
        names = self.meta["events"]
        out = []
        for i in np.flatnonzero(self.events[:, fisher]):
            mask = int(self.events[i, fisher])
            out += [(int(self.tick[i]), name) for bit, name in enumerate(names) if mask >> bit & 1]
        return out

    def event_mask(self, name: str) -> np.ndarray:
        """(N, F) bool: where the named event happened."""
        return (self.events >> self.meta["events"].index(name) & 1).astype(bool)

    def terrain_at(self, frame: int) -> np.ndarray:
        """The terrain at a frame: the flats are shore while the tide is out."""
        if not self.low_tide[frame]:
            return self.terrain
        return np.where(self.flats, np.int8(TERRAIN_NAMES.index("shore")), self.terrain)

    def fish_at(self, tick: int) -> np.ndarray:
        """The latest fish snapshot at or before `tick` (the first one if none is earlier)."""
        k = int(np.searchsorted(self.fish_tick, tick, side="right")) - 1
        return self.fish[max(k, 0)]

    def weather_names(self) -> list[str]:
        """The hidden weather state of each frame, by name."""
        names = self.meta["weather_states"]
        return [names[int(w)] for w in self.weather]


class EpisodeRecorder:
    """Records one world of a Simulation into an episode file.

    Usage: make it before the first step, call `capture_initial()`, then `record(actions,
    result)` after every `sim.step`, and `save(path)` at the end. Recording costs a few
    small copies per tick, so it can ride along with any rollout.

    Args:
        sim: the Simulation to record (static data and, by default, the state to read).
        world: which world of the batch.
        fish_every: keep the fish field every this many ticks (it dominates the file size).
        policy: a name for what acted, stored in the metadata.
        info: free-form JSON-serialisable notes stored as meta["info"] (protocol, run folder).
    """

    def __init__(self, sim, world: int = 0, fish_every: int = 5, policy: str = "",
                 info: dict[str, Any] | None = None):
        if not 0 <= int(world) < sim.n_worlds:
            raise ValueError(f"world: expected an index in [0, {sim.n_worlds}), got {world}")
        if isinstance(fish_every, bool) or int(fish_every) != fish_every or fish_every < 1:
            raise ValueError(f"fish_every: expected an integer >= 1, got {fish_every!r}")
        self.sim, self.world, self.fish_every = sim, int(world), int(fish_every)
        w = sim.worlds[self.world]
        self.height, self.width = w.shape
        self.terrain = np.asarray(w.terrain, dtype=np.int8).copy()
        self.flats = np.zeros(w.shape, bool) if w.flats is None else np.asarray(w.flats, bool).copy()
        self.seed = int(sim.seeds[self.world])
        self.meta = {
            "format": FORMAT_NAME, "version": FORMAT_VERSION,
            "world": w.name, "world_source": w.source, "world_description": w.description,
            "params": dataclasses.asdict(w.params), "seed": self.seed, "world_index": self.world,
            "n_fishers": int(sim.n_fishers), "policy": str(policy), "fish_every": self.fish_every,
            "respawn": bool(sim.state.respawn[self.world]),
            "events": list(EVENTS), "actions": list(ACTION_NAMES), "weather_states": list(WEATHER_STATES),
            "terrain_names": list(TERRAIN_NAMES), "sim_version": package_version(),
            "created": None, "info": dict(info or {}),
        }
        self.frames: dict[str, list[np.ndarray]] = {k: [] for k in (*PER_FISHER, *PER_WORLD)}
        self.fish: list[np.ndarray] = []
        self.fish_tick: list[int] = []

    @property
    def n_ticks(self) -> int:
        return max(len(self.frames["tick"]) - 1, 0)

    def capture_initial(self) -> None:
        """Record the current state as frame 0 (call once, before the first step)."""
        if self.frames["tick"]:
            raise RuntimeError("capture_initial(): the initial frame is already recorded")
        f = self.sim.n_fishers
        self._capture(self.sim, np.full(f, NO_ACTION), np.zeros(f, np.int64), np.zeros(f, np.float32))

    def record(self, actions: np.ndarray, result, sim=None) -> None:
        """Record the step just taken: the batch's actions (B, F), its StepResult and the new state.

        `sim` is the simulation that stepped, if not the one given at construction: a
        recorder can capture tick 0 from one simulation and follow an identically seeded
        one that a rollout creates itself (the seed and the tick are checked).
        """
        sim = self.sim if sim is None else sim
        if not self.frames["tick"]:
            raise RuntimeError("record(): call capture_initial() before the first step")
        if int(sim.seeds[self.world]) != self.seed:
            raise ValueError(f"record(): world {self.world} has seed {sim.seeds[self.world]}, "
                             f"the recording began with seed {self.seed}")
        tick = int(sim.state.tick[self.world])
        if tick != int(self.frames["tick"][-1]) + 1:
            raise ValueError(f"record(): expected tick {int(self.frames['tick'][-1]) + 1}, got {tick} "
                             "(record every step, after sim.step)")
        w = self.world
        actions = np.asarray(actions).reshape(sim.n_worlds, sim.n_fishers)
        self._capture(sim, actions[w], result.events[w], result.reward[w])

    def _capture(self, sim, actions: np.ndarray, events: np.ndarray, reward: np.ndarray) -> None:
        s, w = sim.state, self.world
        fr = self.frames
        for name in _STATE_PER_FISHER:
            fr[name].append(getattr(s, name)[w].astype(PER_FISHER[name]))
        fr["actions"].append(np.asarray(actions).astype(np.int8))
        fr["events"].append(np.asarray(events).astype(np.int64))
        fr["reward"].append(np.asarray(reward).astype(np.float32))
        tick = int(s.tick[w])
        fr["tick"].append(np.int32(tick))
        fr["weather"].append(np.int8(s.weather[w]))
        fr["front_in"].append(np.int32(W.front_in(s)[w]))
        fr["barometer"].append(np.float32(s.barometer[w]))
        fr["cloud"].append(np.float32(s.cloud[w]))
        fr["low_tide"].append(np.bool_(T.low_tide(s.tick, sim.batch)[w]))
        if tick % self.fish_every == 0 or not self.fish:
            self.fish.append(s.fish[w, : self.height, : self.width].astype(np.float16))
            self.fish_tick.append(tick)

    def arrays(self) -> dict[str, np.ndarray]:
        """Everything the file holds, as arrays (meta as a 0-d unicode array)."""
        if not self.frames["tick"]:
            raise RuntimeError("nothing recorded: call capture_initial() and record()")
        meta = {**self.meta, "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}
        out: dict[str, np.ndarray] = {"meta": np.array(json.dumps(meta))}
        out["terrain"] = self.terrain
        out["flats"] = self.flats
        for name, frames in self.frames.items():
            out[name] = np.stack(frames).astype(LAYOUT[name][1])
        out["fish"] = np.stack(self.fish).astype(np.float16)
        out["fish_tick"] = np.asarray(self.fish_tick, dtype=np.int32)
        return out

    def save(self, path: str | Path) -> Path:
        """Write the episode to `path` atomically (a temporary file beside it, then a rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = self.arrays()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            with tmp.open("xb") as fh:  # a file object: numpy adds no ".npz" to the name
                np.savez_compressed(fh, **arrays)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return path


def load_episode(path: str | Path, max_bytes: int = MAX_EPISODE_BYTES) -> Episode:
    """Read and check an episode file; every problem is an `EpisodeFileError` naming the file.

    Nothing is unpacked before the archive's declared size (at most `max_bytes`), its metadata
    and every array's shape and dtype (from the .npy headers) fit the format, so a small file
    that unpacks to gigabytes is refused at once.
    """
    path = Path(path)
    if not path.exists():
        raise EpisodeFileError(path, "no such file")
    if not path.is_file():
        raise EpisodeFileError(path, "not a file")
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as err:
        raise EpisodeFileError(path, f"cannot be read ({err.strerror or err})") from None
    if magic != b"PK\x03\x04":
        raise EpisodeFileError(path, "not an episode file (not an .npz archive)")
    try:
        headers = read_headers(path, max_bytes)
        if "meta" not in headers:
            raise EpisodeFileError(path, "missing key 'meta' (not an episode file)")
        shape, dtype = headers["meta"]
        if shape != () or dtype.kind != "U" or dtype.itemsize > MAX_META_BYTES:
            raise EpisodeFileError(path, f"key 'meta': expected a JSON string of at most {MAX_META_BYTES:,} "
                                         f"bytes, got {dtype} {shape}")
        meta = _meta(path, read_npz(path, max_bytes, only=("meta",))["meta"])
        data = read_npz(path, max_bytes, check=lambda h: _check_layout(path, h, meta))
    except ArchiveError as err:
        raise EpisodeFileError(path, str(err)) from None
    if meta["version"] == 1:  # before tides
        data = {**data, "flats": np.zeros(data["terrain"].shape, bool),
                "low_tide": np.zeros(data["tick"].shape[:1], bool)}
    extra = {k: v for k, v in data.items() if k not in KEYS}
    return Episode(path=str(path), meta=meta, extra=extra, **{k: data[k] for k in LAYOUT})


def _check_layout(path: Path, headers: Headers, meta: dict[str, Any]) -> None:
    """Every key of the format with a shape and dtype that agree (from the .npy headers alone)."""
    if meta["version"] == 1 and "tick" in headers and "terrain" in headers:  # before tides
        headers = {**headers, "flats": (headers["terrain"][0], np.dtype(bool)),
                   "low_tide": (headers["tick"][0][:1], np.dtype(bool))}
    missing = [k for k in KEYS if k not in headers]
    if missing:
        raise EpisodeFileError(path, f"missing key(s) {missing}")
    shapes = {k: shape for k, (shape, _) in headers.items()}
    n = shapes["tick"][0] if len(shapes["tick"]) == 1 else -1
    if n < 1:
        raise EpisodeFileError(path, f"key 'tick': expected shape (N,) with N >= 1, got {shapes['tick']}")
    h, w = shapes["terrain"] if len(shapes["terrain"]) == 2 else (-1, -1)
    dims = {"N": n, "F": meta["n_fishers"], "H": h, "W": w,
            "K": shapes["fish_tick"][0] if len(shapes["fish_tick"]) == 1 else -1}
    for key, (letters, dtype) in LAYOUT.items():
        expected = tuple(dims[c] for c in letters)
        if shapes[key] != expected:
            shape = "(" + ", ".join(f"{c}={dims[c]}" for c in letters) + ")"
            raise EpisodeFileError(path, f"key '{key}': inconsistent shape {shapes[key]}, expected {shape}")
        if headers[key][1] != np.dtype(dtype):
            raise EpisodeFileError(path, f"key '{key}': expected dtype {np.dtype(dtype)}, "
                                         f"got {headers[key][1]}")
    if dims["K"] < 1:
        raise EpisodeFileError(path, "key 'fish': expected at least one snapshot")


def _meta(path: Path, arr: np.ndarray) -> dict[str, Any]:
    if arr.shape != () or arr.dtype.kind != "U":
        raise EpisodeFileError(path, f"key 'meta': expected a JSON string, got {arr.dtype} {arr.shape}")
    try:
        meta = json.loads(str(arr))
    except json.JSONDecodeError as err:
        raise EpisodeFileError(path, f"key 'meta': invalid JSON ({err})") from None
    if not isinstance(meta, dict):
        raise EpisodeFileError(path, "key 'meta': expected a JSON object")
    if meta.get("format") != FORMAT_NAME:
        raise EpisodeFileError(path, f"format {meta.get('format')!r}, expected {FORMAT_NAME!r}")
    if meta.get("version") not in READS_VERSIONS:
        raise EpisodeFileError(path, f"format version {meta.get('version')!r}; this reader reads "
                                     f"versions {list(READS_VERSIONS)}")
    missing = [k for k in META_KEYS if k not in meta]
    if missing:
        raise EpisodeFileError(path, f"metadata: missing field(s) {missing}")
    n_fishers = meta["n_fishers"]
    if isinstance(n_fishers, bool) or not isinstance(n_fishers, int) or n_fishers < 1:
        raise EpisodeFileError(path, f"metadata: n_fishers: expected an integer >= 1, got {n_fishers!r}")
    return meta
