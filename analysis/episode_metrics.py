"""Score a recorded episode (`sim.record`) with the free-rollout metrics of the skill card.

Why: a person playing a fisher (viz's human mode) or any recorded run leaves an episode
file, not a policy the probes can put in set-up scenes. What a file does allow is the
free-rollout side of the card, measured exactly as `agents.rollout.run_policy` and
`analysis.survival.free_rollout` measure a policy:

- meals per fisher per day (survival's headline);
- empty reels per waiting fisher-tick (a line out, no bite showing, a living fisher);
- the share of living fishers' storm ticks spent in a shelter (the weather of a tick is the
  one its step ran under: the frame after the step);
- the fish richness of cast cells (knowing fish's headline): fish of the cell each cast
  landed on over the mean fish under every fishing spot's line at that frame's tide (as
  `analysis.knowing_fish` scores a policy's casts). The fish field is stored
  every `fish_every` ticks, so each cast is scored on the latest snapshot at or before it
  (at most fish_every - 1 ticks old); None when the episode has no cast.

One episode is one unit: `episode_metrics` gives point values; `episodes_card` puts several
episodes (the units) into skill-card entries with bootstrap intervals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from analysis.scenes import spots_of
from analysis.stats import bootstrap_interval
from sim import terrain as T
from sim.record import Episode, load_episode


def episode_metrics(episode: Episode | str | Path) -> dict:
    """The free-rollout metrics of one recorded episode (an Episode or a path to one)."""
    ep = episode if isinstance(episode, Episode) else load_episode(episode)
    params = ep.meta["params"]
    day = float(params["time"]["day_length"])
    ticks = ep.n_ticks
    f = ep.n_fishers
    acted = ep.alive[:-1]  # living fishers before each step
    ate = ep.event_mask("ate")[1:]
    waiting = (ep.line[:-1] & (ep.bite[:-1] == 0) & acted).sum()
    reel_empty = ep.event_mask("reeled_empty")[1:].sum()
    storm_index = list(ep.meta["weather_states"]).index("storm")
    storm_ticks = ((ep.weather[1:] == storm_index)[:, None] & acted).sum()
    sheltered = ep.event_mask("sheltered")[1:].sum()
    reach = int(params["fishing"]["cast_reach"])
    flats = getattr(ep, "flats", None)  # tidal flats (episode format 2): dry shore at low tide
    low = getattr(ep, "low_tide", None)
    fish_at, chance_at = [], []
    for i, j in zip(*np.nonzero(ep.event_mask("cast")[1:]), strict=True):
        frame = i + 1
        terrain = ep.terrain
        if flats is not None and low is not None and bool(low[frame]):
            terrain = np.where(flats, np.int8(T.SHORE), terrain)
        spots = spots_of(terrain, reach)
        field = ep.fish_at(int(ep.tick[frame])).astype(np.float64)
        fish_at.append(field[ep.line_row[frame, j], ep.line_col[frame, j]])
        chance_at.append(field[spots.line_row, spots.line_col].mean())
    days = ticks / day if ticks else float("nan")
    return {
        "path": ep.path, "world": ep.world, "policy": ep.meta.get("policy", ""), "ticks": int(ticks),
        "n_fishers": int(f), "meals": int(ate.sum()),
        "meals_per_day": float(ate.sum() / f / days) if ticks else None,
        "deaths": int(ep.event_mask("starved")[1:].sum()),
        "reel_empty_rate": float(reel_empty / waiting) if waiting else None,
        "storm_ticks": int(storm_ticks),
        "storm_sheltered": float(sheltered / storm_ticks) if storm_ticks else None,
        "casts": len(fish_at),
        "cast_richness": float(np.sum(fish_at) / np.sum(chance_at)) if fish_at and np.sum(chance_at) > 0
        else None,
        "mean_hunger": float(ep.hunger[1:][ep.alive[1:]].mean()) if ep.alive[1:].any() else None,
    }


def episodes_card(episodes: list[Episode | str | Path], seed: int = 0) -> dict:
    """Skill-card entries (survival, knowing fish) from several episodes, each one unit of the interval.

    Returns {"skills": {"survival": {...}, "knowing_fish": {...}}, "episodes": [episode_metrics ...],
    "storm_sheltered": {...}, "reel_empty_rate": {...}}: the same keys as `analysis.probe`'s card.
    """
    rows = [episode_metrics(e) for e in episodes]

    def iv(key: str) -> dict:
        return bootstrap_interval([np.nan if r[key] is None else r[key] for r in rows], seed=seed).to_dict()

    return {
        "skills": {
            "survival": {**iv("meals_per_day"), "unit": "meals per fisher per day", "higher_is": "better",
                         "summary": f"{len(rows)} recorded episode(s)"},
            "knowing_fish": {**iv("cast_richness"), "unit": "fish at cast cells / chance",
                             "higher_is": "better", "summary": f"{sum(r['casts'] for r in rows)} casts"},
        },
        "storm_sheltered": iv("storm_sheltered"),
        "reel_empty_rate": iv("reel_empty_rate"),
        "episodes": rows,
    }
