"""The world generator and the named suites: deterministic, valid, and fully data-driven."""

from __future__ import annotations

import numpy as np
import pytest

from sim.core import Simulation
from sim.terrain import SHELTER, WATER
from worlds.generator import generate_world, parse_generated_spec
from worlds.loader import WorldFileError, list_worlds, load_world
from worlds.suites import list_suites, load_suite


@pytest.mark.parametrize("seed", range(12))
def test_generated_worlds_are_valid_and_runnable(seed):
    world = load_world(f"generated:{seed}")
    assert np.isin(world.terrain, WATER).any()
    assert (world.terrain == SHELTER).any()
    sim = Simulation(world, 3, seeds=[seed])
    for t in range(50):
        sim.step(np.full((1, 3), t % 8))
    assert sim.observe().shape[-1] == Simulation("lake", 1).observe().shape[-1]


def test_same_seed_same_world_and_different_seeds_differ():
    a, b, c = generate_world(5), generate_world(5), generate_world(6)
    assert np.array_equal(a.terrain, b.terrain) and a.params == b.params
    assert not np.array_equal(a.terrain, c.terrain) or a.params != c.params


@pytest.mark.parametrize("size", [(12, 12), (20, 31), (128, 128)])
def test_generator_sizes(size):
    assert generate_world(1, size).shape == size


def test_bad_generated_specs_name_the_problem():
    for spec in ("generated:x", "generated:1:2:3", "generated"):
        with pytest.raises(WorldFileError, match="generated"):
            load_world(spec)
    with pytest.raises(WorldFileError, match="size"):
        generate_world(1, (5, 400))
    assert parse_generated_spec("generated:7:16x20") == {"seed": 7, "size": (16, 20)}


def test_suites_are_data_and_disjoint():
    assert {"train", "held_out"} <= set(list_suites())
    train, held_out = set(load_suite("train")), set(load_suite("held_out"))
    assert train and held_out and not train & held_out
    assert set(load_suite("held_out")) <= set(list_worlds())
    gen_train, gen_held = set(load_suite("generated_train")), set(load_suite("generated_held_out"))
    assert len(gen_train) >= 1000 and not gen_train & gen_held
    with pytest.raises(WorldFileError, match="suite"):
        load_suite("nope")
