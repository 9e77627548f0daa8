"""Weather: a hidden Markov process whose fronts are announced by readable cues.

Each state lasts a drawn number of ticks, and the next state is drawn when the current
one begins, so a front is known in advance. From `cue_at` (a drawn lead before the
change) the barometer and the clouds move toward the next state's values: falling
pressure and thickening cloud announce rain and storms. Time of day lives here too.

The step itself (`kernels._advance_weather`, `kernels._world_senses`) runs compiled; this
module builds the per-world table it reads and gives numpy callers the same senses.
"""

from __future__ import annotations

import numpy as np

from sim import kernels as K
from sim import rng
from sim.batch import per_kind

CLEAR, CLOUDY, RAIN, STORM = range(4)
NO_FRONT = -1  # front_in when the next change is not to rain or storm
MIDDAY_SPAN = 0.3  # share of daylight, centred on noon, that counts as midday


def reset_weather(state, batch, idx: np.ndarray) -> None:
    """Start the weather of worlds idx: the initial state drawn from the world's initial
    distribution, its schedule, the barometer (and its history) and clouds at its values."""
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    K.reset_weather(idx, batch.kind, state.keys, rng.STREAM_RESET, state.tick, kernel_table(batch),
                    state.weather, state.next_weather, state.change_at, state.cue_at, state.barometer,
                    state.baro_hist, state.cloud)


def kernel_table(batch) -> np.ndarray:
    """The weather's constants as the kernels read them: one row per kind of world
    (`WorldBatch.kind`), (kinds, kernels.N_W) float64, columns kernels.W_*; built once per batch."""
    table = batch.cache.get("weather_table")
    if table is None:
        table = batch.cache["weather_table"] = per_kind(batch, _build_table)
    return table


def _build_table(batch) -> np.ndarray:
    p = batch.p
    b = batch.n
    out = np.zeros((b, K.N_W))
    # a state lasts floor(low + u * (high - low + 1)) ticks; the lead likewise
    out[:, K.W_DWELL_LOW:K.W_DWELL_LOW + 4] = p.weather_dwell[..., 0]
    out[:, K.W_DWELL_SPAN:K.W_DWELL_SPAN + 4] = p.weather_dwell[..., 1] - p.weather_dwell[..., 0] + 1
    out[:, K.W_NEXT_CUMULATIVE:K.W_NEXT_CUMULATIVE + 16] = np.cumsum(p.weather_next, axis=2).reshape(b, 16)
    out[:, K.W_INITIAL_CUMULATIVE:K.W_INITIAL_CUMULATIVE + 4] = np.cumsum(p.weather_initial, axis=1)
    out[:, K.W_BAROMETER:K.W_BAROMETER + 4] = p.weather_barometer
    out[:, K.W_CLOUD:K.W_CLOUD + 4] = p.weather_cloud
    out[:, K.W_LEAD_LOW] = p.weather_lead[:, 0]
    out[:, K.W_LEAD_SPAN] = p.weather_lead[:, 1] - p.weather_lead[:, 0] + 1
    out[:, K.W_NOISE_SCALE] = p.weather_barometer_noise * np.sqrt(12.0)  # uniform noise with that std
    out[:, K.W_BAROMETER_RATE] = p.weather_barometer_rate
    out[:, K.W_CLOUD_RATE] = p.weather_cloud_rate
    out[:, K.W_DAY_LENGTH] = p.time_day_length
    daylight = 1.0 - p.time_night_fraction
    out[:, K.W_NIGHT_FROM] = daylight
    out[:, K.W_NOON] = daylight / 2
    out[:, K.W_MIDDAY_HALF] = daylight * MIDDAY_SPAN / 2
    # how eagerly fish feed, by (weather, front announced, midday, night), multiplied in this order:
    # the weather's factor, the front boost, the midday sun (clear skies only), the night
    one = np.ones(b)
    table = np.empty((b, 4, 2, 2, 2))
    for w in range(4):
        for front in (0, 1):
            for midday in (0, 1):
                for night in (0, 1):
                    factor = p.bites_weather[:, w].copy()
                    factor *= p.bites_front_boost if front else one
                    factor *= p.bites_midday if (midday and w == CLEAR) else one
                    factor *= p.bites_night if night else one
                    table[:, w, front, midday, night] = factor
    out[:, K.W_BITE_FACTOR:K.W_BITE_FACTOR + 32] = table.reshape(b, 32)
    return out


def senses(state, batch) -> np.ndarray:
    """(B, kernels.N_K) float64: each world's time of day, night, midday, announced front, bite
    factor and barometer trend now (columns kernels.K_*), as the step function senses them."""
    out = np.empty((state.n_worlds, K.N_K))
    K.world_senses(RAIN, kernel_table(batch), batch.kind, state.tick, state.weather, state.next_weather,
                   state.cue_at, state.barometer, state.baro_hist, out)
    return out


def barometer_trend(state) -> np.ndarray:
    """Barometer now minus the oldest entry of the ring: TREND_TICKS - 1 ticks ago.

    Read between steps: the newest entry was written at tick - 1, so the oldest sits at
    tick % TREND_TICKS.
    """
    out = np.empty(state.n_worlds)
    K.barometer_trend(state.tick, state.barometer, state.baro_hist, out)
    return out


def front_coming(state) -> np.ndarray:
    """(B,) bool: a change to rain or storm is announced (the cues already show it)."""
    out = np.empty(state.n_worlds, dtype=bool)
    K.front_coming(RAIN, state.tick, state.cue_at, state.weather, state.next_weather, out)
    return out


def front_in(state) -> np.ndarray:
    """(B,) ticks until the next change to rain or storm, or NO_FRONT if the next change is not one."""
    is_front = (state.next_weather >= RAIN) & (state.next_weather > state.weather)
    return np.where(is_front, state.change_at - state.tick, NO_FRONT)


def day_phase(state, batch) -> np.ndarray:
    """(B,) position in the day in [0, 1): daylight first, night at the end."""
    return senses(state, batch)[:, K.K_DAY]


def is_night(state, batch) -> np.ndarray:
    return senses(state, batch)[:, K.K_NIGHT] != 0.0


def is_midday(state, batch) -> np.ndarray:
    """(B,) bool: within MIDDAY_SPAN of daylight, centred on noon."""
    return senses(state, batch)[:, K.K_MIDDAY] != 0.0


def bite_factor(state, batch) -> np.ndarray:
    """(B,) how eagerly fish feed now: weather, an announced front, midday sun, night."""
    return senses(state, batch)[:, K.K_BITE_FACTOR]
