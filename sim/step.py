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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import fishers as FS
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


def step(state: State, batch: WorldBatch, actions: np.ndarray) -> StepResult:
    """Advance every world of the batch one tick, in place. actions: (B, F) ints in [0, 8)."""
    act = np.asarray(actions).reshape(state.n_worlds, state.n_fishers)
    if act.dtype.kind not in "iu" or (act.size and (act.min() < 0 or act.max() >= FS.N_ACTIONS)):
        raise ValueError(f"actions: expected integers in [0, {FS.N_ACTIONS}), got {act.dtype} "
                         f"in [{act.min()}, {act.max()}]")
    ev = np.zeros(act.shape, dtype=np.int64)
    advance_weather(state, batch)
    FS.move(state, batch, act, ev)
    FS.cast(state, batch, act, ev)
    FS.reel(state, batch, act, ev)
    ate = FS.eat(state, batch, act, ev)
    FS.bites(state, batch, ev)
    exposed = FS.storm(state, batch, ev)
    update_fish(state, batch)
    starved = FS.hunger(state, batch, exposed, ev)
    result = StepResult(
        reward=(ate * batch.p.fishing_meal_reward[:, None]).astype(np.float32), events=ev, starved=starved,
        final_meals=np.where(starved, state.meals, 0), final_catches=np.where(starved, state.catches, 0),
        final_lifetime=np.where(starved, state.lifetime, 0),
    )
    FS.respawn(state, batch, starved, ev)
    state.tick += 1
    return result
