"""The frames a viewer shows: a recorded episode, or one that grows while a simulation runs.

A `Track` holds the arrays of the episode format (`sim.record`) for one world, frame by
frame, plus what the HUD and the timeline need and the file does not store directly:
meals and catches counted so far per slot, and which events happened at each frame. A
recorded episode becomes a Track at once (`Track.from_episode`); the live view and human
play follow an `EpisodeRecorder` (`Track.following`) and pull its new frames with
`refresh()`, so playback, the live view, human play and export read one kind of object.

numpy only: the tests and the export read it without a window.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.events import EVENTS
from sim.observe import ripple_level
from sim.record import PER_FISHER, PER_WORLD, Episode, EpisodeRecorder
from sim.scene import Scene, event_marks, night_at
from sim.terrain import SHORE
from sim.tiles import MARK_TICKS, NO_MARKS
from sim.weather import STORM

# Timeline lanes, top to bottom: the events the issue asks to see, then storms (from the weather).
MARKS: tuple[str, ...] = ("cast", "bite", "catch", "missed", "ate", "starved", "storm")
_EVENT_BIT = {name: 1 << EVENTS.index(name) for name in MARKS if name in EVENTS}
_KEYS = (*PER_FISHER, *PER_WORLD)


class Track:
    """Frames 0..n_frames-1 of one world: the episode arrays, growable, with running counts."""

    def __init__(self, terrain: np.ndarray, meta: dict[str, Any], source: str = "",
                 flats: np.ndarray | None = None):
        self.terrain = np.asarray(terrain)  # at high tide (the only terrain of a world without tides)
        flats = np.zeros(self.terrain.shape, bool) if flats is None else np.asarray(flats, bool)
        # tidal flats are shore while the tide is out (sim.tide; the format's `flats` and `low_tide`)
        self.low_tide_terrain = np.where(flats, np.int8(SHORE), self.terrain).astype(self.terrain.dtype)
        self.meta = meta
        self.source = source
        self.n_fishers = int(meta["n_fishers"])
        self.n_frames = 0
        self._buf: dict[str, np.ndarray] = {}
        self.fish: list[np.ndarray] = []
        self.fish_tick: list[int] = []
        self._recorder: EpisodeRecorder | None = None
        time = meta["params"]["time"]
        self.day_length = int(time["day_length"])
        self.night_fraction = float(time["night_fraction"])
        self.fish_norm = 1.0  # fish per cell shown as the hottest colour of the heat map
        self.density_ref = np.float32(meta["params"]["fish"]["density_ref"])  # ripples' scale

    # --- building ------------------------------------------------------------------------------

    @classmethod
    def from_episode(cls, episode: Episode) -> Track:
        """All frames of a loaded episode file."""
        track = cls(episode.terrain, episode.meta, source=episode.path, flats=getattr(episode, "flats", None))
        track._extend({k: getattr(episode, k) for k in _KEYS})
        track.fish = list(episode.fish.astype(np.float32))
        track.fish_tick = [int(t) for t in episode.fish_tick]
        track.fish_norm = _fish_norm(episode.fish)
        return track

    @classmethod
    def following(cls, recorder: EpisodeRecorder) -> Track:
        """A track that grows with `recorder` (call `refresh()` after each recorded step)."""
        track = cls(recorder.terrain, recorder.meta, source="live", flats=getattr(recorder, "flats", None))
        track._recorder = recorder
        track.refresh()
        return track

    def refresh(self) -> int:
        """Pull the frames the followed recorder took since the last call; returns how many."""
        rec = self._recorder
        if rec is None:
            return 0
        have, total = self.n_frames, len(rec.frames["tick"])
        if total > have:
            self._extend({k: np.stack(rec.frames[k][have:total]) for k in _KEYS})
        if len(rec.fish) > len(self.fish):
            new = [f.astype(np.float32) for f in rec.fish[len(self.fish):]]
            self.fish += new
            self.fish_tick += rec.fish_tick[len(self.fish_tick):]
            if self.fish_norm == 1.0 and new:
                self.fish_norm = _fish_norm(np.stack(new))
        return total - have

    def _extend(self, arrays: dict[str, np.ndarray]) -> None:
        """Append frames (arrays with a leading frame axis), growing buffers by doubling."""
        k = int(arrays["tick"].shape[0])
        n = self.n_frames
        ev = np.asarray(arrays["events"], dtype=np.int64)
        arrays = {**arrays,
                  "ate_total": _has(ev, "ate").cumsum(axis=0, dtype=np.int32),
                  "catch_total": _has(ev, "catch").cumsum(axis=0, dtype=np.int32),
                  "marks": self._marks(ev, np.asarray(arrays["weather"]))}
        if n:  # running counts continue from the last frame
            arrays["ate_total"] += self._buf["ate_total"][n - 1]
            arrays["catch_total"] += self._buf["catch_total"][n - 1]
        for key, new in arrays.items():
            new = np.asarray(new)
            buf = self._buf.get(key)
            if buf is None or buf.shape[0] < n + k:
                grown = np.zeros((max(2 * (n + k), 64), *new.shape[1:]), dtype=new.dtype)
                if buf is not None:
                    grown[:n] = buf[:n]
                self._buf[key] = buf = grown
            buf[n:n + k] = new
        self.n_frames = n + k

    @staticmethod
    def _marks(events: np.ndarray, weather: np.ndarray) -> np.ndarray:
        """(k, F, len(MARKS)) bool: which timeline marks each fisher has at each frame."""
        out = np.zeros((*events.shape, len(MARKS)), dtype=bool)
        for lane, name in enumerate(MARKS):
            if name == "storm":
                out[..., lane] = (weather == STORM)[:, None]
            else:
                out[..., lane] = (events & _EVENT_BIT[name]) != 0
        return out

    # --- reading -------------------------------------------------------------------------------

    def __getitem__(self, key: str) -> np.ndarray:
        """The frames so far of one array of the format (or ate_total, catch_total, marks)."""
        return self._buf[key][: self.n_frames]

    def clamp(self, frame: int) -> int:
        return int(min(max(int(frame), 0), max(self.n_frames - 1, 0)))

    def terrain_at(self, frame: int) -> np.ndarray:
        """The terrain at a frame: tidal flats are shore while the tide is out."""
        low = self._buf.get("low_tide")
        return self.low_tide_terrain if low is not None and low[self.clamp(frame)] else self.terrain

    def scene(self, frame: int, marks: bool = True) -> Scene:
        """What `sim.render.draw_scene` draws for this frame (as `sim.render.scene_of_episode`
        draws the same frame of the file): ripples from the latest fish snapshot, the marks of
        the last ticks' events (if `marks`), the next front and what it brings if recorded."""
        i = self.clamp(frame)
        b = self._buf
        tick = int(b["tick"][i])
        lo = max(1, i - MARK_TICKS + 1)
        found = NO_MARKS
        if marks and i >= 1:
            back, before = slice(i, lo - 1, -1), slice(i - 1, lo - 2 if lo >= 2 else None, -1)
            found = event_marks(b["events"][back], b["row"][before], b["col"][before], b["line_row"][before],
                                b["line_col"][before], self.meta["events"])
        front = int(b["front_in"][i])
        to = int(b["weather"][i + front + 1]) if front >= 0 and i + front + 1 < self.n_frames else -1
        return Scene(terrain=self.terrain_at(i), tick=tick, weather=int(b["weather"][i]),
                     cloud=float(b["cloud"][i]), night=night_at(tick, self.day_length, self.night_fraction),
                     row=b["row"][i], col=b["col"][i], facing=b["facing"][i], alive=b["alive"][i],
                     line=b["line"][i], line_row=b["line_row"][i], line_col=b["line_col"][i],
                     bite=b["bite"][i], ripples=ripple_level(self.fish_at(i), self.density_ref),
                     marks=found, front_in=front, front_to=to)

    def fish_at(self, frame: int) -> np.ndarray:
        """The latest fish snapshot at or before this frame's tick, (H, W) float32."""
        tick = int(self._buf["tick"][self.clamp(frame)])
        k = int(np.searchsorted(np.asarray(self.fish_tick), tick, side="right")) - 1
        return self.fish[max(k, 0)]

    def clock(self, frame: int) -> tuple[int, str, bool]:
        """(day number from 1, "HH:MM", night) of a frame: the day starts at 06:00 with daylight."""
        tick = int(self._buf["tick"][self.clamp(frame)])
        phase = (tick % self.day_length) / self.day_length
        minutes = int(round(6 * 60 + phase * 24 * 60)) % (24 * 60)
        return (tick // self.day_length + 1, f"{minutes // 60:02d}:{minutes % 60:02d}",
                night_at(tick, self.day_length, self.night_fraction))

    @property
    def world(self) -> str:
        return str(self.meta.get("world", "?"))

    @property
    def policy(self) -> str:
        return str(self.meta.get("policy", "") or "?")

    def weather_name(self, frame: int) -> str:
        return str(self.meta["weather_states"][int(self._buf["weather"][self.clamp(frame)])])


def _has(events: np.ndarray, name: str) -> np.ndarray:
    return (events & (1 << EVENTS.index(name))) != 0


def _fish_norm(fish: np.ndarray) -> float:
    """The heat map's full scale: the 98th percentile of the first snapshot's water cells."""
    first = np.asarray(fish[0], dtype=np.float32)
    water = first[first > 0]
    return float(np.percentile(water, 98)) if water.size else 1.0
