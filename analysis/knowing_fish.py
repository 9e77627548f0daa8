"""Knowing the fish: how much richer the water a fisher fishes is than chance, in free rollouts.

At every cast of a free rollout (`analysis.survival.free_rollout`) the ground truth gives the
fish of the cell the line lands on, and chance: the mean fish under the line of every
fishing spot (cell and facing from which a cast lands on water, `analysis.scenes.spots_now`,
at that tick's tide), the water a fisher casting from a spot drawn at random would fish.
Each reachable cell is weighted by the number of spots that reach it, as a caster's line
would be; tidal flats count only while they are water. Per world: richness = sum of fish
at its casts / sum of chance at those casts (1 = chance, 2 = twice as rich), and the mean
rank of the cast cell among the spots' cells (0.5 = chance). The headline is the richness,
with a bootstrap interval over worlds, beside a random fisher's richness in the same worlds
(same seeds), and the paired difference.

Validated on scripted fishers (tests/test_probes_behaviour.py): spot_wise (reads ripples,
moves to richer water) scores well above chance and above random; random scores near 1
(a random walker does not draw spots quite uniformly: it stays near where it spawned).
"""

from __future__ import annotations

import numpy as np

from analysis.stats import Interval, bootstrap_interval, paired_bootstrap_interval


def per_world(rec: dict) -> dict[str, np.ndarray]:
    """Per-world richness, rank and count of casts from a free rollout's casts (NaN: no cast)."""
    casts = rec["casts"]
    n = rec["n_worlds"]
    richness, rank, count = np.full(n, np.nan), np.full(n, np.nan), np.zeros(n, dtype=np.int64)
    for b in range(n):
        c = casts[casts[:, 0] == b]
        count[b] = len(c)
        if len(c) and c[:, 2].sum() > 0:
            richness[b] = c[:, 1].sum() / c[:, 2].sum()
            rank[b] = c[:, 3].mean()
    return {"richness": richness, "rank": rank, "casts": count}


def probe_knowing_fish(rec: dict, random_rec: dict | None = None, seed: int = 0) -> dict:
    """The knowing-fish probe from a free rollout (and a random fisher's in the same worlds)."""
    mine = per_world(rec)
    rich = bootstrap_interval(mine["richness"], seed=seed)
    details: dict = {
        "casts": int(mine["casts"].sum()), "worlds_with_casts": int((mine["casts"] > 0).sum()),
        "richness": rich.to_dict(), "rank": bootstrap_interval(mine["rank"], seed=seed).to_dict(),
        "per_world_richness": [None if np.isnan(x) else round(float(x), 4) for x in mine["richness"]],
        "chance": {"richness": 1.0, "rank": 0.5},
    }
    vs: Interval | None = None
    if random_rec is not None:
        rnd = per_world(random_rec)
        both = ~np.isnan(mine["richness"]) & ~np.isnan(rnd["richness"])
        vs = paired_bootstrap_interval(mine["richness"][both], rnd["richness"][both], seed=seed)
        details["random"] = {"richness": bootstrap_interval(rnd["richness"], seed=seed).to_dict(),
                             "rank": bootstrap_interval(rnd["rank"], seed=seed).to_dict(),
                             "casts": int(rnd["casts"].sum())}
        details["vs_random"] = vs.to_dict()
    if rich.n == 0:
        summary = "never cast: no fished cells to score"
    else:
        summary = (f"fishes water {rich.value:.2f}x [{rich.low:.2f}, {rich.high:.2f}] as rich as chance "
                   f"(rank {details['rank']['value']:.2f}, chance 0.5)")
        if vs is not None and vs.n:
            summary += f"; {vs.value:+.2f} [{vs.low:+.2f}, {vs.high:+.2f}] vs a random fisher"
        elif vs is not None:
            summary += "; no world where a random fisher cast to compare with"
    card = {**rich.to_dict(), "unit": "fish at cast cells / chance", "higher_is": "better",
            "statistic": "mean", "per_unit": mine["richness"], "paired_over": "worlds",  # for paired verdicts
            "summary": summary}
    return {"card": card, "details": details}
