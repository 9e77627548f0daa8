"""The ecosystem study's unit of work: one (fishers, regrowth) cell of a Mesa sweep.

The lake is also a commons: more fishers eat more until they empty it, and how fast the
fish grow back decides where that happens. `sweep_cell` runs `mesa.batch_run` through
`SweepModel` (sim.model.FisherModel with the world's fish regrowth as a parameter) over
`"seed": range(replicates)` with `iterations=1`: Mesa repeats a fixed seed exactly, so
distinct replicates need distinct seeds (API_NOTES, Mesa batch_run). Every cell uses
the same seeds, so cells differ only in what the sweep changes.
"""

from __future__ import annotations

from typing import Any

import mesa

from sim.model import FisherModel
from worlds.loader import load_world, override_world


class SweepModel(FisherModel):
    """FisherModel with `regrowth` (fish.regrowth of the world) and stock reporters."""

    def __init__(self, world: str = "lake", n_fishers: int = 4, regrowth: float | None = None,
                 policy: str = "scripted:expert", seed: int | None = None, respawn: bool = True):
        w = load_world(world)
        if regrowth is not None:
            w = override_world(w, {"fish.regrowth": float(regrowth)})
        super().__init__(world=w, n_fishers=n_fishers, policy=policy, seed=seed, respawn=respawn)
        self.stock0 = max(self.fish_stock, 1e-9)
        self.min_stock = self.fish_stock
        self.datacollector = mesa.DataCollector(model_reporters={
            "ticks": "tick", "stock_ratio": lambda m: m.fish_stock / m.stock0,
            "min_stock_ratio": lambda m: m.min_stock / m.stock0, "total_meals": "total_meals",
            "deaths": "deaths", "alive": "n_alive"})
        self.datacollector.collect(self)

    def step(self) -> None:
        super().step()
        self.min_stock = min(self.min_stock, self.fish_stock)


def sweep_cell(world: str, fishers: int, regrowth: float, replicates: int, ticks: int, policy: str,
               respawn: bool) -> dict[str, Any]:
    """Replicates of one cell: per-replicate stock and feeding figures (lists, one per seed)."""
    rows = mesa.batch_run(SweepModel, parameters={"world": world, "n_fishers": fishers, "regrowth": regrowth,
                                                  "policy": policy, "respawn": respawn,
                                                  "seed": range(replicates)},
                          iterations=1, max_steps=ticks, data_collection_period=-1, number_processes=1,
                          display_progress=False)
    by_seed = {}
    for row in rows:  # one row per run (no agent reporters)
        by_seed[int(row["seed"])] = row
    day_length = load_world(world).params.time.day_length
    out: dict[str, list] = {"seed": [], "ticks": [], "stock_ratio": [], "min_stock_ratio": [],
                            "meals_per_fisher_day": [], "deaths_per_fisher": [], "alive_share": []}
    for seed in sorted(by_seed):
        r = by_seed[seed]
        days = max(int(r["ticks"]), 1) / day_length
        out["seed"].append(seed)
        out["ticks"].append(int(r["ticks"]))
        out["stock_ratio"].append(float(r["stock_ratio"]))
        out["min_stock_ratio"].append(float(r["min_stock_ratio"]))
        out["meals_per_fisher_day"].append(float(r["total_meals"]) / fishers / days)
        out["deaths_per_fisher"].append(float(r["deaths"]) / fishers)
        out["alive_share"].append(float(r["alive"]) / fishers)
    return out
