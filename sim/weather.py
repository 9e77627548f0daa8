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
    t = _tables(batch)
    cur = state.weather[idx]
    key = idx * 4 + cur
    u = np.ascontiguousarray(u.T)
    length = u[0] * t.dwell_span[key]
    length += t.dwell_low[key]
    length = np.floor(length).astype(np.int64)
    change_at = state.tick[idx] + np.maximum(length, 1)
    state.change_at[idx] = change_at
    # categorical draw: the first state whose cumulative probability exceeds u
    state.next_weather[idx] = np.minimum((t.next_cumulative[key] <= u[1][:, None]).sum(axis=1), 3)
    lead = u[2] * t.lead_span[idx]
    lead += t.lead_low[idx]
    state.cue_at[idx] = change_at - np.floor(lead).astype(np.int64)


def reset_weather(state, batch, idx: np.ndarray) -> None:
    u = rng.uniform(state.keys[idx], rng.STREAM_RESET, np.full(idx.size, -1), 4)
    state.weather[idx] = _categorical(batch.p.weather_initial[idx], u[:, 3])
    _schedule(state, batch, idx, u)
    cur = state.weather[idx]
    state.barometer[idx] = batch.p.weather_barometer[idx, cur]
    state.baro_hist[idx] = state.barometer[idx, None]
    state.cloud[idx] = batch.p.weather_cloud[idx, cur]


class _WeatherTables:
    """Per-batch constants of the weather's hot path, flattened for one gather per lookup."""

    def __init__(self, batch):
        p = batch.p
        b = batch.n
        self.rows = np.arange(b)
        self.row4 = self.rows * len(p.weather_barometer[0])  # flat index of (world, state 0)
        self.barometer = p.weather_barometer.reshape(-1)
        self.cloud = p.weather_cloud.reshape(-1)
        self.noise_scale = p.weather_barometer_noise * np.sqrt(12.0)
        self.night_from = 1.0 - p.time_night_fraction
        daylight = 1.0 - p.time_night_fraction
        self.noon, self.midday_half = daylight / 2, daylight * MIDDAY_SPAN / 2
        # bite factor for (world, weather, front, midday, night), multiplied in bite_factor's order
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
        self.bite_factor = table.reshape(-1)
        self.row32 = self.rows * 32
        # _schedule's draws: low + u * (high - low + 1), and the cumulative next-state table
        self.dwell_low = p.weather_dwell[..., 0].reshape(-1)
        self.dwell_span = (p.weather_dwell[..., 1] - p.weather_dwell[..., 0] + 1).reshape(-1)
        self.lead_low = p.weather_lead[:, 0]
        self.lead_span = p.weather_lead[:, 1] - p.weather_lead[:, 0] + 1
        self.next_cumulative = np.cumsum(p.weather_next, axis=2).reshape(b * 4, 4)


def _tables(batch) -> _WeatherTables:
    tables = batch.cache.get("weather")
    if tables is None:
        tables = batch.cache["weather"] = _WeatherTables(batch)
    return tables


def advance_weather(state, batch, u: np.ndarray | None = None) -> None:
    """One tick of weather: switch state when due, then move the cues toward their targets.

    u: this tick's STREAM_WEATHER draws (B, 4) if already drawn.
    """
    p = batch.p
    if u is None:
        u = rng.uniform(state.keys, rng.STREAM_WEATHER, state.tick, 4)
    t = _tables(batch)
    due = np.flatnonzero(state.tick >= state.change_at)
    if due.size:
        state.weather[due] = state.next_weather[due]
        _schedule(state, batch, due, u[due])
    cue_state = np.where(state.tick >= state.cue_at, state.next_weather, state.weather)
    cue_state += t.row4
    noise = u[:, 3] - 0.5
    noise *= t.noise_scale  # uniform noise with that std
    # barometer + rate * (target - barometer) + noise, clipped to [0, 1]
    barometer = t.barometer[cue_state]
    barometer -= state.barometer
    barometer *= p.weather_barometer_rate
    barometer += state.barometer
    barometer += noise
    np.maximum(barometer, 0.0, out=barometer)
    np.minimum(barometer, 1.0, out=barometer)
    state.barometer = barometer
    cloud = t.cloud[cue_state]
    cloud -= state.cloud
    cloud *= p.weather_cloud_rate
    cloud += state.cloud
    state.cloud = cloud
    state.baro_hist[t.rows, state.tick % state.baro_hist.shape[1]] = barometer


def tick_senses(state, batch) -> tuple[np.ndarray, np.ndarray]:
    """(is_night, bite_factor) of this tick, as the functions of those names compute them."""
    t = _tables(batch)
    day = state.tick % batch.p.time_day_length
    day /= batch.p.time_day_length
    night = day >= t.night_from
    midday = np.abs(day - t.noon) <= t.midday_half
    front = (state.tick >= state.cue_at) & (state.next_weather >= RAIN) & (state.next_weather > state.weather)
    key = state.weather * 8 + t.row32
    key += front * 4
    key += midday * 2
    key += night
    return night, t.bite_factor[key]


def barometer_trend(state) -> np.ndarray:
    """Barometer now minus the oldest entry of the ring: TREND_TICKS - 1 ticks ago.

    Read between steps: the newest entry was written at tick - 1, so the oldest sits at
    tick % TREND_TICKS.
    """
    oldest = state.baro_hist[np.arange(state.n_worlds), state.tick % state.baro_hist.shape[1]]
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
