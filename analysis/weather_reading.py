"""Weather reading is anticipation: the causal effect of the cues on what a fisher does before
the storm, apart from its reaction to a storm already on, and when it leaves for shelter.

**Cue swap.** Scenes (`analysis.scenes`): a fisher at a fishing spot a few steps from a
shelter, no line out, some hunger, nothing to eat, in daylight. The hidden world is the same
in every arm (cloudy, no front: the same bites, no storm), and each arm shows the fisher the
cues of one condition, copied every tick from a simulation of the same scenes whose weather
is set to it (`run_scenes(cue_source=...)`):

- calm: clear sky, high steady barometer;
- front: a storm announced: barometer low and falling, cloud thick, no storm on;
- storm: a storm on (storm and rain flags, barometer at its floor).

Each arm runs `horizon` ticks from the same start with the policy reset to the same seed,
so a fisher that ignores the cues does exactly the same in every arm (an effect of exactly
zero) and any difference is caused by the cues. Per scene and arm: P(cast) and P(wait) per
tick, the share of ticks in a shelter, and the progress toward the nearest shelter, (d0 -
d_end) / d0 (1 = in the shelter at the end, 0 = no closer, negative = farther). Effects are
an arm minus calm, paired over scenes, with bootstrap intervals:

- **anticipation** (the headline): front minus calm, on shelter progress (P(cast) beside it:
  does it stop casting?). The storm is not on, so only a fisher that reads the sky moves;
  a reflex that acts once the storm is on (scripted `reactive`) scores 0 here;
- **reaction**, reported apart: storm minus calm. The reflex scores here as well as the expert.

An earlier headline averaged the two arms, so a reflex scored half of the expert's effect
and passed for a reader of the weather.

**Leave timing** (`analysis.leave_timing`): a real front whose storm breaks at a known tick;
when the fisher sets off for shelter, against the tuned expert's rule for the same walk.

**Mutual information** between the action and the hidden weather state in free rollouts
(`analysis.survival.free_rollout`), in bits: plug-in per world (every living fisher's
action at every tick against that tick's weather), with a bootstrap interval over worlds,
and a chance level from the same rollout with each world's weather shifted by half the
rollout (the same marginals and autocorrelation, no link; it also carries the plug-in
estimator's upward bias, so the excess over it is the figure to read).
It is not zero for a weather-blind fisher (a storm changes what happens to anyone:
lines are swept, bites stop), which is why the cue swap is the probe of reading.

Validated on scripted fishers (tests/test_probes_behaviour.py): weather_blind scores 0 on
both; reactive 0 on anticipation and clearly above 0 on reaction; the expert's anticipation
lies above reactive's, and it sets off within two ticks of its tuned rule.
"""

from __future__ import annotations

import numpy as np

from analysis.leave_timing import leave_timing, summarise, timing_sentence
from analysis.scenes import cue_simulation, make_scenes, run_scenes, scene_world
from analysis.stats import Interval, bootstrap_interval, paired_bootstrap_interval
from sim.events import has
from sim.fishers import N_ACTIONS, WAIT
from worlds.schema import WEATHER_STATES

HORIZON = 12  # ticks per arm: enough to walk to a shelter within NEAR_SHELTER steps
NEAR_SHELTER = 8
HUNGER = 0.3
ARMS = ("calm", "front", "storm")
EFFECTS = {"anticipation": "front", "reaction": "storm"}  # effect -> the arm compared with calm
MEASURES = ("p_cast", "p_wait", "p_sheltered", "shelter_progress")


def _measures(trace, d0: np.ndarray) -> dict[str, np.ndarray]:
    d_end = trace.shelter_dist[-1]
    # NaN where no shelter can be reached (a world without one): such scenes say nothing of sheltering
    progress = np.where(d0 >= 1, np.clip((d0 - d_end) / np.maximum(d0, 1), -1.0, 1.0), np.nan)
    return {
        "p_cast": has(trace.events, "cast").mean(axis=0),
        "p_wait": (trace.actions == WAIT).mean(axis=0),
        "p_sheltered": (trace.shelter_dist == 0).mean(axis=0),
        "shelter_progress": progress,
        "actions": np.stack([(trace.actions == a).mean(axis=0) for a in range(N_ACTIONS)]),
    }


def cue_swap(policy: object, world: str = "lake", seed: int = 0, n_scenes: int = 32,
             horizon: int = HORIZON, arms: tuple[str, ...] = ARMS) -> dict:
    """Per-scene measures of each arm (calm, front, storm cues over the same hidden world); `arms`: which
    of them to run, in this order (analysis.causal_patch runs calm and front only)."""
    base = scene_world(world)
    scenes = make_scenes(base, n_scenes, seed, hunger=HUNGER, weather="neutral", near_shelter=NEAR_SHELTER)
    d0 = scenes.shelter_distance()
    unknown = [a for a in arms if a not in ARMS]
    if unknown:
        raise ValueError(f"arms: expected some of {', '.join(ARMS)}, got {unknown}")
    measured = {}
    for arm in arms:
        scenes.restart()
        cues = cue_simulation(scenes, arm)
        measured[arm] = _measures(run_scenes(policy, scenes, horizon, seed=seed, cue_source=cues), d0)
    return {"arms": measured, "n_scenes": scenes.n, "horizon": horizon, "start_distance": d0}


def _effects(arms: dict, seed: int) -> dict[str, dict[str, Interval]]:
    """Each effect of EFFECTS (its arm minus calm) on every measure, paired over scenes."""
    calm = arms["calm"]
    return {name: {m: paired_bootstrap_interval(arms[arm][m], calm[m], seed=seed) for m in MEASURES}
            for name, arm in EFFECTS.items()}


def mutual_information(counts: np.ndarray) -> float:
    """Plug-in mutual information (bits) of a joint count table (actions x weather states)."""
    c = np.asarray(counts, dtype=np.float64)
    total = c.sum()
    if total <= 0:
        return float("nan")
    p = c / total
    pa, pw = p.sum(axis=1, keepdims=True), p.sum(axis=0, keepdims=True)
    nz = p > 0
    return float((p[nz] * np.log2(p[nz] / (pa @ pw)[nz])).sum())


def information_per_world(actions: np.ndarray, weather: np.ndarray, shift: int = 0) -> np.ndarray:
    """I(action; hidden weather) in bits for each world of a free rollout.

    actions: (T, B, F) int, -1 where no living fisher acted; weather: (T, B) state indices.
    shift: pair each action with the weather `shift` ticks later (circularly): the chance level,
    with each world's own action and weather marginals and their autocorrelation, and no link.
    """
    n_weather = len(WEATHER_STATES)
    out = np.full(actions.shape[1], np.nan)
    for b in range(actions.shape[1]):
        a = actions[:, b, :].astype(np.int64)
        w = np.broadcast_to(np.roll(weather[:, b], -shift)[:, None], a.shape).astype(np.int64)
        m = a >= 0
        counts = np.bincount(a[m] * n_weather + w[m], minlength=N_ACTIONS * n_weather)
        out[b] = mutual_information(counts.reshape(N_ACTIONS, n_weather))
    return out


def action_weather_information(rollout: dict, seed: int = 0) -> dict:
    """Mean per-world I(action; weather) with its interval over worlds, the time-shifted chance
    level (half the rollout), and the paired excess over chance."""
    actions, weather = rollout["actions"], rollout["weather"]
    mi = information_per_world(actions, weather)
    chance = information_per_world(actions, weather, shift=actions.shape[0] // 2)
    return {**bootstrap_interval(mi, seed=seed).to_dict(), "unit": "bits",
            "chance": bootstrap_interval(chance, seed=seed).to_dict(),
            "excess": paired_bootstrap_interval(mi, chance, seed=seed).to_dict(),
            "chance_rule": "each world's weather shifted by half the rollout (circularly)"}


def _entry(eff: dict[str, Interval]) -> dict:
    """An effect's skill-card entry: shelter progress with its interval, and the casting beside it."""
    return {**eff["shelter_progress"].to_dict(), "p_cast": eff["p_cast"].to_dict(),
            "p_sheltered": eff["p_sheltered"].to_dict()}


def _signed(iv: dict) -> str:
    return f"{iv['value']:+.2f} [{iv['low']:+.2f}, {iv['high']:+.2f}]"


def probe_weather(policy: object, world: str = "lake", seed: int = 0, n_scenes: int = 32,
                  horizon: int = HORIZON, rollout: dict | None = None, timing: bool = True) -> dict:
    """The weather-reading probe of one policy in one world: the skill-card entry and its details.

    The card's headline is anticipation; `anticipation`, `reaction` and `leave_timing` are entries
    of it. rollout: the free-rollout record of `analysis.survival.free_rollout` (for the mutual
    information); without it only the cue swap (and the timing, unless timing=False) is run.
    """
    swap = cue_swap(policy, world, seed, n_scenes, horizon)
    eff = _effects(swap["arms"], seed)
    arms = swap["arms"]
    per_scene = arms["front"]["shelter_progress"] - arms["calm"]["shelter_progress"]
    antic, react = _entry(eff["anticipation"]), _entry(eff["reaction"])
    per_arm = {arm: {m: bootstrap_interval(v[m], seed=seed).to_dict() for m in MEASURES}
               for arm, v in arms.items()}
    details: dict = {
        "horizon": swap["horizon"], "n_scenes": swap["n_scenes"],
        "start_distance": bootstrap_interval(swap["start_distance"], seed=seed).to_dict(),
        "arms": per_arm,
        "action_shares": {arm: v["actions"].mean(axis=1).round(4).tolist() for arm, v in arms.items()},
        "effects": {name: {m: iv.to_dict() for m, iv in e.items()} for name, e in eff.items()},
    }
    card = {
        **{k: antic[k] for k in ("value", "low", "high", "n", "confidence")},
        "unit": "shelter progress, front cues minus calm (storm not on)", "higher_is": "better",
        "statistic": "mean", "per_unit": per_scene, "paired_over": "scenes",  # for paired verdicts
        "anticipation": antic, "reaction": react,
        "summary": (f"anticipation: front cues, no storm on, move it {_signed(antic)} of the way to shelter "
                    f"vs calm cues (P(cast) {_signed(antic['p_cast'])}); reaction: a storm on moves it "
                    f"{_signed(react)}; {swap['n_scenes']} scenes paired"),
    }
    if timing:
        t = leave_timing(policy, world, seed, n_scenes)
        card["leave_timing"] = summarise(t, seed)
        details["leave_timing"] = {**card["leave_timing"], **{k: t[k] for k in (
            "start_distance", "entry", "departure", "walk", "left_before", "optimum", "error")}}
        card["summary"] += f"; {timing_sentence(card['leave_timing'])}"
    if rollout is not None:
        details["mutual_information"] = action_weather_information(rollout, seed=seed)
        mi = details["mutual_information"]
        card["summary"] += f"; I(action; weather) {mi['value']:.3f} bits (chance {mi['chance']['value']:.3f})"
    if antic["n"] == 0:
        where = getattr(world, "name", world)
        card["summary"] = f"no scene with a shelter in reach: sheltering cannot be probed in {where}"
    return {"card": card, "details": details}
