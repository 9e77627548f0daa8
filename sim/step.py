"""The one step function: every view of the world (PettingZoo, Gymnasium, the SB3 VecEnv,
the Mesa model, the recorder, playback) advances the world only through `step`.

Order of phases in a tick, and why:
1. weather: the sky of this tick is what fishers act under;
2. actions: moves, casts, reeling in, eating (eating is the only source of reward);
3. bites: lines age, showing bites count down (missed), new bites are drawn;
4. storm: exposed fishers may lose their line or a fish; sheltered ones are safe;
5. fish: movement and regrowth (after catches, so a catch is felt at once);
6. hunger: rises, faster in a storm outside; at 1 the fisher starves, and in
   respawning worlds a new fisher takes the slot.

All of a tick's random draws are made at its start in one pass (`rng.StreamDraws`); a
draw depends only on (world key, stream, tick, index), so drawing some that go unused
changes nothing. The phases work on flat per-slot views (`fishers.Slots`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import fishers as FS
from sim import rng
from sim import weather as W
from sim.batch import WorldBatch
from sim.fish import update_fish
from sim.state import State
from sim.weather import advance_weather


@dataclass
class StepResult:
    reward: np.ndarray      # (B, F) float32: meal_reward per meal, 0 otherwise
    events: np.ndarray      # (B, F) int64 bit masks (sim.events)
    starved: np.ndarray     # (B, F) bool: a life ended this tick
    final_meals: np.ndarray     # (B, F) meals of the life that ended (0 elsewhere)
    final_catches: np.ndarray   # (B, F)
    final_lifetime: np.ndarray  # (B, F)


def _draws(state: State, batch: WorldBatch) -> rng.StreamDraws:
    """One pass of counter-based draws per tick for every stream the step uses."""
    f = state.n_fishers
    key = ("step_draws", f)
    draws = batch.cache.get(key)
    if draws is None:
        draws = batch.cache[key] = rng.StreamDraws(
            batch.n, [(rng.STREAM_WEATHER, 4), (rng.STREAM_BITE, f), (rng.STREAM_STORM, 2 * f),
                      (rng.STREAM_SPAWN, 3 * f)])
    return draws


def step(state: State, batch: WorldBatch, actions: np.ndarray) -> StepResult:
    """Advance every world of the batch one tick, in place. actions: (B, F) ints in [0, 8)."""
    act = np.asarray(actions).reshape(state.n_worlds, state.n_fishers)
    if act.dtype.kind not in "iu" or (act.size and (act.min() < 0 or act.max() >= FS.N_ACTIONS)):
        raise ValueError(f"actions: expected integers in [0, {FS.N_ACTIONS}), got {act.dtype} "
                         f"in [{act.min()}, {act.max()}]")
    index = batch.slots(state.n_fishers)
    # every draw of this tick at once (draws depend on (key, stream, tick, index) only)
    draws = _draws(state, batch)
    u = draws.draw(state.keys, state.tick)
    ev = np.zeros(act.shape, dtype=np.int64)
    advance_weather(state, batch, u[:, draws.columns(rng.STREAM_WEATHER)])
    night, bite_factor = W.tick_senses(state, batch)
    v = FS.Slots(state, batch, ev)
    a = act.reshape(-1)
    FS.move(v, a)
    FS.cast(v, a)
    FS.reel(v, a)
    ate = FS.eat(v, a)
    FS.bites(v, u[:, draws.columns(rng.STREAM_BITE)], bite_factor)
    exposed = FS.storm(v, u[:, draws.columns(rng.STREAM_STORM)])
    update_fish(state, batch, night)
    starved = FS.hunger(v, exposed)
    reward = np.zeros(act.shape, dtype=np.float32)
    reward.reshape(-1)[ate] = index.meal_reward[ate]
    starved_mask = np.zeros(act.shape, dtype=bool)
    finals = [np.zeros(act.shape, dtype=np.int64) for _ in range(3)]
    if starved.size:
        starved_mask.reshape(-1)[starved] = True
        for out, field in zip(finals, (v.meals, v.catches, v.lifetime), strict=True):
            out.reshape(-1)[starved] = field[starved]
    result = StepResult(reward=reward, events=ev, starved=starved_mask, final_meals=finals[0],
                        final_catches=finals[1], final_lifetime=finals[2])
    FS.respawn(v, starved, u[:, draws.columns(rng.STREAM_SPAWN)])
    state.tick += 1
    return result
