"""The world generator and the named suites: deterministic, valid, fully data-driven, and each
archetype what it claims to be (issue 14: a generator of ecologies, not of lakes)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections import Counter
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from sim.core import Simulation
from sim.terrain import DEEP, ICE, REEDS, SHELTER, WALKABLE, WATER
from worlds import generator
from worlds.census import main as census_main
from worlds.census import survey
from worlds.generator import ARCHETYPES, generate_world, parse_generated_spec, plan_world
from worlds.loader import WorldFileError, list_worlds, load_world
from worlds.playable import check_playable
from worlds.registry import expand
from worlds.suites import list_suites, load_suite
from worlds.terrain import components

SAMPLE = range(200)
ROOT = Path(__file__).resolve().parents[1]


@cache
def _world(seed: int):
    return load_world(f"generated:{seed}")


@pytest.mark.parametrize("seed", range(12))
def test_generated_worlds_are_valid_and_runnable(seed):
    world = load_world(f"generated:{seed}")
    assert np.isin(world.terrain, WATER).any()
    assert (world.terrain == SHELTER).any()
    sim = Simulation(world, 3, seeds=[seed])
    for t in range(50):
        sim.step(np.full((1, 3), t % 8))
    assert sim.observe().shape[-1] == Simulation("lake", 1).observe().shape[-1]


def test_every_archetype_appears_in_200_seeds_and_so_does_every_regime():
    plans = [plan_world(s) for s in SAMPLE]
    counts = Counter(p.archetype for p in plans)
    assert set(counts) == set(ARCHETYPES) == {"lake", "pond", "river", "coast", "islands", "fjord", "marsh",
                                              "ice"}
    assert min(counts.values()) >= 10, counts
    for key, names in (("storms", generator.STORMS), ("warning", generator.WARNINGS),
                       ("severity", generator.SEVERITIES), ("fish", generator.ABUNDANCES),
                       ("motion", generator.MOTIONS), ("bites", ("lake", "mirror")),
                       ("shelters", generator.LAYOUTS)):
        assert {p.regimes[key] for p in plans} == set(names), key
    sizes = {p.size for p in plans}
    assert len(sizes) > 50 and max(h * w for h, w in sizes) <= 20 * 30  # one pool pads to its biggest


def test_200_generated_worlds_load_and_are_playable():
    for seed in SAMPLE:
        world = _world(seed)
        check_playable(world, world.source)
        assert world.shape == plan_world(seed).size


def _touches(mask: np.ndarray) -> dict[str, bool]:
    return {"north": mask[0].any(), "south": mask[-1].any(), "west": mask[:, 0].any(),
            "east": mask[:, -1].any()}


def _is_what_it_claims(world, archetype: str) -> None:
    """A cheap property per archetype (and the mechanisms only the right archetypes have)."""
    t, p = world.terrain, world.params
    water, walk = np.isin(t, WATER), np.isin(t, WALKABLE)
    n_water = len(np.unique(components(water)[water]))
    assert (p.fish.current != "none") == (archetype == "river") and (p.fish.current_rate > 0) == (
        archetype == "river")
    assert (p.tide.period > 0) == (world.flats is not None) == (archetype == "coast")
    assert (t == ICE).any() == (archetype == "ice")
    if archetype == "river":  # it crosses the map the way it flows
        across = ("west", "east") if p.fish.current in ("east", "west") else ("north", "south")
        assert all(_touches(water)[side] for side in across)
    elif archetype == "coast":  # a sea along one whole edge, behind a line of flats
        edges = (water[0], water[-1], water[:, 0], water[:, -1])
        assert any(edge.all() for edge in edges) and world.flats.sum() >= min(t.shape)
    elif archetype == "islands":  # the sea surrounds all land
        border = np.ones_like(walk)
        border[1:-1, 1:-1] = False
        assert not (walk & border).any() and walk.any()
    elif archetype == "fjord":  # long and narrow: from one edge along the long side, at most 4 wide
        long_axis = 1 if t.shape[1] >= t.shape[0] else 0
        assert max(t.shape) >= 1.5 * min(t.shape)
        assert water.sum(axis=1 - long_axis).max() <= 4  # any cross-section
        assert water.any(axis=1 - long_axis).sum() >= 0.6 * t.shape[long_axis]
        assert n_water == 1 and sum(_touches(water).values()) == 1
    elif archetype == "marsh":  # many pools, thick with reeds, hardly any deep water
        assert n_water >= 3 and water.sum() / n_water <= 20
        assert (t == REEDS).sum() >= 0.15 * water.sum() and not (t == DEEP).any()  # 60% on average
    elif archetype == "ice":  # holes in the ice: no water beside water, little water at all
        padded = np.pad(water, 1)
        beside = padded[:-2, 1:-1] | padded[2:, 1:-1] | padded[1:-1, :-2] | padded[1:-1, 2:]
        assert not (water & beside).any()
        assert water.sum() <= 0.1 * (t == ICE).sum()
    elif archetype == "pond":  # several small ponds that empty fast
        assert n_water >= 2 and not any(_touches(water).values()) and p.fish.regrowth <= 0.02
    elif archetype == "lake":
        assert 1 <= n_water <= 3 and not any(_touches(water).values()) and (t == DEEP).any()


def test_each_archetype_is_what_it_claims():
    for seed in SAMPLE:
        _is_what_it_claims(_world(seed), plan_world(seed).archetype)


def test_shelters_are_near_the_rich_water_but_beside_no_spot():
    """A storm must be worth seeing coming: no fishing spot has a shelter a step away (save in the
    rare patch too small for more), yet one is a few steps from the richest water."""
    for seed in SAMPLE:
        s = survey(_world(seed))
        assert s.spot_near <= 0.15 and s.spot_median >= 2, (seed, s)
        assert s.rich <= 6, (seed, s)


def test_storm_danger_comes_from_the_lake_scaled_mildly(monkeypatch):
    lake = generator._template("lake")
    for seed in SAMPLE:
        data = plan_world(seed).data
        assert 0.7 <= data["hunger"]["storm_multiplier"] / lake["hunger"]["storm_multiplier"] <= 1.4
        assert set(data["storm"]) == set(lake["storm"])
        squall = lake["storm"].get("squall_ticks", 0)  # the squall flows through, inside the warning
        assert data["storm"].get("squall_ticks", 0) == squall < data["weather"]["lead"][0]
    # a new [storm] field in the lake's file flows into every generated world unchanged
    original = generator._template

    def with_squall(name: str) -> dict:
        data = original(name)
        return {**data, "storm": {**data["storm"], "squall_lead": 7}} if name == "lake" else data

    monkeypatch.setattr(generator, "_template", with_squall)
    assert all(plan_world(s).data["storm"]["squall_lead"] == 7 for s in range(8))


def test_bite_rules_and_templates_are_the_shipped_worlds():
    mirror, lake = generator._template("mirror"), generator._template("lake")
    for seed in range(60):
        plan = plan_world(seed)
        bites = plan.data["bites"]
        assert bites == (mirror if plan.regimes["bites"] == "mirror" else
                         generator._template(generator.TEMPLATES[plan.archetype]))["bites"]
        assert bites["weather"]["storm"] == lake["bites"]["weather"]["storm"] == 0.0


def _digest(world) -> str:
    flats = b"" if world.flats is None else world.flats.tobytes()
    return hashlib.sha256(world.terrain.tobytes() + flats + repr(world.params).encode()).hexdigest()[:16]


def test_same_seed_same_world_everywhere_and_different_seeds_differ():
    a, b, c = generate_world(5), generate_world(5), generate_world(6)
    assert np.array_equal(a.terrain, b.terrain) and a.params == b.params
    assert not np.array_equal(a.terrain, c.terrain) or a.params != c.params
    # at its natural size, a seed with a SIZE is the same world
    h, w = plan_world(5).size
    assert _digest(load_world(f"generated:5:{h}x{w}")) == _digest(a)
    # another process, another hash seed: the same worlds
    code = ("import hashlib; from worlds.loader import load_world\n"
            "def _digest(world):\n"
            "    flats = b'' if world.flats is None else world.flats.tobytes()\n"
            "    data = world.terrain.tobytes() + flats + repr(world.params).encode()\n"
            "    return hashlib.sha256(data).hexdigest()[:16]\n"
            "print(' '.join(_digest(load_world(f'generated:{s}')) for s in (0, 5, 77)))")
    env = {**os.environ, "PYTHONHASHSEED": "123", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                         check=True).stdout.split()
    assert out == [_digest(load_world(f"generated:{s}")) for s in (0, 5, 77)]


def test_generated_worlds_are_cheap_to_build():
    start = time.perf_counter()
    for seed in range(1000, 1050):
        generate_world(seed)
    assert (time.perf_counter() - start) / 50 < 0.1  # about 10 ms each: pools of 1000 in ~10 s


@pytest.mark.parametrize("size", [(10, 10), (12, 12), (20, 31), (40, 12), (128, 128)])
def test_generator_sizes(size):
    for seed in range(8):  # at least one of most archetypes, on maps they were not drawn for
        world = generate_world(seed, size)
        assert world.shape == size
        check_playable(world, world.source)


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
    assert set(load_suite("held_out")) <= set(list_worlds())  # the held-out suite keeps hand-made worlds
    gen_train, gen_held = set(load_suite("generated_train")), set(load_suite("generated_held_out"))
    assert len(gen_train) >= 1000 and not gen_train & gen_held
    assert set(expand("suite:generated_train")) == gen_train and not gen_train & (train | held_out)
    with pytest.raises(WorldFileError, match="suite"):
        load_suite("nope")


def test_census_command_counts_every_archetype(tmp_path, capsys):
    out = tmp_path / "census.md"
    assert census_main(["--seeds", "0..39", "--markdown", str(out)]) == 0
    text = out.read_text()
    assert text.strip() == capsys.readouterr().out.strip()
    for archetype in ARCHETYPES:
        assert f"| {archetype} |" in text
    with pytest.raises(SystemExit):
        census_main(["--seeds", "9..3"])
