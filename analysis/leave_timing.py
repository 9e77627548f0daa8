"""When a fisher leaves for shelter, timed against a real front and against the tuned expert.

Scenes (`analysis.scenes`, condition "onset"): the fisher of the cue swap (at a spot 1 to
`NEAR_SHELTER` steps from a shelter, no line, some hunger), but the front is real: its cues begin
at the scene's first tick and the storm breaks `onset_ticks` later (the world's mean warning
lead, the lead a forecaster reading the world expects), in the step with index `front_at`.
The scene runs until every fisher could have walked in after seeing the storm.

Per scene, from the walking distance to the shelter before and after every tick:

- the entry: the first tick the fisher steps into a shelter;
- the departure: the first tick of the unbroken walk that ended in that entry (each tick one step
  closer), and the walk it took (the distance at the departure);
- left before the front: `front_at - departure` ticks (positive: it set off before the storm
  broke; 0 or less: once the storm was on, as a reflex would);
- the tuned optimum for that walk: the tuned expert leaves `lead_ticks + walk` ticks before the
  forecast storm (`agents/expert_params.toml`, searched per world by agents.tune_expert), so the
  timing error is left-before minus that (positive: earlier than the expert, losing the
  pre-front feeding; negative: later, exposed);
- in shelter when the storm's danger came (after its action in the step `front_at`, or in a
  world with a squall ahead of its storms, `storm.squall_ticks` steps earlier; the tuned rule's
  lead counts the squall too).

A fisher that never steps into a shelter has no departure (counted apart as `never`). A fisher
that walks through a shelter on its way to a spot is counted as entering it: the timing is
descriptive, the verdict stands on the cue swap (`analysis.weather_reading`).
"""

from __future__ import annotations

import numpy as np

from agents.world_reading import tuned_params
from analysis.scenes import make_scenes, onset_ticks, run_scenes, scene_world
from analysis.stats import bootstrap_interval

NEAR_SHELTER = 8  # the cue swap's scenes: spots within this walk of a shelter
HUNGER = 0.3
MARGIN = 4  # ticks after a reflex fisher that saw the storm could have walked in from the farthest spot


def _walks(dist_after: np.ndarray, d0: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(entry, departure, walk) per scene from the distance after each tick (T, n); -1 where none."""
    ticks, n = dist_after.shape
    before = np.vstack([d0[None, :], dist_after[:-1]])
    entry = np.full(n, -1, dtype=np.int64)
    departure = np.full(n, -1, dtype=np.int64)
    walk = np.full(n, -1, dtype=np.int64)
    closer = dist_after == before - 1
    for i in range(n):
        ins = np.flatnonzero((dist_after[:, i] == 0) & (before[:, i] > 0))
        if not ins.size:
            continue
        e = int(ins[0])
        t = e
        while t > 0 and closer[t - 1, i]:
            t -= 1
        entry[i], departure[i], walk[i] = e, t, before[t, i]
    return entry, departure, walk


def leave_timing(policy: object, world: object = "lake", seed: int = 0, n_scenes: int = 32) -> dict:
    """The departure of one policy before a real front, per scene and summarised, against the tuned
    expert's rule (`lead_ticks + walk` ticks before the storm breaks)."""
    base = scene_world(world)
    scenes = make_scenes(base, n_scenes, seed, hunger=HUNGER, weather="onset", near_shelter=NEAR_SHELTER)
    d0 = scenes.shelter_distance()
    front_at = onset_ticks(scenes.sim)  # the storm breaks in the step with this index
    horizon = int(front_at.max()) + 1 + NEAR_SHELTER + MARGIN
    trace = run_scenes(policy, scenes, horizon, seed=seed)
    entry, departure, walk = _walks(trace.shelter_dist, d0)
    # the expert leaves lead_ticks + walk ticks before the storm's danger, which comes with the
    # squall that runs ahead of it (storm.squall_ticks before the storm breaks)
    squall = int(base.params.storm.squall_ticks)
    lead = tuned_params(base.name)[0] + squall
    went = (entry >= 0) & (d0 >= 1)
    left_before = np.where(went, front_at - departure, np.nan)
    optimum = np.where(went, np.minimum(lead + walk, front_at), np.nan)  # no leaving before the first cue
    error = left_before - optimum
    danger_at = np.maximum(front_at - squall, 0)
    in_at_front = np.where(d0 >= 1, trace.shelter_dist[danger_at, np.arange(scenes.n)] == 0, np.nan)
    return {"front_at": int(np.median(front_at)), "horizon": horizon, "tuned_lead": lead,
            "n_scenes": scenes.n, "start_distance": d0, "entry": entry, "departure": departure,
            "walk": walk, "left_before": left_before, "optimum": optimum, "error": error,
            "in_shelter_at_front": in_at_front, "never": int(((entry < 0) & (d0 >= 1)).sum())}


def summarise(timing: dict, seed: int = 0) -> dict:
    """Medians over the scenes with a departure, with bootstrap intervals; shares over all scenes."""
    left = bootstrap_interval(timing["left_before"], "median", seed=seed)
    err = bootstrap_interval(timing["error"], "median", seed=seed)
    sheltered = bootstrap_interval(timing["in_shelter_at_front"], seed=seed)
    d0 = timing["start_distance"][timing["start_distance"] >= 1]  # the tuned rule from each scene's spot
    optimum = np.minimum(timing["tuned_lead"] + d0, timing["front_at"]).astype(np.float64)
    return {
        "front_at": timing["front_at"], "tuned_lead": timing["tuned_lead"], "n_scenes": timing["n_scenes"],
        "left_before_front": left.to_dict(),
        "optimum": {"value": float(np.median(optimum)) if optimum.size else None,
                    "rule": f"the tuned expert's: leave lead_ticks ({timing['tuned_lead']}) + walk ticks "
                            "before the storm breaks (median over the scenes' spots; the error uses the "
                            "walk each departure took)"},
        "error": err.to_dict(),
        "in_shelter_at_front": sheltered.to_dict(),
        "never": timing["never"],
        "unit": "ticks before the storm breaks (median over scenes with a departure)",
    }


def timing_sentence(summary: dict) -> str:
    """One line: when it leaves, against the tuned expert's rule for the same walk."""
    left, err, sh = summary["left_before_front"], summary["error"], summary["in_shelter_at_front"]
    shelter = f"in shelter when it breaks in {sh['value']:.0%}" if sh["n"] else "no scene with a shelter"
    if not left["n"]:
        return f"never sets off for shelter before or after a real front; {shelter}"
    return (f"sets off {left['value']:.0f} [{left['low']:.0f}, {left['high']:.0f}] ticks before a real storm "
            f"breaks, {err['value']:+.0f} [{err['low']:+.0f}, {err['high']:+.0f}] against the tuned expert "
            f"for the same walk ({summary['never']} of {summary['n_scenes']} scenes never); {shelter}")
