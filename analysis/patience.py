"""Patience: how long a fisher keeps its line out before giving up, with the bite time controlled.

Scenes (`analysis.scenes`): a fisher at a good fishing spot (its water holds at least the
top tenth of the fish of all spots) with a line just cast, calm weather, hunger low, nothing to eat,
in a copy of the world where no random bite ever comes (`fishing.p_bite = 0`). So the
line comes in only when the fisher gives up (reels in empty or walks away): the ticks it
waited are its patience, uncensored by luck. Scenes run `horizon` ticks; a fisher still
waiting then is censored at the horizon.

What is reported:

- the survival curve S(a): the share of scenes whose line is still out at line age a,
  its median (the headline: the ticks a fisher waits), and the hazard of giving up at
  each age (gave up at a / still waiting at a);
- the bites it would have been there for: for each scene the bite-time distribution of
  the real world at that spot is known (after the settle time, p_bite x fish density x
  weather, falling by e every `fishing.wary_ticks` as fish grow wary of a still line), so
  the probe reports the share of the bites that would come within the horizon which the
  fisher would still be there for, and the typical bite age (settle + 1/rate). Since fish
  grow wary, staying for every bite is not the optimum (a finite give-up time is: see
  `agents.skills_pay`'s give-up family); this probe still measures how long a fisher
  waits, not how close that is to the best wait;
- a controlled bite: the same scenes with a bite planted at line age settle + 1, and the
  share of fishers that land it (reel in while the bobber is down).

Validated on scripted fishers (tests/test_probes_behaviour.py): patient(k) scores a
median of k ticks, impatient 5, and the ranking follows k.
"""

from __future__ import annotations

import numpy as np

from analysis.scenes import make_scenes, plant_bites, run_scenes, scene_world
from analysis.stats import bootstrap_interval
from sim import weather as W
from sim.events import has
from sim.fishers import CAST, REEL

HORIZON = 48  # ticks a patience scene lasts: a bite at a good spot has come by then in most worlds
HUNGER = 0.25  # low enough that no fisher starves or must eat within the horizon


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


def _median_wait(wait: np.ndarray) -> float:
    """The first age at which at most half the lines are still out (the horizon if more are)."""
    return float(np.sort(wait)[(wait.size - 1) // 2]) if wait.size else float("nan")


def probe_patience(policy: object, world: str = "lake", seed: int = 0, n_scenes: int = 32,
                   horizon: int = HORIZON) -> dict:
    """The patience probe of one policy in one world: the skill-card entry and its details.

    Returns a dict with "card" (value = median ticks waited before giving up, with a
    bootstrap interval over scenes) and "details" (survival curve, hazard, the optimal
    comparison, the controlled bite).
    """
    base = scene_world(world)
    p = base.params
    settle = int(p.fishing.settle)
    scenes = make_scenes(base, n_scenes, seed, hunger=HUNGER, line_out=True, rich=True,
                         overrides={"fishing.p_bite": 0.0})
    trace = run_scenes(policy, scenes, horizon, seed=seed)
    out = ~trace.line
    wait = np.where(out.any(axis=0), out.argmax(axis=0), horizon).astype(np.int64)
    censored = wait >= horizon
    surv, hazard = _survival(wait, horizon)
    reasons = {"reeled_empty": int(has(trace.events, "reeled_empty").any(axis=0).sum()),
               "walked_away": int(has(trace.events, "line_dropped").any(axis=0).sum()),
               "still_waiting": int(censored.sum())}
    median = bootstrap_interval(wait, "median", seed=seed)
    after_settle = np.maximum(wait - settle, 0)

    # the real world's bites at each scene's spot: first bite at age a > settle with
    # probability (1 - q)^(a - settle - 1) q, q = p_bite * min(fish / ref, 2) * bite factor
    scenes.restart()
    s = scenes.sim.state
    fish = s.fish[np.arange(scenes.n), s.line_row[:, 0], s.line_col[:, 0]]
    factor = W.bite_factor(s, scenes.sim.batch)
    q = np.clip(p.fishing.p_bite * np.minimum(fish / p.fish.density_ref, 2.0) * factor, 0.0, 1.0)
    ages = np.arange(1, horizon + 1)
    k = ages[:, None] - settle - 1
    tau = float(p.fishing.wary_ticks)
    hazard_k = q[None, :] * (np.exp(-np.maximum(k, 0) / tau) if tau > 0 else 1.0)  # fish grow wary
    survive = np.cumprod(np.where(k >= 0, 1 - hazard_k, 1.0), axis=0)
    before = np.vstack([np.ones((1, q.size)), survive[:-1]])
    first_bite = np.where(k >= 0, before * hazard_k, 0.0)
    there = wait[None, :] >= ages[:, None]  # still out when the bobber dips at age a
    mass = first_bite.sum(axis=0)
    waited_share = np.divide((first_bite * there).sum(axis=0), mass, out=np.full(q.shape, np.nan),
                             where=mass > 0)
    expected_bite = np.where(q > 0, settle + 1 / np.maximum(q, 1e-12), np.inf)

    # a controlled bite at the first age a natural bite could come
    bite_age = settle + 1
    scenes.restart()
    planted = run_scenes(policy, scenes, bite_age + int(p.fishing.bite_window) + 1, seed=seed,
                         before_act=lambda sim, t: plant_bites(sim, (sim.state.line_age == bite_age)
                                                               & (sim.state.bite == 0)))
    saw = planted.bite_seen.any(axis=0)
    landed = has(planted.events, "catch").any(axis=0)
    reeled_on_bite = (planted.bite_seen & (planted.actions == REEL)).any(axis=0)

    landed_share = float(landed[saw].mean()) if saw.any() else float("nan")
    card = {
        **median.to_dict(), "unit": "ticks", "higher_is": "better",
        "statistic": "median", "per_unit": wait, "paired_over": "scenes",  # for paired verdicts
        "censored": bool(median.value >= horizon),
        "summary": (f"waits {'>= ' if median.value >= horizon else ''}{median.value:.0f} ticks "
                    f"[{median.low:.0f}, {median.high:.0f}] before giving up (median of {scenes.n} scenes, "
                    f"horizon {horizon}); stays for "
                    f"{np.nanmean(waited_share):.0%} of the bites an optimal fisher gets; "
                    + (f"lands {landed_share:.0%} of bites planted at age {bite_age}" if saw.any() else
                       f"never there for a bite planted at age {bite_age}")),
    }
    details = {
        "horizon": horizon, "settle": settle, "n_scenes": scenes.n,
        "wait": wait.tolist(), "censored": int(censored.sum()),
        "survival": surv.round(4).tolist(), "hazard": [None if np.isnan(x) else round(float(x), 4)
                                                       for x in hazard],
        "median_wait": median.to_dict(),
        "mean_wait": bootstrap_interval(wait, "mean", seed=seed).to_dict(),
        "hazard_after_settle": (float(np.sum(~censored & (wait > settle)) / after_settle.sum())
                                if after_settle.sum() else None),
        "gave_up_by": reasons,
        "optimal": {"rule": "all natural bites within the horizon (not the best wait where fish grow wary)",
                    "waited_share": 1.0,
                    "expected_bite_age": float(np.median(expected_bite)),
                    "bite_rate_per_tick": float(np.median(q))},
        "waited_share": bootstrap_interval(waited_share, "mean", seed=seed).to_dict(),
        "controlled_bite": {"age": bite_age, "saw_bite": int(saw.sum()),
                            "landed": (bootstrap_interval(landed[saw].astype(float), seed=seed).to_dict()
                                       if saw.any() else None),
                            "reeled_on_bite": int(reeled_on_bite.sum())},
        "cast_again": int((trace.actions == CAST).any(axis=0).sum()),
    }
    return {"card": card, "details": details}
