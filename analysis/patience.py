"""Patience: how far a fisher's give-up time lies from the best one for the spot it fishes.

Patience has a right amount (docs/DESIGN.md): fish grow wary of a still line, so giving up
too early wastes the cast and waiting on wastes the ticks. The headline is the distance, in
ticks, between when the fisher gives up and the best give-up time at that spot; lower is
better, and too short and too long both count.

Scenes (`analysis.scenes`): a fisher at a fishing spot with a line just cast, weather
neutral, hunger low, nothing to eat, in a copy of the world where no bite ever comes
(`fishing.p_bite = 0`) and a tide stands still at high water (`HELD_TIDE`: an ebbing tide
would take the spot from under the line, and walking off dry flats is not giving up), so the
line comes in only when the fisher gives up: the ticks it waited are its give-up time,
uncensored by luck. The spots range over the world's richness,
more of them rich (`spot_richness`), because the best time depends on how rich the spot is.
Scenes run `horizon` ticks (`horizon_for`: at least settle + 1 + 3 x wary_ticks, well past any
optimum); a fisher still waiting then is censored, and its distance is a lower bound.

The optimum (`agents.give_up`): for each scene the real world's bite chance at that spot is
known (q = p_bite x min(fish / density_ref, 2) x bite factor at the scene's start, falling by e
every wary_ticks past settle), and T* is the give-up time with the best renewal catch rate when
the fisher casts again at the same spot (a fresh cast is fresh; recasting is the cheapest
renewal; why, in that module's docstring).

Moving to richer water is not impatience: when the line came in because the fisher walked off
(not by reeling in empty) and it casts again within `RECAST_WITHIN` ticks at water of a higher
ripple level than the water it left (as it saw it when it left), the scene is "moved to richer water":
set aside, counted in the details, never scored as a give-up. Reeling in empty is always a
give-up, wherever the fisher goes next (the family reels in at its give-up time, then casts again).

Also reported (details): the raw give-up times, their median and survival curve S(a) with the
hazard of giving up (the old headline), the share of the best catch rate each give-up time
loses (`give_up.rate_shortfall`), the share of the bites within the horizon it would be there
for, and a controlled bite planted at age settle + 1 (is it landed?).

Validated on scripted fishers (tests/test_patience.py): the give-up family's times are
recovered in order, the tuned expert lies nearer the optimum than the impatient fisher and
than one that never reels in, and an untrained network lies far from it.
"""

from __future__ import annotations

import math

import numpy as np

from agents.give_up import OVERHEAD_TICKS, T_MAX, best_give_up, first_bite, rate_shortfall
from analysis.scenes import Scenes, make_scenes, plant_bites, run_scenes, scene_world
from analysis.stats import bootstrap_interval
from sim import weather as W
from sim.events import has
from sim.fishers import CAST, REEL
from sim.observe import VIEW_RADIUS, ripple_level
from worlds.schema import MAX_TICKS

HORIZON_MIN = 48  # ticks: the shortest scene
HORIZON_MAX = 240  # ticks: the longest (a world whose fish hardly grow wary: its optimum lies past it)
WARY_SPAN = 3  # a scene lasts at least settle + 1 + WARY_SPAN x wary_ticks: the bite chance is down to e^-3
HUNGER = 0.25  # low enough that no fisher starves or must eat within the horizon
# ticks: a walk well beyond the view (off ripple-less water, the expert finds better in 10-30 ticks in pond)
RECAST_WITHIN = 32
WALK_ON_TICKS = 2 * VIEW_RADIUS + 2  # a walk across the view, a turn and a cast: moving on to another spot
HELD_TIDE = MAX_TICKS  # tide.period of the scenes of a tidal world: high water for every scene's ticks
HOW = ("reeled", "walked", "richer", "waiting")  # how each scene's line came in (module docstring)


def horizon_for(settle: int, wary_ticks: float, best: np.ndarray | None = None) -> int:
    """Ticks a scene lasts: past settle + WARY_SPAN x wary_ticks and 1.5 x the largest optimum, clipped."""
    span = settle + 1 + WARY_SPAN * wary_ticks if wary_ticks > 0 else HORIZON_MAX
    if best is not None and best.size:
        span = max(span, 1.5 * float(best.max()))
    return int(min(max(math.ceil(span), HORIZON_MIN), HORIZON_MAX))


def spot_richness(n: int) -> np.ndarray:
    """(n,) fish ranks of the scenes' spots: 1 - (1 - u)^2 for u = (i + 0.5) / n, every richness with
    more rich ones (a fisher that knows fish walks off poor water, and is scored where it gives up)."""
    return 1.0 - (1.0 - (np.arange(n) + 0.5) / n) ** 2


def bite_chance(scenes: Scenes, p_bite: float) -> np.ndarray:
    """(n,) q: the real world's bite chance (its p_bite, not the scenes' 0) for a fresh line at each
    scene's spot, now."""
    p = scenes.sim.worlds[0].params
    s = scenes.sim.state
    fish = s.fish[np.arange(scenes.n), s.line_row[:, 0], s.line_col[:, 0]]
    factor = W.bite_factor(s, scenes.sim.batch)
    return np.clip(p_bite * np.minimum(fish / p.fish.density_ref, 2.0) * factor, 0.0, 1.0)


def _survival(wait: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """S(a) for a = 0..horizon (line still out after deciding at age a) and the hazard h(a)."""
    ages = np.arange(horizon + 1)
    at_risk = (wait[None, :] >= ages[:, None]).sum(axis=1)
    gave_up = (wait[None, :] == ages[:, None]).sum(axis=1)
    gave_up[-1] = 0  # a wait of `horizon` is censored, not a give-up
    surv = (wait[None, :] > ages[:, None]).mean(axis=1)
    surv[-1] = (wait >= horizon).mean()
    hazard = np.divide(gave_up, at_risk, out=np.full(ages.shape, np.nan), where=at_risk > 0)
    return surv, hazard


def _leave(scenes: Scenes, policy: object, horizon: int, seed: int,
           told_world: object = None) -> tuple[np.ndarray, np.ndarray, object]:
    """Run the no-bite scenes: (wait (n,), how (n,) index into HOW, trace)."""
    s, p = scenes.sim.state, scenes.sim.worlds[0].params
    rows = np.arange(scenes.n)
    start = ripple_level(s.fish[rows, s.line_row[:, 0], s.line_col[:, 0]], p.fish.density_ref)
    level = np.full((horizon, scenes.n), -1, dtype=np.int64)  # ripple level under the line after each tick

    def after(sim: object, t: int) -> None:
        st = sim.state
        lv = ripple_level(st.fish[rows, st.line_row[:, 0], st.line_col[:, 0]], p.fish.density_ref)
        level[t - 1] = np.where(st.line[:, 0], lv, -1)

    trace = run_scenes(policy, scenes, horizon, seed=seed, before_act=lambda sim, t: t and after(sim, t),
                       told_world=told_world)
    after(scenes.sim, horizon)
    out = ~trace.line
    wait = np.where(out.any(axis=0), out.argmax(axis=0), horizon).astype(np.int64)
    how = np.full(scenes.n, HOW.index("waiting"))
    for j in np.flatnonzero(wait < horizon):
        w = wait[j]
        if has(trace.events[w, j], "reeled_empty") or not has(trace.events[w, j], "line_dropped"):
            how[j] = HOW.index("reeled")
            continue
        window = slice(w + 1, min(w + 1 + RECAST_WITHIN, horizon))
        casts = np.flatnonzero(has(trace.events[window, j], "cast"))
        seen = start[j] if w == 0 else level[w - 1, j]  # the water it left, as it saw it when it left
        richer = casts.size and level[w + 1 + casts[0], j] > seen
        how[j] = HOW.index("richer" if richer else "walked")
    return wait, how, trace


def probe_patience(policy: object, world: str = "lake", seed: int = 0, n_scenes: int = 32,
                   horizon: int | None = None) -> dict:
    """The patience probe of one policy in one world: the skill-card entry and its details.

    Returns {"card", "details"}: the card's value is the mean over scenes of |give-up time - T*|
    (ticks; lower is better) with a bootstrap interval over scenes, "per_unit" each scene's
    distance (None where the fisher moved on to richer water), and the raw give-up times.
    """
    base = scene_world(world)
    p = base.params
    settle, wary = int(p.fishing.settle), float(p.fishing.wary_ticks)
    richness = spot_richness(n_scenes)
    overrides: dict[str, object] = {"fishing.p_bite": 0.0}
    if p.tide.period:
        overrides["tide.period"] = HELD_TIDE
    scenes = make_scenes(base, n_scenes, seed, hunger=HUNGER, line_out=True, richness=richness,
                         overrides=overrides)
    q = bite_chance(scenes, p.fishing.p_bite)  # the real world's chance at each spot (the scenes' is 0)
    best, best_rate = best_give_up(q, settle, wary)
    horizon = horizon or horizon_for(settle, wary, best[best < T_MAX])
    wait, how, trace = _leave(scenes, policy, horizon, seed, told_world=base)  # the real rules, not p_bite 0
    censored = wait >= horizon
    scored = how != HOW.index("richer")
    target = np.minimum(best, horizon)  # an optimum past the horizon can only be told apart up to it
    distance = np.where(scored, np.abs(np.minimum(wait, horizon) - target), np.nan).astype(np.float64)
    shortfall = np.where(scored, rate_shortfall(wait, q, settle, wary), np.nan)
    dist = bootstrap_interval(distance, "mean", seed=seed)
    lost = bootstrap_interval(shortfall, "mean", seed=seed)
    median = bootstrap_interval(wait[scored], "median", seed=seed)
    surv, hazard = _survival(wait, horizon)

    # the bites of the real world within the horizon the fisher would still be there for
    pmf, _ = first_bite(q, settle, wary, horizon)
    there = wait[None, :] >= np.arange(1, horizon + 1)[:, None]
    mass = pmf.sum(axis=0)
    waited_share = np.divide((pmf * there).sum(axis=0), mass, out=np.full(q.shape, np.nan), where=mass > 0)

    # a controlled bite at the first age a natural bite could come
    bite_age = settle + 1
    scenes.restart()
    planted = run_scenes(policy, scenes, bite_age + int(p.fishing.bite_window) + 1, seed=seed,
                         before_act=lambda sim, t: plant_bites(sim, (sim.state.line_age == bite_age)
                                                               & (sim.state.bite == 0)))
    saw = planted.bite_seen.any(axis=0)
    landed = has(planted.events, "catch").any(axis=0)
    reeled_on_bite = (planted.bite_seen & (planted.actions == REEL)).any(axis=0)

    n_scored, lower_bound = int(scored.sum()), bool((censored & scored).any())
    counts = {name: int((how == k).sum()) for k, name in enumerate(HOW)}
    ge = ">= " if lower_bound else ""
    card = {
        **dist.to_dict(), "unit": "ticks from the best give-up time", "higher_is": "worse",
        "statistic": "mean", "per_unit": distance, "paired_over": "scenes",  # for paired verdicts
        "censored": lower_bound,
        "give_up_times": wait, "best_give_up": target, "how": [HOW[k] for k in how],
        "median_give_up": median.to_dict(), "horizon": horizon,
        "rate_shortfall": lost.to_dict(),  # the share of the best catch rate its give-up times lose
        "summary": (f"gives up {ge}{dist.value:.1f} ticks [{dist.low:.1f}, {dist.high:.1f}] from the best "
                    f"time at its spot (mean of {n_scored} scenes; best {np.median(target):.0f} ticks, "
                    f"median); waits {'>= ' if median.value >= horizon else ''}{median.value:.0f} ticks "
                    f"(median, horizon {horizon}); {counts['richer']} of {scenes.n} moved on to richer water"
                    if n_scored else
                    f"moved on to richer water in all {scenes.n} scenes: no give-up to score"),
    }
    details = {
        "horizon": horizon, "settle": settle, "wary_ticks": wary, "n_scenes": scenes.n,
        "wait": wait, "censored": int(censored.sum()), "how": counts, "recast_within": RECAST_WITHIN,
        "survival": surv.round(4), "hazard": [None if np.isnan(x) else round(float(x), 4) for x in hazard],
        "median_wait": median.to_dict(),
        "mean_wait": bootstrap_interval(wait[scored], "mean", seed=seed).to_dict(),
        "optimal": {"rule": "argmax over T of the renewal catch rate at the spot, recasting in place "
                            "(agents.give_up)",
                    "best_give_up": best, "bite_chance": q.round(5), "best_rate": best_rate.round(5),
                    "richness": richness.round(4), "overhead_ticks": OVERHEAD_TICKS,
                    # the best time of a fisher that walks on after every give-up (a walk across its view)
                    "best_give_up_walking_on": best_give_up(q, settle, wary,
                                                            overhead=OVERHEAD_TICKS + WALK_ON_TICKS)[0]},
        "distance": distance, "rate_shortfall": shortfall,
        "waited_share": bootstrap_interval(waited_share, "mean", seed=seed).to_dict(),
        "controlled_bite": {"age": bite_age, "saw_bite": int(saw.sum()),
                            "landed": (bootstrap_interval(landed[saw].astype(float), seed=seed).to_dict()
                                       if saw.any() else None),
                            "reeled_on_bite": int(reeled_on_bite.sum())},
        "cast_again": int((trace.actions == CAST).any(axis=0).sum()),
    }
    return {"card": card, "details": details}
