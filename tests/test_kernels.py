"""The core's plumbing: the kernels' tables are named from the world's parameters, the state
reaches the kernels as itself, the observation kernel writes every value, and the modules
of sim/ import one another without a circle (each only from below).

The rules themselves are tested in test_rules.py and the trajectories in
test_core_regression.py; these tests guard the structure those rely on.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from sim import fish as FI
from sim import fishers as FS
from sim import kernels as K
from sim import weather as W
from sim.core import Simulation
from sim.observe import OBS_SIZE, observe
from sim.state import State
from sim.step import StepResult, kernel_codes
from worlds.loader import load_world

SIM = Path(__file__).resolve().parents[1] / "sim"


def sim_imports() -> dict[str, set[str]]:
    """module -> the sim modules it imports (anywhere in it, TYPE_CHECKING blocks included)."""
    names = {p.stem for p in SIM.glob("*.py")} - {"__init__", "__main__"}
    graph = {}
    for name in names:
        found = set()
        for node in ast.walk(ast.parse((SIM / f"{name}.py").read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sim":
                parts = node.module.split(".")
                found |= {parts[1]} if len(parts) > 1 else {a.name for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("sim.")}
        graph[name] = found & names
    return graph


def test_sim_modules_import_one_another_without_a_circle():
    graph = sim_imports()
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            cycle = path[path.index(name):] + (name,)
            pytest.fail(f"sim imports in a circle: {' -> '.join(cycle)}")
        if name in done:
            return
        for dep in sorted(graph[name]):
            visit(dep, path + (name,))
        done.add(name)

    for name in sorted(graph):
        visit(name, ())
    # the state sits below the rules that take it
    assert graph["state"] <= {"kernels", "batch"}
    assert "state" in graph["tide"] and "state" in graph["fishers"]


def test_the_kernels_receive_the_states_own_arrays_by_name():
    sim = Simulation("lake", n_fishers=2, seeds=[3, 4])
    arrays = sim.state.arrays()
    assert K.StateArrays._fields == tuple(f.name for f in dataclasses.fields(State))
    assert all(a is getattr(sim.state, name) for name, a in zip(K.StateArrays._fields, arrays, strict=True))
    assert K.StepOut._fields == tuple(f.name for f in dataclasses.fields(StepResult))


def test_the_tables_hold_each_worlds_parameters_under_their_names():
    worlds = [load_world("lake"), load_world("pond"), load_world("lake"), load_world("coast")]
    sim = Simulation(worlds, n_fishers=1, seeds=[0, 1, 2, 3])
    b, p = sim.batch, sim.batch.p
    kind = b.kind_high  # the worlds' own kinds (a tidal world's low tide is another kind)
    fishers, weather = FS.kernel_table(b), W.kernel_table(b)
    assert len(fishers) == b.kind_low.max() + 1 > len(set(kind.tolist()))  # one record per kind, tides too
    assert (fishers["hunger_rate"][kind] == p.hunger_rate).all()
    assert (fishers["spawn_hunger_high"][kind] == p.hunger_spawn[:, 1]).all()
    assert (fishers["cast_reach"][b.kind_low] == p.fishing_cast_reach).all()
    assert (weather["dwell_span"][kind] == p.weather_dwell[..., 1] - p.weather_dwell[..., 0] + 1).all()
    assert weather["next_cumulative"].shape[1:] == (4, 4)
    assert np.allclose(weather["next_cumulative"][kind][..., -1], 1.0)
    fish = FI.cell_table(b)
    box = FI.water_box(b)
    assert fish.shape[1:] == (box.rows[1] - box.rows[0], box.cols[1] - box.cols[0])
    assert FI.kernel_table(b)["strength"].shape[1:] == (4, 2)
    # low tide: the coast's flats hold no water (and the lake never changes)
    assert fish["water"][b.kind_low[3]].sum() < fish["water"][kind[3]].sum()
    assert (fish["water"][b.kind_low[0]] == fish["water"][kind[0]]).all()
    codes = kernel_codes()[0]
    assert (codes["cast"], codes["reel"], codes["n_actions"]) == (FS.CAST, FS.REEL, FS.N_ACTIONS)


@pytest.mark.parametrize("world", ["lake", "pond", "river", "coast", "ice", "mirror"])
def test_observe_writes_every_value(world):
    sim = Simulation([world, world], n_fishers=3, seeds=[5, 6])
    rng = np.random.default_rng(0)
    for _ in range(60):
        sim.step(rng.integers(0, FS.N_ACTIONS, size=(2, 3)))
    out = np.full((2, 3, OBS_SIZE), np.nan, dtype=np.float32)
    observe(sim.state, sim.batch, out=out)
    assert not np.isnan(out).any()
    assert np.array_equal(out, sim.observe())


def test_a_new_map_size_compiles_nothing_new():
    """Table types do not depend on a map's size (a field's shape is part of numba's type), so
    worlds of any size run on the kernels compiled once."""
    Simulation("lake", n_fishers=2, seeds=[1]).step(np.zeros((1, 2), np.int64))
    before = len(K.step.signatures)
    sim = Simulation("pond", n_fishers=2, seeds=[1])
    assert FI.water_box(sim.batch).rows != FI.water_box(Simulation("lake", seeds=[1]).batch).rows
    sim.step(np.zeros((1, 2), np.int64))
    assert len(K.step.signatures) == before
