"""Weather: a hidden Markov process whose fronts are announced by readable cues.

Each state lasts a drawn number of ticks, and the next state is drawn when the current
one begins, so a front is known in advance. From `cue_at` (a drawn lead before the
change) the barometer and the clouds move toward the next state's values: falling
pressure and thickening cloud announce rain and storms. Time of day lives here too.
"""

from __future__ import annotations

import numpy as np

from sim import rng

CLEAR, CLOUDY, RAIN, STORM = range(4)
NO_FRONT = -1  # front_in when the next change is not to rain or storm
MIDDAY_SPAN = 0.3  # share of daylight, centred on noon, that counts as midday


def _categorical(probs: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index drawn from each row of probs (B, K) with uniforms u (B,)."""
    return np.minimum((np.cumsum(probs, axis=1) <= u[:, None]).sum(axis=1), probs.shape[1] - 1)


def _schedule(state, batch, idx: np.ndarray, u: np.ndarray) -> None:
    """For worlds idx entering state.weather now: draw how long it lasts, what comes next, the lead."""
    p = batch.p
    cur = state.weather[idx]
    dwell = p.weather_dwell[idx, cur]  # (n, 2)
    length = np.floor(dwell[:, 0] + u[:, 0] * (dwell[:, 1] - dwell[:, 0] + 1)).astype(np.int64)
    state.change_at[idx] = state.tick[idx] + np.maximum(length, 1)
    state.next_weather[idx] = _categorical(p.weather_next[idx, cur], u[:, 1])
    lead = p.weather_lead[idx]
    lead_ticks = np.floor(lead[:, 0] + u[:, 2] * (lead[:, 1] - lead[:, 0] + 1)).astype(np.int64)
    state.cue_at[idx] = state.change_at[idx] - lead_ticks


def reset_weather(state, batch, idx: np.ndarray) -> None:
    u = rng.uniform(state.keys[idx], rng.STREAM_RESET, np.full(idx.size, -1), 4)
    state.weather[idx] = _categorical(batch.p.weather_initial[idx], u[:, 3])
    _schedule(state, batch, idx, u)
    cur = state.weather[idx]
    state.barometer[idx] = batch.p.weather_barometer[idx, cur]
    state.baro_hist[idx] = state.barometer[idx, None]
    state.cloud[idx] = batch.p.weather_cloud[idx, cur]


def advance_weather(state, batch) -> None:
    """One tick of weather: switch state when due, then move the cues toward their targets."""
    p = batch.p
    u = rng.uniform(state.keys, rng.STREAM_WEATHER, state.tick, 4)
    due = np.flatnonzero(state.tick >= state.change_at)
    if due.size:
        state.weather[due] = state.next_weather[due]
        _schedule(state, batch, due, u[due])
    cue_state = np.where(state.tick >= state.cue_at, state.next_weather, state.weather)
    rows = np.arange(state.n_worlds)
    baro_target = p.weather_barometer[rows, cue_state]
    cloud_target = p.weather_cloud[rows, cue_state]
    noise = p.weather_barometer_noise * np.sqrt(12.0) * (u[:, 3] - 0.5)  # uniform noise with that std
    state.barometer = np.clip(state.barometer + p.weather_barometer_rate * (baro_target - state.barometer)
                              + noise, 0.0, 1.0)
    state.cloud = state.cloud + p.weather_cloud_rate * (cloud_target - state.cloud)
    state.baro_hist[rows, state.tick % state.baro_hist.shape[1]] = state.barometer


def barometer_trend(state) -> np.ndarray:
    """Barometer now minus TREND_TICKS ticks ago (the oldest entry of the ring)."""
    oldest = state.baro_hist[np.arange(state.n_worlds), (state.tick + 1) % state.baro_hist.shape[1]]
    return state.barometer - oldest


def front_coming(state) -> np.ndarray:
    """(B,) bool: a change to rain or storm is announced (the cues already show it)."""
    return (state.tick >= state.cue_at) & (state.next_weather >= RAIN) & (state.next_weather > state.weather)


def front_in(state) -> np.ndarray:
    """(B,) ticks until the next change to rain or storm, or NO_FRONT if the next change is not one."""
    is_front = (state.next_weather >= RAIN) & (state.next_weather > state.weather)
    return np.where(is_front, state.change_at - state.tick, NO_FRONT)


def day_phase(state, batch) -> np.ndarray:
    """(B,) position in the day in [0, 1): daylight first, night at the end."""
    return (state.tick % batch.p.time_day_length) / batch.p.time_day_length


def is_night(state, batch) -> np.ndarray:
    return day_phase(state, batch) >= 1.0 - batch.p.time_night_fraction


def is_midday(state, batch) -> np.ndarray:
    daylight = 1.0 - batch.p.time_night_fraction
    return np.abs(day_phase(state, batch) - daylight / 2) <= daylight * MIDDAY_SPAN / 2


def bite_factor(state, batch) -> np.ndarray:
    """(B,) how eagerly fish feed now: weather, an announced front, midday sun, night."""
    p = batch.p
    factor = p.bites_weather[np.arange(state.n_worlds), state.weather].copy()
    factor *= np.where(front_coming(state), p.bites_front_boost, 1.0)
    factor *= np.where(is_midday(state, batch) & (state.weather == CLEAR), p.bites_midday, 1.0)
    factor *= np.where(is_night(state, batch), p.bites_night, 1.0)
    return factor
