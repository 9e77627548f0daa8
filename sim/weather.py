"""Weather: a hidden Markov process whose fronts are announced by readable cues.

Each state lasts a drawn number of ticks, and the next state is drawn when the current
one begins, so a front is known in advance. From `cue_at` (a drawn lead before the
change) the barometer and the clouds move toward the next state's values: falling
pressure and thickening cloud announce rain and storms. Time of day lives here too.

The step itself (`kernels._advance_weather`, `kernels._world_senses`) runs compiled; this
module builds the table it reads (`kernel_table`: named fields from the world's
parameters) and gives numpy callers the same senses.
"""

from __future__ import annotations

import numpy as np

from sim import kernels as K
from sim import rng
from sim.batch import WorldBatch, kind_table
from sim.state import State

CLEAR, CLOUDY, RAIN, STORM = range(4)
NO_FRONT = -1  # front_in when the next change is not to rain or storm
MIDDAY_SPAN = 0.3  # share of daylight, centred on noon, that counts as midday


def reset_weather(state: State, batch: WorldBatch, idx: np.ndarray) -> None:
    """Start the weather of worlds idx: the initial state drawn from the world's initial
    distribution, its schedule, the barometer (and its history) and clouds at its values."""
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    K.reset_weather(idx, batch.kind, rng.STREAM_RESET, kernel_table(batch), state.arrays())


def kernel_table(batch: WorldBatch) -> np.ndarray:
    """The weather's constants as the kernels read them, by name: one record per kind of world
    (`WorldBatch.kind`); built once per batch."""
    return kind_table(batch, "weather_table", _columns)


def _columns(batch: WorldBatch) -> dict[str, np.ndarray]:
    """The weather table's fields for every world (B, ...), from the world's parameters."""
    p = batch.p
    b = batch.n
    daylight = 1.0 - p.time_night_fraction
    # how eagerly fish feed, by (weather, front announced, midday, night), multiplied in this order:
    # the weather's factor, the front boost, the midday sun (clear skies only), the night
    one = np.ones(b)
    bite_factor = np.empty((b, 4, 2, 2, 2))
    for w in range(4):
        for front in (0, 1):
            for midday in (0, 1):
                for night in (0, 1):
                    factor = p.bites_weather[:, w].copy()
                    factor *= p.bites_front_boost if front else one
                    factor *= p.bites_midday if (midday and w == CLEAR) else one
                    factor *= p.bites_night if night else one
                    bite_factor[:, w, front, midday, night] = factor
    return {
        # a state lasts floor(low + u * (high - low + 1)) ticks (per state); the lead likewise
        "dwell_low": p.weather_dwell[..., 0],
        "dwell_span": p.weather_dwell[..., 1] - p.weather_dwell[..., 0] + 1,
        "next_cumulative": np.cumsum(p.weather_next, axis=2),  # [state, next]
        "initial_cumulative": np.cumsum(p.weather_initial, axis=1),
        "barometer": p.weather_barometer,  # the barometer's and the clouds' targets per state
        "cloud": p.weather_cloud,
        "bite_factor": bite_factor,
        "lead_low": p.weather_lead[:, 0],
        "lead_span": p.weather_lead[:, 1] - p.weather_lead[:, 0] + 1,
        "noise_scale": p.weather_barometer_noise * np.sqrt(12.0),  # uniform noise with that std
        "barometer_rate": p.weather_barometer_rate,
        "cloud_rate": p.weather_cloud_rate,
        "day_length": p.time_day_length,
        "night_from": daylight,
        "noon": daylight / 2,
        "midday_half": daylight * MIDDAY_SPAN / 2,
    }


def senses(state: State, batch: WorldBatch) -> np.ndarray:
    """(B,) records kernels.SENSES: each world's time of day, night, midday, announced front,
    bite factor and barometer trend now (all float64), as the step function senses them."""
    out = np.empty(state.n_worlds, dtype=K.SENSES)
    K.world_senses(RAIN, kernel_table(batch), batch.kind, state.tick, state.weather, state.next_weather,
                   state.cue_at, state.barometer, state.baro_hist, out)
    return out


def barometer_trend(state: State) -> np.ndarray:
    """Barometer now minus the oldest entry of the ring: TREND_TICKS - 1 ticks ago.

    Read between steps: the newest entry was written at tick - 1, so the oldest sits at
    tick % TREND_TICKS.
    """
    out = np.empty(state.n_worlds)
    K.barometer_trend(state.tick, state.barometer, state.baro_hist, out)
    return out


def front_coming(state: State) -> np.ndarray:
    """(B,) bool: a change to rain or storm is announced (the cues already show it)."""
    out = np.empty(state.n_worlds, dtype=bool)
    K.front_coming(RAIN, state.tick, state.cue_at, state.weather, state.next_weather, out)
    return out


def front_in(state: State) -> np.ndarray:
    """(B,) ticks until the next change to rain or storm, or NO_FRONT if the next change is not one."""
    is_front = (state.next_weather >= RAIN) & (state.next_weather > state.weather)
    return np.where(is_front, state.change_at - state.tick, NO_FRONT)


def day_phase(state: State, batch: WorldBatch) -> np.ndarray:
    """(B,) position in the day in [0, 1): daylight first, night at the end."""
    return senses(state, batch)["day"]


def is_night(state: State, batch: WorldBatch) -> np.ndarray:
    return senses(state, batch)["night"] != 0.0


def is_midday(state: State, batch: WorldBatch) -> np.ndarray:
    """(B,) bool: within MIDDAY_SPAN of daylight, centred on noon."""
    return senses(state, batch)["midday"] != 0.0


def bite_factor(state: State, batch: WorldBatch) -> np.ndarray:
    """(B,) how eagerly fish feed now: weather, an announced front, midday sun, night."""
    return senses(state, batch)["bite_factor"]
