"""Survival, and the one free rollout that the survival, knowing-fish and weather probes read.

`free_rollout` runs a policy in n_worlds copies of a world with respawn (a newcomer one day
after a death, `agents.rollout.run_policy`'s respawn protocol) and records, through
run_policy's on_step hook, what the probes need from the ground truth:

- survival: meals per day, deaths per day, lifetime per life (ticks alive / lives begun,
  the restricted mean lifetime over the rollout), the alive share at the end, the share of
  storm ticks spent sheltered, empty reels per waiting tick, and the mean hunger of living
  fishers over time;
- knowing fish: at every cast, the fish of the cell the line lands on, the mean fish under the
  line of every fishing spot of the world at that tick's tide (chance: a fisher casting from
  a spot drawn at random) and the cast cell's rank among them;
- weather: every living fisher's action and the hidden weather, tick by tick (for the mutual
  information of action and weather).

Worlds are the independent units of every interval (a world's fishers share its fish).
The survival headline is meals per fisher per day.
"""

from __future__ import annotations

import numpy as np

from agents.rollout import run_policy
from analysis.scenes import scene_world, spots_now
from analysis.stats import bootstrap_interval
from sim.events import has
from sim.policy import as_policy, reset_policy

HUNGER_BINS = 20  # the hunger curve is averaged into this many spans of the rollout


def free_rollout(policy: object, world: str = "lake", seed: int = 0, n_worlds: int = 8, n_fishers: int = 4,
                 ticks: int = 1000) -> dict:
    """Roll a policy freely and record what the survival, knowing-fish and weather probes need."""
    w = scene_world(world)
    actions_seen = np.full((ticks, n_worlds, n_fishers), -1, dtype=np.int8)  # -1: no living fisher acted
    weather_seen = np.zeros((ticks, n_worlds), dtype=np.int8)
    hunger = np.full((ticks, n_worlds), np.nan)
    casts: list[tuple[int, float, float, float]] = []  # (world, fish at the cast cell, chance, rank)
    lived = np.zeros(n_worlds)  # fisher-ticks alive
    lives = np.full(n_worlds, float(n_fishers))  # lives begun
    clock = {"t": 0, "alive": None}  # the tick, and who acted in it (alive before the step)
    policy = as_policy(policy)
    reset_policy(policy, seed)

    def on_step(sim, actions, res) -> None:
        s = sim.state
        t = clock["t"]
        acted = np.ones_like(s.alive) if clock["alive"] is None else clock["alive"]
        actions_seen[t] = np.where(acted, np.asarray(actions).reshape(acted.shape), -1)
        weather_seen[t] = s.weather  # the hidden weather of the tick (its weather phase runs first)
        lived[:] += acted.sum(axis=1)
        n_alive = s.alive.sum(axis=1)
        total = np.where(s.alive, s.hunger, 0.0).sum(axis=1)
        hunger[t] = np.where(n_alive > 0, total / np.maximum(n_alive, 1), np.nan)
        cast = has(res.events, "cast")
        for b, f in zip(*np.nonzero(cast), strict=True):
            spots = spots_now(sim, b)  # the spots at this tick's tide
            pool = s.fish[b, spots.line_row, spots.line_col]  # under every spot's line: chance
            x = s.fish[b, s.line_row[b, f], s.line_col[b, f]]
            rank = ((pool < x).sum() + 0.5 * (pool == x).sum()) / pool.size
            casts.append((int(b), float(x), float(pool.mean()), float(rank)))
        lives[:] = s.lives.sum(axis=1)  # respawns (made before this hook) included
        clock["alive"] = s.alive.copy()
        clock["t"] = t + 1

    roll = run_policy(policy, w, n_worlds=n_worlds, n_fishers=n_fishers, ticks=ticks, seed=seed,
                      respawn=True, on_step=on_step)
    cast_arr = np.array(casts, dtype=np.float64).reshape(-1, 4)
    return {"rollout": roll, "world": w.name, "ticks": ticks, "n_worlds": n_worlds, "n_fishers": n_fishers,
            "day_length": int(w.params.time.day_length), "actions": actions_seen,
            "weather": weather_seen, "hunger": hunger, "casts": cast_arr,
            "lived": lived, "lives": lives}


def hunger_curve(hunger: np.ndarray, bins: int = HUNGER_BINS) -> list[float | None]:
    """Mean hunger of living fishers in `bins` equal spans of the rollout (worlds averaged)."""
    spans = np.array_split(hunger, min(bins, hunger.shape[0]), axis=0)
    out = []
    for span in spans:
        v = np.nanmean(span) if np.isfinite(span).any() else np.nan
        out.append(None if np.isnan(v) else round(float(v), 4))
    return out


def probe_survival(rec: dict, seed: int = 0) -> dict:
    """The survival probe from a free rollout (`free_rollout`): the skill-card entry and its details."""
    roll = rec["rollout"]
    day = rec["day_length"]
    per_world = roll.per_world("meals_per_day")
    meals = bootstrap_interval(per_world, seed=seed)
    lifetime_days = rec["lived"] / np.maximum(rec["lives"], 1) / day
    life = bootstrap_interval(lifetime_days, seed=seed)
    details = {
        "protocol": f"respawn (a newcomer one day after a death), {rec['n_worlds']} worlds x "
                    f"{rec['n_fishers']} fishers x {rec['ticks']} ticks",
        "meals_per_day": meals.to_dict(),
        "deaths_per_day": bootstrap_interval(roll.per_world("deaths_per_day"), seed=seed).to_dict(),
        "lifetime_days": life.to_dict(),
        "alive_at_end": bootstrap_interval(roll.per_world("survival"), seed=seed).to_dict(),
        "storm_sheltered": bootstrap_interval(roll.per_world("storm_sheltered"), seed=seed).to_dict(),
        "reel_empty_rate": bootstrap_interval(roll.per_world("reel_empty_rate"), seed=seed).to_dict(),
        "hunger_curve": hunger_curve(rec["hunger"]),
        "mean_hunger": bootstrap_interval(np.nanmean(rec["hunger"], axis=0), seed=seed).to_dict(),
    }
    card = {
        **meals.to_dict(), "unit": "meals per fisher per day", "higher_is": "better",
        "statistic": "mean", "per_unit": per_world, "paired_over": "worlds",  # for paired verdicts
        "summary": (f"{meals.value:.2f} [{meals.low:.2f}, {meals.high:.2f}] meals a day; lives "
                    f"{life.value:.2f} days per life; "
                    f"shelters {details['storm_sheltered']['value']:.0%} of storm ticks"),
    }
    return {"card": card, "details": details}
