"""A plain Mesa 3 model of a same-size fishing world: the baseline for benchmarks.core.

This is how an agent-based modeller would typically write a small fishery in Mesa 3,
without the hungry-fisher core: a grid with the lake's map, a per-cell fish value that
regrows logistically toward a per-cell capacity (a `PropertyLayer`, updated with
numpy), and `CellAgent` fishers stepped in random order (`shuffle_do`) that walk
randomly on land, fish an adjacent water cell with a chance that grows with its fish,
get hungrier every tick, eat what they catch, and are replaced when they starve.

It does less than the core on purpose (no weather, no lines or bites, no observations),
so the comparison flatters Mesa, not us.
"""

from __future__ import annotations

import mesa
import numpy as np
from mesa.discrete_space import CellAgent, OrthogonalVonNeumannGrid

from sim import terrain as T
from worlds.loader import World, load_world

CAPACITY = {T.SHALLOW: 2.0, T.DEEP: 4.0, T.REEDS: 8.0}  # the lake's fish capacities
REGROWTH = 0.05
P_CATCH = 0.12
DENSITY_REF = 4.0
HUNGER_RATE = 0.01
MEAL = 0.5


class BaselineFisher(CellAgent):
    """Walks randomly, fishes adjacent water, eats when it catches, starves at hunger 1."""

    def __init__(self, model: BaselineModel, cell):
        super().__init__(model)
        self.cell = cell
        self.hunger = float(self.rng.uniform(0.2, 0.5))
        self.meals = 0

    def step(self) -> None:
        water = [c for c in self.cell.neighborhood if c.water]
        if water and self.random.random() < 0.5:
            spot = self.random.choice(water)
            if spot.fish >= 1 and self.random.random() < P_CATCH * min(spot.fish / DENSITY_REF, 2.0):
                spot.fish = spot.fish - 1.0
                self.meals += 1
                self.hunger = max(self.hunger - MEAL, 0.0)
        else:
            walkable = self.cell.neighborhood.select(lambda c: c.walkable)
            if len(walkable) > 0:
                self.cell = walkable.select_random_cell()
        self.hunger = min(self.hunger + HUNGER_RATE, 1.0)
        if self.hunger >= 1.0:  # starved: a new fisher takes its place
            self.model.deaths += 1
            self.hunger, self.meals = float(self.rng.uniform(0.2, 0.5)), 0


class BaselineModel(mesa.Model):
    """A grid the size of `world` (the lake by default) with `n_fishers` random fishers."""

    def __init__(self, n_fishers: int = 4, world: str | World = "lake", seed: int | None = None):
        super().__init__(seed=seed)
        world = world if isinstance(world, World) else load_world(world)
        terrain = np.asarray(world.terrain)
        self.grid = OrthogonalVonNeumannGrid(terrain.shape, torus=False, random=self.random)
        capacity = np.zeros(terrain.shape)
        for code, cap in CAPACITY.items():
            capacity[terrain == code] = cap
        self.capacity = capacity
        self.grid.create_property_layer("fish", default_value=0.0, dtype=float)
        self.grid.fish.data[:] = capacity
        self.grid.create_property_layer("water", default_value=False, dtype=bool)
        self.grid.water.data[:] = capacity > 0
        self.grid.create_property_layer("walkable", default_value=False, dtype=bool)
        self.grid.walkable.data[:] = np.isin(terrain, T.WALKABLE)
        self.deaths = 0
        land = self.grid.all_cells.select(lambda c: c.walkable)
        cells = [land.select_random_cell() for _ in range(n_fishers)]
        BaselineFisher.create_agents(self, n_fishers, cell=cells)

    def step(self) -> None:
        self.agents.shuffle_do("step")
        fish = self.grid.fish.data
        growth = REGROWTH * fish * (1.0 - np.divide(fish, self.capacity, out=np.ones_like(fish),
                                                    where=self.capacity > 0))
        fish += growth

    @property
    def fish_stock(self) -> float:
        return float(self.grid.fish.data.sum())
