"""What a scripted fisher knows of its world's rules: read from the world, never assumed.

A scripted fisher acts on observations, like a learner, but it is written by someone
who read the world file: the cast reach, whether the richest water can show ripples at
all, the barometer and cloud values of each weather state and how fast they move, the
warning lead, the give-up time that is best for a spot of each ripple level under the world's
bite rule (`agents.give_up`), and (for the expert) its tuned lead and roam times
(`agents/expert_params.toml`, written by `python -m agents.tune_expert`). Everything is
per observation row, so one fisher can act in a batch of different worlds.

The weather clock (`storm_eta`) is the forecaster's reasoning: cloud cover moves
toward the cued state's value without noise, so for each possible change (state s to
state t) the cloud alone says how many ticks ago the cues began; the barometer (noisy)
picks the change that fits best. A storm-bound change k ticks old is due in about
mean lead - k ticks.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from agents.give_up import give_up_by_ripple
from sim.observe import RIPPLE_FULL, RIPPLE_LEVELS
from worlds.loader import World, load_world
from worlds.schema import WATER_KINDS, WEATHER_STATES

STORM = WEATHER_STATES.index("storm")
EXPERT_PARAMS = Path(__file__).resolve().parent / "expert_params.toml"
LEVELS = RIPPLE_LEVELS + 1  # ripple levels 0..RIPPLE_LEVELS
# the expert's parameters where no tuned entry exists (a world nobody tuned): searched on
# the shipped worlds (the [default] table of expert_params.toml overrides these)
DEFAULT_LEAD = 4
# ticks after giving up on a spot during which the expert casts nowhere within 2 cells of it (0: it
# may cast again at once, where it stands): recasting refreshes a line the fish grew wary of
DEFAULT_ROAM = 0
CLOUD_TOLERANCE = 0.02  # a cloud this close to a state's value counts as settled there


@lru_cache(maxsize=1)
def tuned_table() -> dict[str, dict]:
    """The tuned expert's parameters per world name (and [default]), from expert_params.toml."""
    if not EXPERT_PARAMS.exists():
        return {}
    return tomllib.loads(EXPERT_PARAMS.read_text())


def tuned_params(world_name: str) -> tuple[int, int]:
    """(lead_ticks, roam_ticks) of the tuned expert in a world (the default if untuned)."""
    table = tuned_table()
    entry = table.get(world_name, table.get("default", {}))
    return int(entry.get("lead_ticks", DEFAULT_LEAD)), int(entry.get("roam_ticks", DEFAULT_ROAM))


def give_up_times(world: World) -> tuple[int, ...]:
    """The give-up time per ripple level 0..RIPPLE_LEVELS: the best one for a spot that looks
    that rich, from the world's bite rule (agents.give_up), not searched."""
    f = world.params.fishing
    return give_up_by_ripple(f.p_bite, f.settle, f.wary_ticks, RIPPLE_LEVELS, RIPPLE_FULL)


@dataclass
class WorldReading:
    """Per observation row: the constants a scripted fisher relies on (arrays of shape (N, ...))."""

    cast_reach: np.ndarray      # (N,) int
    ripples_show: np.ndarray    # (N,) bool: the richest water reaches ripple level 1
    cloud: np.ndarray           # (N, 4) cloud target per weather state
    barometer: np.ndarray       # (N, 4) barometer target per weather state
    cloud_rate: np.ndarray      # (N,)
    barometer_rate: np.ndarray  # (N,)
    lead_mean: np.ndarray       # (N,) mean ticks between the first cue and the change
    squall: np.ndarray          # (N,) ticks of squall ahead of a storm (its danger comes that early)
    can_follow: np.ndarray      # (N, 4, 4) bool: state t can follow state s
    tuned_lead: np.ndarray      # (N,) the tuned expert's lead time
    tuned_give_up: np.ndarray   # (N, LEVELS) the give-up time per ripple level (from the bite rule)
    tuned_roam: np.ndarray      # (N,) ticks it keeps away from a spot it gave up on

    @property
    def n(self) -> int:
        return self.cast_reach.shape[0]


def _row(world: World) -> dict[str, np.ndarray]:
    p = world.params
    w = p.weather
    capacity = max(p.fish.capacity.get(k, 0.0) for k in WATER_KINDS)
    lead, roam = tuned_params(world.name)
    follow = np.array([[w.next.get(s, {}).get(t, 0.0) > 0 for t in WEATHER_STATES] for s in WEATHER_STATES])
    return {
        "cast_reach": np.array(p.fishing.cast_reach),
        "ripples_show": np.array(capacity / p.fish.density_ref >= RIPPLE_FULL / RIPPLE_LEVELS),
        "cloud": np.array([w.cloud[s] for s in WEATHER_STATES], dtype=float),
        "barometer": np.array([w.barometer[s] for s in WEATHER_STATES], dtype=float),
        "cloud_rate": np.array(w.cloud_rate), "barometer_rate": np.array(w.barometer_rate),
        "lead_mean": np.array((w.lead[0] + w.lead[1]) / 2), "can_follow": follow,
        "squall": np.array(float(p.storm.squall_ticks)),
        "tuned_lead": np.array(lead), "tuned_give_up": np.array(give_up_times(world)),
        "tuned_roam": np.array(roam),
    }


def read_worlds(worlds: list[World | str], n_fishers: int) -> WorldReading:
    """A reading for observation rows ordered (world, fisher), as `Simulation.observe().reshape(-1, OBS)`."""
    rows = [_row(w if isinstance(w, World) else load_world(w)) for w in worlds]
    fields = {k: np.repeat(np.stack([r[k] for r in rows]), n_fishers, axis=0) for k in rows[0]}
    return WorldReading(**fields)


@lru_cache(maxsize=8)
def _default_reading(world: str) -> WorldReading:
    return read_worlds([world], 1)


def reading_for(reading: WorldReading | None, n: int, world: str = "lake") -> WorldReading:
    """The reading for n rows: the bound one when it fits (a one-row reading fits any n), else
    `world`'s for every row."""
    if reading is not None and reading.n == n:
        return reading
    one = reading if reading is not None and reading.n == 1 else _default_reading(world)
    return WorldReading(**{k: np.repeat(getattr(one, k), n, axis=0) for k in one.__dataclass_fields__})


def storm_eta(cloud: np.ndarray, barometer: np.ndarray, storm_on: np.ndarray, r: WorldReading) -> np.ndarray:
    """(N,) estimated ticks until a storm's danger comes (its squall, in a world with one, else
    the storm itself): 0 while one is on, inf when none is announced.

    Every change s -> t the world allows (and "no change") is a hypothesis; cloud cover
    (exact) gives each one's age k, the barometer (noisy) says which fits best.
    """
    n = cloud.shape[0]
    best = np.full(n, np.inf)
    eta = np.full(n, np.inf)
    for s in range(4):
        for t in range(4):
            c0, ct = r.cloud[:, s], r.cloud[:, t]
            if s == t:
                allowed = np.ones(n, dtype=bool)
                valid = np.abs(cloud - c0) < CLOUD_TOLERANCE
                err = np.abs(barometer - r.barometer[:, s])
                k = np.zeros(n)
            else:
                allowed = r.can_follow[:, s, t]
                span = c0 - ct
                with np.errstate(divide="ignore", invalid="ignore"):
                    x = np.where(span != 0, (cloud - ct) / span, np.nan)
                valid = (x > 0) & (x <= 1 + CLOUD_TOLERANCE) | (x <= 0) & (t == STORM)
                k = np.log(np.clip(x, 1e-6, 1.0)) / np.log1p(-r.cloud_rate)
                decay = (1 - r.barometer_rate) ** k
                predicted = r.barometer[:, t] + (r.barometer[:, s] - r.barometer[:, t]) * decay
                err = np.abs(barometer - predicted)
            better = allowed & valid & (err < best)
            best = np.where(better, err, best)
            eta = np.where(better, r.lead_mean - r.squall - k if (t == STORM and s != t) else np.inf, eta)
    return np.where(storm_on, 0.0, np.maximum(eta, 0.0))
